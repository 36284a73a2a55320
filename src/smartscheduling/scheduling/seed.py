"""The demo business for development databases: a salon in Berlin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.config import Settings
from smartscheduling.scheduling.models import THE_BUSINESS, Business

DEMO_BUSINESS = {
    "name": "Studio Lumen (demo)",
    "time_zone": "Europe/Berlin",
    "country": "DE",
    "subdivision": "BE",
    "currency": "EUR",
    "phone": "+49 30 5550 1234",
    "email": "hello@studio-lumen.example",
}


async def seed_demo_business(session: AsyncSession, settings: Settings) -> list[str]:
    del settings
    if await session.get(Business, THE_BUSINESS) is None:
        business = Business.defaults()
        for name, value in DEMO_BUSINESS.items():
            setattr(business, name, value)
        session.add(business)
        await session.commit()
    return []
