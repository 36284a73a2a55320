"""The ASGI application for uvicorn: ``uvicorn smartscheduling.asgi:app``.

Settings come from the environment; an unsafe production setting stops the process
with one line on standard error and exit status 2.
"""

from __future__ import annotations

import sys

from smartscheduling.app import create_app
from smartscheduling.config import ConfigError, get_settings
from smartscheduling.logs import configure_logging

try:
    _settings = get_settings()
except ConfigError as exc:
    sys.stderr.write(f"smartscheduling: refusing to start: {exc}\n")
    raise SystemExit(2) from None

configure_logging(_settings.log_level)
app = create_app(_settings)
