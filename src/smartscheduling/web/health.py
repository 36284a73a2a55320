"""Liveness and readiness probes for load balancers and process managers."""

from __future__ import annotations

import asyncio
import logging

from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("smartscheduling.health")
READINESS_TIMEOUT_SECONDS = 3


@get("/healthz", media_type=MediaType.TEXT, include_in_schema=False, sync_to_thread=False)
def healthz() -> str:
    """The process is up and serving requests. Touches nothing else."""
    return "ok"


@get("/readyz", media_type=MediaType.TEXT, include_in_schema=False)
async def readyz(db_engine: NamedDependency[AsyncEngine]) -> Response[str]:
    """The database answers: 200, else 503 so the balancer routes around this process."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), db_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError, TimeoutError) as exc:
        logger.warning("not ready", extra={"fields": {"error": type(exc).__name__}})
        return Response("database unavailable", status_code=503, headers={"Retry-After": "30"})
    return Response("ready")
