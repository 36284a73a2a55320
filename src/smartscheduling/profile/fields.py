"""The rows of the Profile section: every personal field, how it shows, how it saves."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from smartscheduling.accounts.countries import UNITED_STATES, country_name
from smartscheduling.accounts.models import User
from smartscheduling.accounts.schemas import ADULT_AGE, age_on, normalize_phone
from smartscheduling.profile.choices import LANGUAGES
from smartscheduling.profile.schemas import (
    AddressForm,
    CommunicationForm,
    CountryForm,
    DateOfBirthForm,
    EmailChangeForm,
    LanguageForm,
    NameForm,
    PasswordChangeForm,
    PhoneForm,
    TimeZoneForm,
)

COMMUNICATION = {
    "notify_reminders_email": "Appointment reminders by e-mail",
    "notify_reminders_sms": "Appointment reminders by text message",
    "notify_news": "News and offers from the businesses you book with",
}


class Invalid(Exception):  # noqa: N818 (carries messages for the form)
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid profile input")
        self.errors = errors


@dataclass(frozen=True)
class ProfileField:
    key: str
    label: str
    schema: type[msgspec.Struct]
    #: The value as the person reads it (``None``: not given).
    show: Callable[[User], str | None]
    #: The form's starting values.
    initial: Callable[[User], dict[str, str]]
    #: Columns to save from valid form data; ``None`` for rows with their own flow.
    changes: Callable[[Any, User], dict[str, Any]] | None = None
    clearable: bool = False


def _text(column: str) -> Callable[[User], dict[str, str]]:
    return lambda user: {column: getattr(user, column) or ""}


def _phone(data: PhoneForm, user: User) -> dict[str, Any]:
    if not data.phone:
        if user.notify_reminders_sms:
            raise Invalid({"phone": "Text-message reminders need this number: switch them off first."})
        return {"phone": None}
    try:
        return {"phone": normalize_phone(data.phone, user.country)}
    except ValueError as exc:
        raise Invalid({"phone": str(exc)}) from None


def _communication(data: CommunicationForm, user: User) -> dict[str, Any]:
    if data.notify_reminders_sms and not user.phone:
        raise Invalid({"notify_reminders_sms": "Add a phone number first, so we know where to send the texts."})
    return {column: getattr(data, column) for column in COMMUNICATION}


def _date_of_birth(data: DateOfBirthForm, _: User) -> dict[str, Any]:
    if age_on(data.date_of_birth, datetime.datetime.now(datetime.UTC).date()) < ADULT_AGE:
        raise Invalid({"date_of_birth": "Accounts are for adults only, so this date was not saved."})
    return {"date_of_birth": data.date_of_birth}


def _show_communication(user: User) -> str:
    chosen = [label for column, label in COMMUNICATION.items() if getattr(user, column)]
    return "; ".join(chosen) if chosen else "Nothing: we only send what your account needs."


def _show_email(user: User) -> str:
    return f"{user.email} ({'confirmed' if user.is_verified else 'not confirmed yet'})"


def _date(user: User) -> str | None:
    return user.date_of_birth.isoformat() if user.date_of_birth else None


def _save(column: str) -> Callable[[Any, User], dict[str, Any]]:
    return lambda data, _: {column: getattr(data, column)}


FIELDS: dict[str, ProfileField] = {
    field.key: field
    for field in (
        ProfileField(
            key="name", label="Name", schema=NameForm,
            show=lambda u: u.name, initial=_text("name"), changes=_save("name"),
        ),
        ProfileField(
            key="email", label="E-mail address", schema=EmailChangeForm,
            show=_show_email, initial=lambda _: {"email": ""},
        ),
        ProfileField(
            key="password", label="Password", schema=PasswordChangeForm,
            show=lambda _: "Set (stored only as a one-way hash)", initial=lambda _: {},
        ),
        ProfileField(
            key="phone", label="Phone number", schema=PhoneForm,
            show=lambda u: u.phone, initial=_text("phone"), changes=_phone, clearable=True,
        ),
        ProfileField(
            key="postal_address", label="Postal address", schema=AddressForm,
            show=lambda u: u.postal_address, initial=_text("postal_address"), changes=_save("postal_address"),
            clearable=True,
        ),
        ProfileField(
            key="time_zone", label="Time zone", schema=TimeZoneForm,
            show=lambda u: u.time_zone, initial=_text("time_zone"), changes=_save("time_zone"), clearable=True,
        ),
        ProfileField(
            key="language", label="Preferred language", schema=LanguageForm,
            show=lambda u: LANGUAGES.get(u.language or ""), initial=_text("language"), changes=_save("language"),
            clearable=True,
        ),
        ProfileField(
            key="communication", label="What we may send you", schema=CommunicationForm,
            show=_show_communication,
            initial=lambda u: {column: "true" if getattr(u, column) else "" for column in COMMUNICATION},
            changes=_communication,
        ),
        ProfileField(
            key="country", label="Country you live in", schema=CountryForm,
            show=lambda u: country_name(u.country) or None, initial=lambda u: {"country": u.country or ""},
            changes=_save("country"),
        ),
        ProfileField(
            key="date_of_birth", label="Date of birth", schema=DateOfBirthForm,
            show=_date, initial=lambda u: {"date_of_birth": _date(u) or ""}, changes=_date_of_birth,
        ),
    )
}  # fmt: skip


def needs_transfer_ack(country: str) -> bool:
    return country != UNITED_STATES
