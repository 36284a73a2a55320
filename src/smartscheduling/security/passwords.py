"""Passwords: PBKDF2-HMAC-SHA256 hashes, and the rules a new password must pass.

Hashes are self-describing strings in the spirit of Django's hashers::

    pbkdf2_sha256$<iterations>$<base64 16-byte salt>$<base64 32-byte digest>

* 1,200,000 iterations at least (a setting may only raise it); a login whose hash has
  fewer is re-hashed, and :meth:`PasswordHasher.verify_and_update` hands the new hash to
  the caller, who must save it.
* Hashing runs in worker threads, at most ``concurrency`` at a time, so a burst of
  logins queues instead of starving every other request of the event loop.
* :meth:`PasswordHasher.burn` costs exactly one verification: the login of an unknown
  e-mail spends it so that timing does not tell which accounts exist.
* Passwords are NFKC-normalised before hashing (NIST SP 800-63B), never logged, and no
  exception raised here carries one.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import anyio
import anyio.to_thread

from smartscheduling.config import MIN_PASSWORD_ITERATIONS

ALGORITHM = "pbkdf2_sha256"
SALT_BYTES = 16
DIGEST_BYTES = 32
MIN_LENGTH = 12
MAX_LENGTH = 128
#: A tampered hash must not make us spin for hours.
MAX_ITERATIONS = 100_000_000
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


class InvalidHashError(ValueError):
    """The stored string is not a hash this module can verify (malformed or another algorithm)."""


@dataclass(frozen=True, slots=True)
class DecodedHash:
    algorithm: str
    iterations: int
    salt: bytes
    digest: bytes


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _normalize(password: str) -> bytes:
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", _normalize(password), salt, iterations, DIGEST_BYTES)


def decode(encoded: str) -> DecodedHash:
    """Parse a stored hash; :class:`InvalidHashError` for anything else (nothing echoed back)."""
    algorithm = encoded.partition("$")[0]
    if algorithm != ALGORITHM:
        msg = f"unsupported password hash algorithm {algorithm[:32]!r}"
        raise InvalidHashError(msg)
    parts = encoded.split("$")
    if len(parts) != 4:
        msg = "not a pbkdf2_sha256 hash string"
        raise InvalidHashError(msg)
    _, iterations_text, salt_text, digest_text = parts
    if not iterations_text.isdigit() or not 1 <= int(iterations_text) <= MAX_ITERATIONS:
        msg = "malformed iteration count"
        raise InvalidHashError(msg)
    try:
        salt, digest = _b64decode(salt_text), _b64decode(digest_text)
    except (binascii.Error, ValueError):
        msg = "malformed salt or digest"
        raise InvalidHashError(msg) from None
    if len(salt) < SALT_BYTES or len(digest) != DIGEST_BYTES:
        msg = "salt or digest of the wrong length"
        raise InvalidHashError(msg)
    return DecodedHash(algorithm, int(iterations_text), salt, digest)


class PasswordHasher:
    def __init__(self, iterations: int = MIN_PASSWORD_ITERATIONS, concurrency: int = 1) -> None:
        if iterations < MIN_PASSWORD_ITERATIONS:
            msg = f"iterations may only be raised above {MIN_PASSWORD_ITERATIONS}"
            raise ValueError(msg)
        self.iterations = iterations
        self._limiter = anyio.CapacityLimiter(concurrency)

    # Synchronous primitives (run them in a thread, or use the async methods below).

    def encode(self, password: str, *, salt: bytes | None = None) -> str:
        salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
        digest = _pbkdf2(password, salt, self.iterations)
        return f"{ALGORITHM}${self.iterations}${_b64encode(salt)}${_b64encode(digest)}"

    def verify_sync(self, password: str, encoded: str) -> bool:
        """Constant-time comparison; ``False`` for a wrong password or an unusable hash."""
        try:
            decoded = decode(encoded)
        except InvalidHashError:
            return False
        return hmac.compare_digest(_pbkdf2(password, decoded.salt, decoded.iterations), decoded.digest)

    def needs_update(self, encoded: str) -> bool:
        try:
            return decode(encoded).iterations < self.iterations
        except InvalidHashError:
            return True

    def _verify_and_update_sync(self, password: str, encoded: str) -> tuple[bool, str | None]:
        if not self.verify_sync(password, encoded):
            return False, None
        return True, self.encode(password) if self.needs_update(encoded) else None

    def _burn_sync(self, password: str) -> None:
        hmac.compare_digest(_pbkdf2(password, bytes(SALT_BYTES), self.iterations), bytes(DIGEST_BYTES))

    # Async API: off the event loop, at most `concurrency` hashes at once.

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.encode, password, limiter=self._limiter)

    async def verify_and_update(self, password: str, encoded: str) -> tuple[bool, str | None]:
        """``(True, new_hash)`` when the password matches a hash below the current policy:
        the caller must save ``new_hash``. ``(True, None)``: matches, nothing to save."""
        return await anyio.to_thread.run_sync(self._verify_and_update_sync, password, encoded, limiter=self._limiter)

    async def burn(self, password: str) -> None:
        """Spend exactly what verifying a real hash costs (login of an unknown e-mail)."""
        await anyio.to_thread.run_sync(self._burn_sync, password, limiter=self._limiter)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines)


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused (NIST SP 800-63B), as a sentence for the form; else ``None``."""
    length = len(unicodedata.normalize("NFKC", password))
    if length < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few unrelated words make a strong, memorable password."
    if length > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password appears in lists of leaked passwords. Please choose another."
    local_part = (email or "").partition("@")[0].lower()
    if len(local_part) >= 3 and local_part in lowered:
        return "Your password must not contain your e-mail address."
    return None
