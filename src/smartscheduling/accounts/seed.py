"""Demo accounts for development: one of each role, with known passwords."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.accounts.services import AccountService
from smartscheduling.config import Settings
from smartscheduling.security.passwords import PasswordHasher

DEMO_USERS: tuple[tuple[Role, str, str, str], ...] = (
    (Role.CLIENT, "client@example.com", "Casey Client", "demo client pass 2026"),
    (Role.STAFF, "staff@example.com", "Sam Staff", "demo staff pass 2026"),
    (Role.PRIVACY_OFFICER, "privacy@example.com", "Pat Privacy-Officer", "demo privacy pass 2026"),
    (Role.ADMIN, "admin@example.com", "Alex Admin", "demo admin pass 2026"),
)


def credentials() -> list[str]:
    return [
        "Demo sign-ins (development only):",
        *(f"  {role.label:<16} {email:<22} {password}" for role, email, _, password in DEMO_USERS),
    ]


async def seed_demo_users(session: AsyncSession, settings: Settings) -> list[str]:
    hasher = PasswordHasher(settings.password_iterations, settings.password_hash_concurrency)
    accounts = AccountService(session, settings, hasher)
    existing = set(await session.scalars(select(User.email).where(User.email.in_([u[1] for u in DEMO_USERS]))))
    for role, email, name, password in DEMO_USERS:
        if email not in existing:
            await accounts.create_user(email=email, name=name, password=password, role=role)
    return credentials()
