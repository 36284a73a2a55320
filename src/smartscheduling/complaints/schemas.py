"""The complaint forms: the complainant's, staff's record of one received by e-mail or
post, and the steps on a complaint's page."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from smartscheduling.accounts.schemas import Email

DETAILS_MAX = 10_000
Details = Annotated[str, Meta(title="What happened", min_length=1, max_length=DETAILS_MAX, extra={"multiline": True})]
Message = Annotated[str, Meta(title="Message", min_length=1, max_length=DETAILS_MAX, extra={"multiline": True})]
Version = Annotated[int, Meta(ge=0, extra={"message": "This form is out of date: reload the page."})]


class ComplaintForm(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(title="Your name", min_length=1, max_length=120)]
    email: Email
    details: Details


class RecordedForm(msgspec.Struct, kw_only=True):
    """A complaint that came by e-mail or letter, recorded by staff with the day it came."""

    channel: Annotated[str, Meta(title="How it came", pattern="^(email|post)$")]
    received_on: Annotated[datetime.date, Meta(title="Day it was received")]
    name: Annotated[str, Meta(title="Complainant's name", min_length=1, max_length=120)]
    email: Email
    details: Details


class StepForm(msgspec.Struct, kw_only=True):
    version: Version
    body: Message


class AddForm(msgspec.Struct, kw_only=True):
    body: Message
