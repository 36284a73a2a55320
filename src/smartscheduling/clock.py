"""What time it is, as code that depends on it is given it: the app's clock is the
system's, and tests hand it a fixed one instead of waiting for a date to come."""

from __future__ import annotations

import datetime
from collections.abc import Callable

Clock = Callable[[], datetime.datetime]


def system_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
