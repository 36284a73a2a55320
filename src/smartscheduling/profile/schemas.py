"""Form input of the Profile section, one small form per row."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from smartscheduling.accounts.schemas import Country, Email, NewPassword, check_date_of_birth
from smartscheduling.profile.choices import LANGUAGES
from smartscheduling.security.passwords import MAX_LENGTH
from smartscheduling.web.choices import check_time_zone

Version = Annotated[int, Meta(ge=1, title="Version", extra={"message": "This form is out of date: reload the page."})]
CurrentPassword = Annotated[
    str,
    Meta(
        max_length=MAX_LENGTH * 4,
        title="Current password",
        extra={"secret": True, "required": "Enter your current password to confirm it is you."},
    ),
]


def check_language(value: str) -> str:
    if value not in LANGUAGES:
        msg = "Choose a language from the list."
        raise ValueError(msg)
    return value


class NameForm(msgspec.Struct, kw_only=True):
    version: Version
    name: Annotated[str, Meta(min_length=1, max_length=100, title="Name")]


class PhoneForm(msgspec.Struct, kw_only=True):
    version: Version
    phone: Annotated[str, Meta(max_length=32, title="Phone number")] | None = None


class AddressForm(msgspec.Struct, kw_only=True):
    version: Version
    postal_address: Annotated[str, Meta(max_length=300, title="Postal address", extra={"multiline": True})] | None = (
        None
    )


class TimeZoneForm(msgspec.Struct, kw_only=True):
    version: Version
    time_zone: Annotated[str, Meta(max_length=64, title="Time zone", extra={"clean": check_time_zone})] | None = None


class LanguageForm(msgspec.Struct, kw_only=True):
    version: Version
    language: Annotated[str, Meta(max_length=8, title="Language", extra={"clean": check_language})] | None = None


class CommunicationForm(msgspec.Struct, kw_only=True):
    version: Version
    notify_reminders_email: bool = False
    notify_reminders_sms: bool = False
    notify_news: bool = False


class CountryForm(msgspec.Struct, kw_only=True):
    version: Version
    country: Country
    transfer_ack: bool = False


class DateOfBirthForm(msgspec.Struct, kw_only=True):
    version: Version
    date_of_birth: Annotated[datetime.date, Meta(title="Date of birth", extra={"clean": check_date_of_birth})]


class EmailChangeForm(msgspec.Struct, kw_only=True):
    version: Version
    email: Email
    current_password: CurrentPassword


class PasswordChangeForm(msgspec.Struct, kw_only=True):
    version: Version
    current_password: CurrentPassword
    new_password: NewPassword

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        if values.get("new_password") and values.get("new_password") == values.get("current_password"):
            return {"new_password": "Choose a password different from the current one."}
        return {}


class CloseAccountForm(msgspec.Struct, kw_only=True):
    current_password: CurrentPassword
