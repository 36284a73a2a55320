"""What time it is, as code that depends on it is given it: the app's clock is the
system's, and tests hand it a fixed one instead of waiting for a date to come."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from litestar.di import NamedDependency

Clock = Callable[[], datetime.datetime]
#: A handler's parameter ``now: Now``: the app's clock, read once for the request.
Now = NamedDependency[datetime.datetime]


def system_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
