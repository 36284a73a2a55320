"""The production app plus the floor: a bare endpoint in the same process and stack.

Every page's figure is reported as a ratio of this endpoint's, so the numbers say what
the page itself costs rather than what this machine can do.
"""

from __future__ import annotations

from litestar import MediaType, get

from smartscheduling.asgi import app


@get("/_bench/floor", media_type=MediaType.TEXT, sync_to_thread=False, include_in_schema=False)
def floor() -> str:
    return "ok"


app.register(floor)
