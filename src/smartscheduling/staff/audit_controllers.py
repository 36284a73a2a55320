"""``/staff/audit``: the whole business's audit log, for privacy officers and
administrators, filterable by person, staff member, action and date."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.plugins.htmx import HTMXTemplate

from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import describe
from smartscheduling.scheduling.availability import local_instant
from smartscheduling.scheduling.booking_controllers import TimeZones
from smartscheduling.staff.audit_log import AuditFilter, AuditLogService
from smartscheduling.staff.controllers import Businesses

AuditLog = NamedDependency[AuditLogService]


class AuditController(Controller):
    path = "/staff/audit"
    guards = [requires_role(Role.PRIVACY_OFFICER)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-audit")
    async def show(
        self,
        *,
        audit_log: AuditLog,
        businesses: Businesses,
        person: Annotated[str, QueryParameter(name="person", max_length=100)] = "",
        staff_id: Annotated[uuid.UUID | None, QueryParameter(name="staff")] = None,
        action: Annotated[str, QueryParameter(name="action", max_length=64)] = "",
        first: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
        last: Annotated[datetime.date | None, QueryParameter(name="to")] = None,
        before: Annotated[uuid.UUID | None, QueryParameter(name="before")] = None,
    ) -> HTMXTemplate:
        """Newest first, 50 a page (``before``: the last event shown); days are the
        business's."""
        business = await businesses.current()
        zone = ZoneInfo(business.time_zone)
        wanted = AuditFilter(
            person=person, region=business.country, staff_id=staff_id, action=action,
            since=local_instant(first, 0, zone) if first else None,
            until=local_instant(last + datetime.timedelta(days=1), 0, zone) if last else None,
        )  # fmt: skip
        context = {
            "page": await audit_log.page(wanted, before=before), "actions": await audit_log.actions(),
            "staff": await audit_log.staff(), "describe": describe, "zones": TimeZones.of(business, None),
            "filters": {"person": person, "staff": str(staff_id or ""), "action": action,
                        "from": first.isoformat() if first else "", "to": last.isoformat() if last else ""},
            "Role": Role,
        }  # fmt: skip
        return HTMXTemplate(template_name="staff/audit.html", context=context)
