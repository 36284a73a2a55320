"""The e-mails about an appointment carry its calendar file, delivered over real SMTP and
parsed back with icalendar: one UID for its whole life, SEQUENCE raised by each change,
METHOD:CANCEL when cancelled, and the right hour on both sides of a change of clocks."""

from __future__ import annotations

import datetime
from email.message import EmailMessage

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.audit.service import Actor
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.booking import BookingService
from smartscheduling.scheduling.models import THE_BUSINESS, Business
from tests.mailbox import Mailbox
from tests.scheduling.test_booking import NOW, at, book, salon

#: Tuesday 30 March 2027, after Berlin moves its clocks to summer time (the 29th is Easter Monday).
AFTER_THE_CHANGE = datetime.date(2027, 3, 30)


def calendar_of(message: EmailMessage) -> tuple[str, Calendar]:
    """The part's METHOD parameter and the calendar it holds."""
    (part,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert part.get_filename() == "appointment.ics"
    return part.get_param("method"), Calendar.from_ical(part.get_content())


async def test_booking_moving_and_cancelling_send_one_appointment_as_it_changes(
    db_engine: AsyncEngine, make_user, deliver, mailbox: Mailbox
) -> None:
    await salon(db_engine, make_user)
    async with AsyncSession(db_engine) as session:  # a horizon that reaches spring
        (await session.get_one(Business, THE_BUSINESS)).horizon_days = 180
        await session.commit()
    carla = await make_user(time_zone="America/New_York")
    winter = datetime.date(2026, 12, 7)
    appointment = await book(db_engine, carla, at(winter, 10))
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        service = BookingService(session, domain="testserver.local")
        business = await session.get_one(Business, THE_BUSINESS)
        actor = Actor(carla.id, "127.0.0.0/24")
        view = await service.appointment_of(carla.id, appointment.id)
        assert view is not None
        await service.reschedule(business, view, carla, at(AFTER_THE_CHANGE, 10), version=1, now=NOW, actor=actor)
        view = await service.appointment_of(carla.id, appointment.id)
        assert view is not None
        await service.cancel(business, view, carla, version=view.appointment.version, now=NOW, actor=actor)
    assert (await deliver()).sent == 3
    # Sent in one batch, they may arrive in any order: calendars go by SEQUENCE, and so do we.
    booked, moved, cancelled = sorted(
        mailbox.to(carla.email), key=lambda m: calendar_of(m)[1].walk("VEVENT")[0]["SEQUENCE"]
    )
    assert [m["Subject"] for m in (booked, moved, cancelled)] == [
        "Booked: Haircut on Monday 7 December at 04:00",  # in her own zone, New York
        "Moved: Haircut to Tuesday 30 March at 04:00",
        "Cancelled: Haircut on Tuesday 30 March at 04:00",
    ]
    methods, events = [], []
    for message in (booked, moved, cancelled):
        method, calendar = calendar_of(message)
        assert calendar["METHOD"] == method
        methods.append(method)
        (event,) = calendar.walk("VEVENT")
        events.append(event)
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    assert {str(event["UID"]) for event in events} == {f"appointment-{appointment.id}@testserver.local"}
    assert [event["SEQUENCE"] for event in events] == [0, 1, 2]
    assert [str(event["STATUS"]) for event in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    first, second = events[0]["DTSTART"].dt, events[1]["DTSTART"].dt
    # Wall-clock 10:00 in Berlin both times: 09:00 UTC in winter, 08:00 UTC in summer.
    assert (first.tzinfo.key, first.hour, first.astimezone(datetime.UTC).hour) == ("Europe/Berlin", 10, 9)
    assert (second.tzinfo.key, second.hour, second.astimezone(datetime.UTC).hour) == ("Europe/Berlin", 10, 8)
    assert events[1]["DTEND"].dt - second == datetime.timedelta(minutes=45)
    # The zone's rules travel with the file, for calendars that do not know it by name.
    (_, calendar) = calendar_of(moved)
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(events[0]["ATTENDEE"]) == f"mailto:{carla.email}"
    async with AsyncSession(db_engine) as session:  # nothing of it is kept once delivered
        kept = (await session.scalars(select(OutboxMessage.calendar))).all()
    assert kept == [None, None, None]
