"""An appointment as a calendar file (iCalendar, RFC 5545, sent by e-mail as iTIP):
one UID for the appointment's whole life, SEQUENCE raised by each change, METHOD:CANCEL
when it is cancelled, and times in the business's zone with that zone's rules included,
so calendars show the right hour on both sides of a change of clocks."""

from __future__ import annotations

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress

from smartscheduling.config import CONTACT_EMAIL, SITE_NAME
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, Business, Offering

PRODID = f"-//{SITE_NAME}//Appointments//EN"


@lru_cache(maxsize=32)
def zone_rules(key: str) -> Timezone:
    """The zone's VTIMEZONE, worked out once per process (it is a good part of the cost
    of a calendar file, and the same for every appointment of the business)."""
    return Timezone.from_tzid(key)


def uid_of(appointment: Appointment, domain: str) -> str:
    return f"appointment-{appointment.id}@{domain}"


def appointment_calendar(
    appointment: Appointment,
    offering: Offering,
    business: Business,
    *,
    attendee: str,
    domain: str,
    now: datetime.datetime,
) -> str:
    """The ``.ics`` text for the appointment as it is now (cancelled: METHOD:CANCEL)."""
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    zone = ZoneInfo(business.time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid_of(appointment, domain))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now.astimezone(datetime.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("summary", f"{offering.name} at {business.name}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{business.email or CONTACT_EMAIL}")
    organizer.params["cn"] = business.name
    event.add("organizer", organizer)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["partstat"] = "ACCEPTED"
    event.add("attendee", guest)
    calendar.add_component(zone_rules(zone.key))
    calendar.add_component(event)
    return calendar.to_ical().decode()
