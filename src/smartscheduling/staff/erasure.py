"""Deleting or anonymizing one client, by a privacy officer or an administrator; staff
ask them to. Both run the personal-data registry's erasure (the engine of self-service
closure; an account holder's account is closed by that same path) in one transaction:
all of it, or on any failure nothing.

- *Anonymize*: everything that identifies the person goes; their appointments stay as
  an anonymous client's (service, staff, time, price, status), so the business's
  figures do not change. Upcoming ones are cancelled first, as at closure.
- *Delete*: everything about them goes, their appointments too.

The audit event names the staff member, what was done and why, never the person: the
reason is kept with the person's name, addresses and phone number taken out.
"""

from __future__ import annotations

import datetime
import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.models import User, digits, folded
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor, record
from smartscheduling.personal_data import Erasure, Registry
from smartscheduling.personal_data.erasure import erase_person
from smartscheduling.profile.services import close_account_of

REQUESTED = "client.erasure_requested"
#: What stands in for the person in a reason staff typed.
REDACTED = "[the client]"
#: A phone number's tail this long, however it is written, is taken out of a reason.
PHONE_TAIL = 6


def redact(text: str, client: User) -> str:
    """``text`` without the person's name (whole, or any word of it of three letters or
    more, with or without its accents), e-mail addresses (or their part before the ``@``)
    or phone number (by its last digits, however spaced)."""
    names = [client.name, folded(client.name)] if client.name else []
    addresses = [value for value in (client.email, client.contact_email) if value]
    locals_ = [address.split("@", 1)[0] for address in addresses]
    words = {word for text in (*names, *locals_) for word in re.split(r"\W+", text) if len(word) >= 3}
    literal = [*names, *addresses]
    patterns = [re.escape(value) for value in sorted(literal, key=len, reverse=True)]
    patterns += [rf"\b{re.escape(word)}\b" for word in words]
    if client.phone and len(tail := digits(client.phone)[-PHONE_TAIL:]) == PHONE_TAIL:
        patterns.append(r"(?:\+?[\d(][\d\s().\-/]*?)?" + r"[\s().\-/]*".join(tail))
    for pattern in patterns:
        text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
    return text


class ErasureService:
    def __init__(self, session: AsyncSession, registry: Registry) -> None:
        self.session = session
        self.registry = registry

    async def erase(
        self, client: User, how: Erasure, *, reason: str, actor: Actor, now: datetime.datetime
    ) -> dict[str, int]:
        """Anonymize or delete the client; rows affected per holding."""
        everything = how is Erasure.DELETE
        had_account, reason = client.has_account, redact(reason, client)
        try:
            if had_account:
                affected = await close_account_of(  # (its event names nobody: no officer's network on it)
                    self.session, self.registry, client, now=now, network=None, everything=everything
                )
            else:
                affected = await erase_person(self.session, self.registry, client.id, now=now, everything=everything)
                self.session.expunge(client)  # its row went by statement
            record(
                self.session, "client.deleted" if everything else "client.anonymized", actor=actor,
                reason=reason, had_account=had_account, rows=sum(affected.values()),
            )  # fmt: skip
            await self.session.commit()
        except BaseException:
            await self.session.rollback()  # at once: the erasure's locks go with it
            raise
        return affected

    async def request(self, client: User, how: Erasure, *, reason: str, actor: Actor) -> None:
        """A staff member asks a privacy officer to anonymize or delete the client (the
        reason kept without the person's identity: the event outlives them, anonymized)."""
        reason = redact(reason, client)
        record(self.session, REQUESTED, actor=actor, subject_id=client.id, how=how.value, reason=reason)
        await self.session.commit()

    async def requests(self, client_id: uuid.UUID) -> list[tuple[AuditEvent, str | None]]:
        """Staff's requests to erase the client (they go with the client), newest first,
        with who asked."""
        statement = (
            select(AuditEvent, User.name)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.action == REQUESTED, AuditEvent.subject_id == client_id)
            .order_by(AuditEvent.occurred_at.desc())
        )
        return [(event, name) for event, name in (await self.session.execute(statement)).all()]
