"""Static assets, compressed once when the app starts (gzip and brotli), never per request.

Every file under ``static/`` is read into memory with its compressed forms (text types
only: images are compressed already). A request gets the smallest form its
``Accept-Encoding`` allows; URLs are fingerprinted (``static_url``), so every answer may be
cached for a year.
"""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

MAX_AGE = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True, slots=True)
class Asset:
    media_type: str
    forms: dict[str, bytes]  # content coding ("identity", "br", "gzip") -> body, smallest first


def _forms(media_type: str, raw: bytes) -> dict[str, bytes]:
    forms = {"identity": raw}
    if media_type.startswith(COMPRESSIBLE):
        forms["br"] = brotli.compress(raw, quality=11)
        forms["gzip"] = gzip.compress(raw, compresslevel=9, mtime=0)
    return dict(sorted(forms.items(), key=lambda item: len(item[1])))


def load_assets(directory: Path) -> dict[str, Asset]:
    assets = {}
    for file in sorted(directory.rglob("*")):
        if file.is_file():
            media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            assets[file.relative_to(directory).as_posix()] = Asset(media_type, _forms(media_type, file.read_bytes()))
    return assets


def accepted_codings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header allows (``q=0`` refuses one)."""
    accepted = {"identity"}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        refused = params.replace(" ", "").lower() in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
        if coding.strip() and not refused:
            accepted.add(coding.strip().lower())
    return accepted


def static_router(directory: Path) -> HTTPRouteHandler:
    """``GET /static/{file_path}``: the route the templates' ``static_url`` points at."""
    assets = load_assets(directory)
    cache = CacheControlHeader(max_age=MAX_AGE, public=True)

    @get("/static/{file_path:path}", include_in_schema=False, cache_control=cache)
    async def static_file(request: Request, file_path: FromPath[str]) -> Response[bytes]:
        asset = assets.get(file_path.lstrip("/"))
        if asset is None:
            raise NotFoundException
        accepted = accepted_codings(request.headers.get("accept-encoding", ""))
        coding, body = next((coding, body) for coding, body in asset.forms.items() if coding in accepted)
        headers = {"Vary": "Accept-Encoding"} if len(asset.forms) > 1 else {}
        if coding != "identity":
            headers["Content-Encoding"] = coding
        return Response(body, media_type=asset.media_type, headers=headers)

    return static_file
