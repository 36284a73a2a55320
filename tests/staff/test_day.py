"""The front desk's day and week views, booking for a client from them (the minimum
notice aside, never an overlap), rescheduling from an appointment's panel, and the
panel's htmx answers that make the grid refresh at once."""

from __future__ import annotations

import datetime
import re
import uuid
from urllib.parse import urlencode

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.booking_controllers import instant_text
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, ExceptionKind, StaffException
from smartscheduling.staff.dayview import row_minutes
from tests.helpers import form_error, post_form, sign_in
from tests.scheduling.test_booking import MONDAY, at, book, salon
from tests.staff.test_desk import ON_THE_DAY, client, stored

__all__ = ["client"]  # the front desk on Monday 10:05, from test_desk

TUESDAY = MONDAY + datetime.timedelta(days=1)


def cells(page: str) -> list[str]:
    """The grid's body cells, each as its opening tag and content."""
    return re.findall(r"<td[^>]*>.*?</td>", page, flags=re.DOTALL)


def slot(staff_id: uuid.UUID, start: datetime.datetime) -> str:
    """The link an empty row books with."""
    return "/staff/book?" + urlencode({"staff": staff_id, "start": instant_text(start)}).replace("&", "&amp;")


async def desk_with_two_stylists(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> tuple[list[User], User, Appointment]:
    """Stylist 0 has Pat at 10:00 on Monday; Stylist 1 is at the dentist 14:00-15:00."""
    _, stylists = await salon(db_engine, make_user, staff=2)
    pat = await make_user(name="Pat Client", phone="+442079460958")
    appointment = await book(db_engine, pat, at(MONDAY, 10), stylists[0].id)
    async with AsyncSession(db_engine) as session:
        session.add(
            StaffException(
                user_id=stylists[1].id, kind=ExceptionKind.TIME_OFF, first_day=MONDAY, last_day=MONDAY,
                start_minute=14 * 60, end_minute=15 * 60, note="Dentist",
            )
        )  # fmt: skip
        await session.commit()
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in(client, desk.email)
    return stylists, pat, appointment


def test_rows_are_whole_slot_steps_of_at_least_a_quarter_hour() -> None:
    assert [row_minutes(step) for step in (5, 10, 15, 20, 30, 60)] == [15, 20, 15, 20, 30, 60]


async def test_the_day_view_shows_everyone_s_day_with_appointments_sized_by_duration(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, _, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    response = await client.get("/staff")
    assert response.status_code == 200
    page = response.text
    assert '<h1>Monday 7 December <span class="badge">Today</span></h1>' in page
    assert re.findall(r'<th scope="col">.*?>(Stylist \d)</a></th>', page) == ["Stylist 0", "Stylist 1"]
    rows = re.findall(r'<th scope="row"[^>]*>(\d\d:\d\d)</th>', page)
    assert (rows[0], rows[-1], len(rows)) == ("09:00", "16:45", 32)  # quarter hours, 09:00-17:00
    found = cells(page)
    booked = [cell for cell in found if "cell--booked" in cell]
    assert len(booked) == 1
    assert 'rowspan="3"' in booked[0]  # 45 minutes
    for shown in ("10:00–10:45", "Pat Client", "Haircut", "Booked", f"/staff/appointments/{appointment.id}"):
        assert shown in booked[0]
    assert sum('rowspan="4"' in cell and "Break" in cell for cell in found) == 2  # 12:00-13:00, both
    assert sum('rowspan="4"' in cell and "Time off: Dentist" in cell for cell in found) == 1
    assert slot(stylists[0].id, at(MONDAY, 11)) in page
    assert slot(stylists[1].id, at(MONDAY, 10, 15)) in page  # free: past 10:05
    assert slot(stylists[1].id, at(MONDAY, 9, 45)) not in page  # gone by
    assert slot(stylists[1].id, at(MONDAY, 14)) not in page  # at the dentist
    assert 'href="/staff?day=2026-12-06" rel="prev"' in page
    assert 'href="/staff?day=2026-12-08" rel="next"' in page
    assert 'href="/staff?day=2026-12-07">Refresh</a>' in page


async def test_another_day_and_a_closed_one(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, _, _ = await desk_with_two_stylists(client, make_user, db_engine)
    tuesday = (await client.get("/staff", params={"day": TUESDAY.isoformat()})).text
    assert "<h1>Tuesday 8 December</h1>" in tuesday
    assert "cell--booked" not in tuesday
    assert slot(stylists[0].id, at(TUESDAY, 9)) in tuesday  # tomorrow: the whole day is free
    sunday = (await client.get("/staff", params={"day": "2026-12-13"})).text
    assert "cell--free" not in sunday  # nobody works on Sundays
    assert (await client.get("/staff", params={"day": "not a day"})).status_code == 400


async def test_the_grid_alone_answers_htmx_s_refresh(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await desk_with_two_stylists(client, make_user, db_engine)
    page = (await client.get("/staff")).text
    assert 'hx-trigger="every 15s, appointments-changed from:body"' in page
    refreshed = await client.get("/staff?day=2026-12-07", headers={"HX-Request": "true", "HX-Target": "day-grid"})
    assert refreshed.status_code == 200
    assert "<html" not in refreshed.text
    assert refreshed.text.lstrip().startswith('<table class="day-table">')
    assert "Pat Client" in refreshed.text


async def test_a_staff_member_s_week_has_a_column_per_day(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, _, _ = await desk_with_two_stylists(client, make_user, db_engine)
    response = await client.get(f"/staff/week/{stylists[0].id}", params={"day": "2026-12-10"})
    assert response.status_code == 200
    page = response.text
    assert "<h1>Stylist 0: week of Monday 7 December</h1>" in page
    headings = re.findall(r'<th scope="col"><a href="/staff\?day=[\d-]+">([^<]+)</a></th>', page)
    assert headings == [f"{d:%A} {d.day} December" for d in (MONDAY + datetime.timedelta(n) for n in range(7))]
    assert page.count("cell--booked") == 1
    assert slot(stylists[0].id, at(TUESDAY, 9)) in page
    assert f'href="/staff/week/{stylists[0].id}?day=2026-12-03" rel="prev"' in page
    assert (await client.get(f"/staff/week/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/staff/week/{stylists[0].id}", params={"day": "2026-13-01"})).status_code == 400


async def test_book_a_walk_in_from_an_empty_slot_creating_the_client_on_the_way(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, _, _ = await desk_with_two_stylists(client, make_user, db_engine)
    start = at(MONDAY, 10, 15)  # ten minutes from now: well inside the online notice of two hours
    first = await client.get(f"/staff/book?staff={stylists[1].id}&start={instant_text(start)}")
    assert first.status_code == 200
    assert "New appointment: who is it for?" in first.text
    new_link = re.search(r'href="(/staff/clients/new\?next=[^"]+)"', first.text)
    assert new_link
    form = await client.get(new_link[1].replace("&amp;", "&"))
    then = re.search(r'name="next" value="(/staff/book\?[^"]+)"', form.text)
    assert then
    created = await post_form(
        client, "/staff/clients/new", {"name": "Wanda Walk-in", "next": then[1].replace("&amp;", "&")}
    )
    assert created.status_code == 303
    async with AsyncSession(db_engine) as session:
        wanda = await session.scalar(select(User).where(User.name == "Wanda Walk-in"))
    assert wanda is not None
    step = created.headers["location"]
    assert step.startswith("/staff/book?")
    assert f"client={wanda.id}" in step

    services = (await client.get(step)).text
    assert "New appointment: which service?" in services
    assert "Wanda Walk-in" in services
    chosen = re.search(r'href="(/staff/book\?[^"]*offering=[^"]+)"', services)
    assert chosen
    confirm = await client.get(chosen[1].replace("&amp;", "&"))
    assert confirm.status_code == 200
    assert "Book this appointment?" in confirm.text
    assert "Monday 7 December 2026, 10:15" in confirm.text
    fields = dict(
        re.findall(r'<input type="hidden" name="(client|offering|staff|start)" value="([^"]+)"', confirm.text)
    )
    done = await post_form(client, "/staff/book", fields)
    assert (done.status_code, done.headers["location"]) == (303, "/staff?day=2026-12-07")
    day = (await client.get(done.headers["location"])).text
    assert "Booked: Haircut for Wanda Walk-in, Monday 7 December 2026, 10:15." in day
    async with AsyncSession(db_engine) as session:
        made = await session.scalar(select(Appointment).where(Appointment.client_id == wanda.id))
    assert made is not None
    assert (made.starts_at, made.staff_id, made.status) == (start, stylists[1].id, AppointmentStatus.BOOKED)


async def test_booking_at_the_desk_never_overlaps_and_offers_the_nearest_times(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, pat, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    offering = appointment.offering_id
    taken = {"client": str(pat.id), "offering": str(offering), "staff": str(stylists[0].id)}
    overlap = await post_form(client, "/staff/book", taken | {"start": instant_text(at(MONDAY, 10, 30))})
    assert overlap.status_code == 409
    assert "This time is not available" in overlap.text
    assert f"start={instant_text(at(MONDAY, 11))}".replace(":", "%3A") in overlap.text  # the nearest free one
    past = await post_form(client, "/staff/book", taken | {"start": instant_text(at(MONDAY, 9, 15))})
    assert past.status_code == 422  # gone by: not a time that is offered
    assert "This time is not offered" in past.text
    async with AsyncSession(db_engine) as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
    times = await client.get(
        "/staff/book", params={"client": pat.id, "offering": offering, "staff": stylists[0].id, "day": "2026-12-07"}
    )
    assert times.status_code == 200
    assert "New appointment: when?" in times.text
    offered = set(re.findall(r"start=(2026-12-07T[\d%A:]+Z)", times.text))
    assert instant_text(at(MONDAY, 11)).replace(":", "%3A") in offered  # at once after Pat's cut and its buffer
    assert instant_text(at(MONDAY, 10, 15)).replace(":", "%3A") not in offered  # Pat's time
    for tampered in ({"client": str(uuid.uuid4())}, {"offering": str(uuid.uuid4())}, {"client": "x"}):
        refused = await post_form(client, "/staff/book", taken | {"start": instant_text(at(MONDAY, 11))} | tampered)
        assert refused.status_code == 404, tampered
    assert (await client.get("/staff/book", params={"client": uuid.uuid4()})).status_code == 404
    assert (await client.get("/staff/book", params={"staff": uuid.uuid4()})).status_code == 404


async def test_find_the_client_then_choose_whom_to_book_with(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, pat, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    found = (await client.get("/staff/book", params={"q": "0958"})).text
    assert f'href="/staff/book?client={pat.id}&amp;staff=anyone"' in found
    assert "No client matches" in (await client.get("/staff/book", params={"q": "%_"})).text
    times = (await client.get("/staff/book", params={"client": pat.id, "offering": appointment.offering_id})).text
    assert "Whoever is free" in times
    for stylist in stylists:
        assert f"staff={stylist.id}" in times
        assert f">{stylist.name}</a>" in times


async def test_staff_reschedule_to_another_time_and_staff_member_and_the_client_is_told(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, pat, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    url = f"/staff/appointments/{appointment.id}/reschedule"
    picker = await client.get(url, params={"staff": stylists[1].id, "day": "2026-12-07"})
    assert picker.status_code == 200
    assert "Reschedule: Haircut for Pat Client" in picker.text
    later = at(MONDAY, 15)
    confirm = await client.get(url, params={"staff": stylists[1].id, "start": instant_text(later)})
    assert confirm.status_code == 200
    assert "Move this appointment?" in confirm.text
    assert "Monday 7 December 2026, 15:00, with Stylist 1" in confirm.text
    moved = await post_form(client, url, {"version": "1", "staff": str(stylists[1].id), "start": instant_text(later)})
    assert (moved.status_code, moved.headers["location"]) == (303, "/staff?day=2026-12-07")
    assert "Moved to Monday 7 December 2026, 15:00: the client is told." in (await client.get("/staff")).text
    row = await stored(db_engine, appointment)
    assert (row.starts_at, row.staff_id, row.sequence, row.version) == (later, stylists[1].id, 1, 2)
    assert row.history[-1] | {"at": None} == {
        "at": None,
        "from": at(MONDAY, 10).isoformat(),
        "to": later.isoformat(),
        "by": "staff",
    }
    async with AsyncSession(db_engine) as session:
        told = (await session.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == pat.id))).all()
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.rescheduled"))).all()
    assert "appointment_rescheduled" in told
    assert [(e.subject_id, e.actor_id is not None) for e in events] == [(pat.id, True)]
    panel = (await client.get(f"/staff/appointments/{appointment.id}")).text
    assert "(by the staff)" in panel

    stale = await post_form(
        client, url, {"version": "1", "staff": str(stylists[0].id), "start": instant_text(at(MONDAY, 11))}
    )
    assert stale.status_code == 409
    assert "This appointment changed after you opened this page" in (form_error(stale.text) or "")
    assert (await stored(db_engine, appointment)).starts_at == later


async def test_staff_reschedule_never_overlaps_and_leaves_the_appointment_as_it_was(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    stylists, _, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    other = await make_user(name="Olga Other")
    await book(db_engine, other, at(MONDAY, 13), stylists[0].id)
    url = f"/staff/appointments/{appointment.id}/reschedule"
    overlap = await post_form(
        client, url, {"version": "1", "staff": str(stylists[0].id), "start": instant_text(at(MONDAY, 13, 15))}
    )
    assert overlap.status_code == 409
    assert "This time is not available" in overlap.text
    own_time = await post_form(
        client, url, {"version": "1", "staff": str(stylists[0].id), "start": instant_text(at(MONDAY, 10, 15))}
    )
    assert own_time.status_code == 303  # its own old time does not stand in its way
    row = await stored(db_engine, appointment)
    assert (row.starts_at, row.staff_id) == (at(MONDAY, 10, 15), stylists[0].id)
    assert (await client.get(f"/staff/appointments/{uuid.uuid4()}/reschedule")).status_code == 404
    await post_form(client, f"/staff/appointments/{appointment.id}/status", {"version": "2", "status": "completed"})
    done = await post_form(
        client, url, {"version": "3", "staff": str(stylists[0].id), "start": instant_text(at(MONDAY, 15))}
    )
    assert done.status_code == 422
    assert "Only a booked appointment can be moved" in done.text
    assert (await stored(db_engine, appointment)).starts_at == at(MONDAY, 10, 15)
    nobody = await client.get(url, params={"staff": uuid.uuid4()})
    assert nobody.status_code == 422
    assert "does not perform this service" in nobody.text


async def test_the_panel_answers_htmx_with_itself_and_tells_the_grid_to_refresh(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    _, _, appointment = await desk_with_two_stylists(client, make_user, db_engine)
    url = f"/staff/appointments/{appointment.id}"
    in_panel = {"HX-Request": "true", "HX-Target": "panel"}
    panel = await client.get(url, headers=in_panel)
    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert f'hx-post="{url}/status" hx-target="#panel"' in panel.text
    marked = await post_form(client, f"{url}/status", {"version": "1", "status": "arrived"}, headers=in_panel)
    assert marked.status_code == 200
    assert marked.headers["HX-Trigger"] == "appointments-changed"
    assert "Marked: Arrived." in marked.text
    assert "<html" not in marked.text
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.ARRIVED
    stale = await post_form(client, f"{url}/status", {"version": "1", "status": "no_show"}, headers=in_panel)
    assert stale.status_code == 409
    assert "HX-Trigger" not in stale.headers
    assert '<span class="badge">Arrived</span>' in stale.text


async def test_the_minimum_notice_still_holds_online_on_the_same_morning(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    """What staff may book at 10:15 a client booking online may not (two hours' notice)."""
    await desk_with_two_stylists(client, make_user, db_engine)
    assert at(MONDAY, 10, 5) == ON_THE_DAY
    async with AsyncSession(db_engine) as session:
        offering_id = (await session.scalars(select(Appointment.offering_id))).one()
    online = await client.get(f"/book/{offering_id}", params={"staff": "anyone", "day": "2026-12-07"})
    assert online.status_code == 200
    assert instant_text(at(MONDAY, 10, 15)).replace(":", "%3A") not in online.text
    assert instant_text(at(MONDAY, 13)).replace(":", "%3A") in online.text  # 12:05 and later
