"""Form input of the account pages: what is accepted, and the sentences for what is not."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from msgspec import Meta

from smartscheduling.accounts.countries import UNITED_STATES, country_codes
from smartscheduling.security.passwords import MAX_LENGTH, password_problem

ADULT_AGE = 18
OLDEST_PLAUSIBLE_YEAR = 1900


def normalize_email(value: str) -> str:
    """Syntax only (no DNS: sign-up works offline); normalised and lower-cased, so that
    uniqueness is case-insensitive."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        msg = "Enter an e-mail address like name@example.com."
        raise ValueError(msg) from None
    return result.normalized.lower()


def check_new_password(value: str) -> str:
    if problem := password_problem(value):
        raise ValueError(problem)
    return value


def check_date_of_birth(value: datetime.date) -> datetime.date:
    if value > datetime.datetime.now(datetime.UTC).date():
        msg = "Your date of birth cannot be in the future."
        raise ValueError(msg)
    if value.year < OLDEST_PLAUSIBLE_YEAR:
        msg = "Please check the year of your date of birth."
        raise ValueError(msg)
    return value


def check_country(value: str) -> str:
    code = value.upper()
    if code not in country_codes():
        msg = "Choose the country you live in from the list."
        raise ValueError(msg)
    return code


def age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_minor(raw_date_of_birth: object, today: datetime.date | None = None) -> bool:
    """True when the submitted date of birth is a real date less than 18 years ago.

    Checked before anything else, so that a child is turned away at once and the date
    goes nowhere: not into the database, the session, a log or a re-rendered form.
    """
    if not isinstance(raw_date_of_birth, str):
        return False
    try:
        born = datetime.date.fromisoformat(raw_date_of_birth.strip())
    except ValueError:
        return False
    today = today or datetime.datetime.now(datetime.UTC).date()
    return born <= today and age_on(born, today) < ADULT_AGE


def normalize_phone(value: str, region: str | None) -> str:
    """E.164 (``+14155550123``). A number without ``+`` is read as one of ``region``."""
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else (region or "US"))
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        msg = (
            "Enter a phone number we can call, for example +1 415 555 0123 "
            "(with the country code if it is not from your country)."
        )
        raise ValueError(msg)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Email = Annotated[str, Meta(max_length=254, title="E-mail address", extra={"clean": normalize_email})]
Country = Annotated[
    str,
    Meta(max_length=2, title="Country", extra={"clean": check_country, "required": "Choose the country you live in."}),
]
NewPassword = Annotated[
    str, Meta(title="Password", extra={"secret": True, "clean": check_new_password, "required": "Choose a password."})
]


class SignupForm(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100, title="Name")]
    email: Email
    password: NewPassword
    date_of_birth: Annotated[datetime.date, Meta(title="Date of birth", extra={"clean": check_date_of_birth})]
    country: Country
    transfer_ack: bool = False
    accept_policy: bool = False
    #: Where to come back to once the address is confirmed and the person signed in
    #: (a booking's confirm step, say); only ever a path on this site.
    next: Annotated[str, Meta(max_length=500)] = ""

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        if "password" in values and (problem := password_problem(values["password"], values.get("email"))):
            errors["password"] = problem
        if values.get("country", UNITED_STATES) != UNITED_STATES and not values.get("transfer_ack"):
            errors["transfer_ack"] = (
                "Living outside the U.S., please confirm you understand that your data is stored in the U.S."
            )
        if not values.get("accept_policy"):
            errors["accept_policy"] = "Please confirm that you have read the privacy policy."
        return errors


class LoginForm(msgspec.Struct, kw_only=True):
    email: Email
    password: Annotated[str, Meta(max_length=MAX_LENGTH * 4, title="Password", extra={"secret": True})]
    next: Annotated[str, Meta(max_length=500, title="Next page")] = "/"


class ForgotPasswordForm(msgspec.Struct, kw_only=True):
    email: Email


class ResetPasswordForm(msgspec.Struct, kw_only=True):
    password: NewPassword
