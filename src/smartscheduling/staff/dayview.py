"""The front desk's grids: a day with a column per staff member (``/staff``) and one
staff member's week with a column per day (``/staff/week/{id}``). Rows are wall-clock
times in the business's time zone; each appointment is a cell as many rows tall as it
lasts; time off, breaks, closed days and hours outside work are shaded; an empty row of
working time books at its time.

Rows are a whole number of slot steps and at least a quarter of an hour: each starts on
the booking grid, and each is tall enough to tap. Appointments that do not fit the rows
exactly (a 20-minute service on quarter-hour rows) take every row they touch; two that
touch the same row share one cell, each still its own link with its own times.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from smartscheduling.accounts.models import User
from smartscheduling.scheduling import availability
from smartscheduling.scheduling.booking import LONGEST_OCCUPIED, wall_range
from smartscheduling.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Business,
    ExceptionKind,
    OfferingStaff,
    StaffProfile,
    WorkingHours,
)
from smartscheduling.scheduling.models import Offering as OfferingRow
from smartscheduling.scheduling.services import ClosedDayService, ScheduleService, can_perform

#: The shortest row, in minutes: a one-row cell is a 44-pixel touch target.
SHORTEST_ROW = 15
#: The hours shown when nobody works and nothing is booked.
DEFAULT_HOURS = (9 * 60, 17 * 60)
HOUR = 60


def row_minutes(step: int) -> int:
    """The rows' length: the smallest whole number of slot steps of at least 15 minutes."""
    return step * -(-SHORTEST_ROW // step)


class CellKind(enum.StrEnum):
    FREE = "free"  # working time with nothing booked: booking starts here
    PAST = "past"  # working time that has gone by
    OFF = "off"  # not working: outside hours, a break, time off, a closed day
    BOOKED = "booked"


@dataclass(frozen=True, slots=True)
class Block:
    """An appointment on the grid."""

    appointment: Appointment
    offering: str
    client: User | None  # None: anonymized


@dataclass(slots=True)
class Cell:
    kind: CellKind
    rows: int
    #: The instant its first row starts (UTC).
    start: datetime.datetime
    label: str = ""
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Column:
    staff_id: uuid.UUID | None  # None: appointments of former staff members
    heading: str
    day: datetime.date
    #: Each cell by the index of the row it starts on (the rows it spans have none).
    cells: dict[int, Cell]


@dataclass(frozen=True, slots=True)
class Grid:
    #: Each row's wall-clock minute after midnight.
    minutes: list[int]
    columns: list[Column]

    @staticmethod
    def label(minute: int) -> str:
        return f"{minute // HOUR:02d}:{minute % HOUR:02d}"

    @property
    def booked(self) -> int:
        return sum(len(cell.blocks) for column in self.columns for cell in column.cells.values())


@dataclass(frozen=True, slots=True)
class _Want:
    """A column asked for: whose (``None``: former staff), under which heading, which day."""

    staff_id: uuid.UUID | None
    heading: str
    day: datetime.date


def _wall_minutes(instant: datetime.datetime, day: datetime.date, zone: ZoneInfo) -> int:
    """Where ``instant`` falls on ``day``'s wall clock, clamped to the day (0–1440)."""
    local = instant.astimezone(zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return availability.MINUTES_PER_DAY
    return local.hour * HOUR + local.minute


class DayViewService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def staff(self) -> list[tuple[uuid.UUID, str]]:
        """Who takes appointments (active, performing at least one service), by name."""
        performs = exists().where(OfferingStaff.user_id == User.id)
        statement = (
            select(User.id, StaffProfile.name_of(User))
            .outerjoin(StaffProfile, StaffProfile.user_id == User.id)
            .where(can_perform(), performs)
            .order_by(StaffProfile.name_of(User), User.id)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def day(self, business: Business, day: datetime.date, *, now: datetime.datetime) -> Grid:
        """Everyone's ``day``; staff no longer working get a column while they have appointments on it."""
        wanted = [_Want(staff_id, name, day) for staff_id, name in await self.staff()]
        return await self._grid(business, wanted, None, now=now)

    async def week(
        self, business: Business, staff_id: uuid.UUID, day: datetime.date, *, now: datetime.datetime
    ) -> Grid:
        """``staff_id``'s week (Monday to Sunday) around ``day``."""
        monday = day - datetime.timedelta(days=day.weekday())
        days = [monday + datetime.timedelta(days=n) for n in range(7)]
        wanted = [_Want(staff_id, f"{d:%A} {d.day} {d:%B}", d) for d in days]
        return await self._grid(business, wanted, staff_id, now=now)

    async def _appointments(
        self, zone: ZoneInfo, first: datetime.date, last: datetime.date, staff_id: uuid.UUID | None
    ) -> list[Block]:
        client = aliased(User)
        start = availability.local_instant(first, 0, zone)
        end = availability.local_instant(last, availability.MINUTES_PER_DAY, zone)
        statement = (
            select(Appointment, OfferingRow.name, client)
            .join(OfferingRow, OfferingRow.id == Appointment.offering_id)
            .outerjoin(client, client.id == Appointment.client_id)
            .where(
                Appointment.starts_at < end,
                Appointment.ends_at > start,
                Appointment.starts_at > start - LONGEST_OCCUPIED,  # bounds the index range scanned
                Appointment.status != AppointmentStatus.CANCELLED,
                Appointment.staff_id == staff_id if staff_id is not None else true(),
            )
            .order_by(Appointment.starts_at)
        )
        return [Block(*row) for row in (await self.session.execute(statement)).all()]

    async def _grid(
        self, business: Business, wanted: list[_Want], only: uuid.UUID | None, *, now: datetime.datetime
    ) -> Grid:
        zone = ZoneInfo(business.time_zone)
        first, last = min(w.day for w in wanted), max(w.day for w in wanted)
        blocks = await self._appointments(zone, first, last, only)
        shown = {w.staff_id for w in wanted}
        for former in dict.fromkeys(b.appointment.staff_id for b in blocks if b.appointment.staff_id not in shown):
            wanted.append(_Want(former, await self._former_name(former), first))
        ids = [w.staff_id for w in wanted if w.staff_id is not None]
        weekly: dict[uuid.UUID, dict[int, list[availability.WallInterval]]] = {person: {} for person in ids}
        for row in await self.session.scalars(select(WorkingHours).where(WorkingHours.user_id.in_(ids))):
            weekly[row.user_id].setdefault(row.weekday, []).append(
                availability.WallInterval(row.start_minute, row.end_minute)
            )
        extra: dict[uuid.UUID, dict[datetime.date, list[availability.WallInterval]]] = {person: {} for person in ids}
        time_off: dict[uuid.UUID, list[tuple[datetime.datetime, datetime.datetime, str]]] = {p: [] for p in ids}
        for row in await ScheduleService(self.session).exceptions_between(ids, first, last):
            if row.kind is ExceptionKind.EXTRA_HOURS and row.start_minute is not None and row.end_minute is not None:
                extra[row.user_id].setdefault(row.first_day, []).append(
                    availability.WallInterval(row.start_minute, row.end_minute)
                )
            elif row.kind is ExceptionKind.TIME_OFF:
                time_off[row.user_id].append((*wall_range(row), row.note))
        closed = await ClosedDayService(self.session).closed_between(business, first, last)

        working: list[list[tuple[int, int]]] = []
        away: list[list[tuple[int, int, str]]] = []
        for want in wanted:
            if want.staff_id is None or want.staff_id not in weekly:
                working.append([])
                away.append([])
                continue
            schedule = availability.Schedule(
                weekly=weekly[want.staff_id],
                extra=extra[want.staff_id],
                time_off=[(start, end) for start, end, _ in time_off[want.staff_id]],
            )
            periods = availability.working_periods(schedule, want.day, zone, closed)
            working.append([(_wall_minutes(p.start, want.day, zone), _wall_minutes(p.end, want.day, zone))
                            for p in periods])  # fmt: skip
            away.append(_away_on(time_off[want.staff_id], want.day))

        step = row_minutes(business.slot_step_minutes)
        edges = [m for intervals in working for interval in intervals for m in interval]
        columns_blocks = [
            [b for b in blocks if b.appointment.staff_id == want.staff_id and _on_day(b, want.day, zone)]
            for want in wanted
        ]
        for want, column_blocks in zip(wanted, columns_blocks, strict=True):
            for block in column_blocks:
                edges += [
                    _wall_minutes(block.appointment.starts_at, want.day, zone),
                    _wall_minutes(block.appointment.ends_at, want.day, zone),
                ]
        low, high = (min(edges), max(edges)) if edges else DEFAULT_HOURS
        top = (low // HOUR * HOUR) // business.slot_step_minutes * business.slot_step_minutes
        bottom = min(-(-high // HOUR) * HOUR, availability.MINUTES_PER_DAY)
        minutes = list(range(top, max(bottom, top + step), step))

        columns = []
        for n, want in enumerate(wanted):
            cells = _cells(
                minutes, step, day=want.day, zone=zone, working=working[n], away=away[n],
                blocks=columns_blocks[n], closed=want.day in closed, now=now,
            )  # fmt: skip
            columns.append(Column(want.staff_id, want.heading, want.day, cells))
        return Grid(minutes, columns)

    async def _former_name(self, staff_id: uuid.UUID | None) -> str:
        if staff_id is None:
            return "Former staff member"
        name = await self.session.scalar(
            select(StaffProfile.name_of(User))
            .outerjoin(StaffProfile, StaffProfile.user_id == User.id)
            .where(User.id == staff_id)
        )
        return name or "Former staff member"


def _on_day(block: Block, day: datetime.date, zone: ZoneInfo) -> bool:
    start = availability.local_instant(day, 0, zone)
    end = availability.local_instant(day, availability.MINUTES_PER_DAY, zone)
    return block.appointment.starts_at < end and block.appointment.ends_at > start


def _away_on(
    ranges: Sequence[tuple[datetime.datetime, datetime.datetime, str]], day: datetime.date
) -> list[tuple[int, int, str]]:
    """Time off on ``day`` as wall-clock minutes, with its note."""
    midnight = datetime.datetime.combine(day, datetime.time())
    found = []
    for start, end, note in ranges:
        first = max(start, midnight)
        until = min(end, midnight + datetime.timedelta(days=1))
        if first < until:
            found.append((_minutes_after(midnight, first), _minutes_after(midnight, until), note))
    return found


def _minutes_after(midnight: datetime.datetime, moment: datetime.datetime) -> int:
    return int((moment - midnight).total_seconds() // 60)


def _cells(
    minutes: list[int],
    step: int,
    *,
    day: datetime.date,
    zone: ZoneInfo,
    working: list[tuple[int, int]],
    away: list[tuple[int, int, str]],
    blocks: list[Block],
    closed: bool,
    now: datetime.datetime,
) -> dict[int, Cell]:
    """One column's cells: appointments (touching ones share a cell), then runs of the
    same kind of empty time (free rows stay one a row: each books at its own time)."""
    top = minutes[0]
    rows = len(minutes)
    groups: list[tuple[int, int, list[Block]]] = []
    for block in blocks:
        start = (_wall_minutes(block.appointment.starts_at, day, zone) - top) // step
        end = -(-(_wall_minutes(block.appointment.ends_at, day, zone) - top) // step)
        start, end = max(start, 0), min(max(end, start + 1), rows)
        if groups and start < groups[-1][1]:
            groups[-1] = (groups[-1][0], max(groups[-1][1], end), [*groups[-1][2], block])
        else:
            groups.append((start, end, [block]))
    starts = {start: (end, group) for start, end, group in groups}

    cells: dict[int, Cell] = {}
    previous: Cell | None = None
    row = 0
    while row < rows:
        instant = availability.local_instant(day, minutes[row], zone)
        if row in starts:
            end, group = starts[row]
            cells[row] = Cell(CellKind.BOOKED, end - row, instant, blocks=group)
            previous, row = None, end
            continue
        kind, label = _empty(minutes[row], working, away, closed=closed)
        if kind is CellKind.FREE and instant < now:
            kind = CellKind.PAST
        if previous is not None and kind is not CellKind.FREE and (previous.kind, previous.label) == (kind, label):
            previous.rows += 1
        else:
            previous = cells[row] = Cell(kind, 1, instant, label)
        row += 1
    return cells


def _empty(
    minute: int, working: list[tuple[int, int]], away: list[tuple[int, int, str]], *, closed: bool
) -> tuple[CellKind, str]:
    """What an empty row is: working time, or why not."""
    if any(start <= minute < end for start, end in working):
        return CellKind.FREE, ""
    if closed:
        return CellKind.OFF, "Closed"
    for start, end, note in away:
        if start <= minute < end:
            return CellKind.OFF, f"Time off: {note}" if note else "Time off"
    if working and working[0][0] < minute < working[-1][1]:
        return CellKind.OFF, "Break"
    return CellKind.OFF, ""
