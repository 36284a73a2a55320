"""Demo processors for development databases (reserved ``example`` names, not real companies)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.config import Settings
from smartscheduling.processors.models import Processor

DEMO_PROCESSORS = (
    {
        "name": "Example Cloud Hosting, Inc. (demo)",
        "purpose": "Hosts the application and its database.",
        "data_categories": "Everything the service holds: accounts, profiles, appointments, consent records.",
        "location": "United States (Virginia)",
        "safeguards": "Data processing agreement; encryption in transit and at rest; access limited to our engineers.",
        "website": "https://hosting.example",
    },
    {
        "name": "Example Mail Delivery, LLC (demo)",
        "purpose": "Delivers the e-mails we send you (account, reminders, policy changes).",
        "data_categories": "Your name, e-mail address and the e-mail's text.",
        "location": "United States (Oregon)",
        "safeguards": "Data processing agreement; messages deleted after 30 days.",
        "website": "https://mail.example",
    },
)


async def seed_demo_processors(session: AsyncSession, settings: Settings) -> list[str]:
    del settings
    if not await session.scalar(select(exists().select_from(Processor))):
        session.add_all([Processor(**values) for values in DEMO_PROCESSORS])
        await session.commit()
    return []
