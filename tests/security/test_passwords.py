"""The PBKDF2 hasher and the password rules."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading

import pytest

from smartscheduling.security import passwords
from smartscheduling.security.passwords import InvalidHashError, PasswordHasher, decode, password_problem

SECRET = "tangerine submarine orchestra"


def legacy_hash(password: str, iterations: int) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


@pytest.fixture(scope="module")
def encoded(hasher: PasswordHasher) -> str:
    return hasher.encode(SECRET)


def test_hash_format_is_self_describing_and_independently_reproducible(encoded: str) -> None:
    algorithm, iterations, salt_b64, digest_b64 = encoded.split("$")
    assert algorithm == "pbkdf2_sha256"
    assert iterations == "1200000"
    salt = base64.b64decode(salt_b64)
    assert len(salt) == 16
    expected = hashlib.pbkdf2_hmac("sha256", SECRET.encode(), salt, 1_200_000)
    assert base64.b64decode(digest_b64) == expected
    assert SECRET not in encoded


def test_every_hash_gets_its_own_salt(hasher: PasswordHasher, encoded: str) -> None:
    assert hasher.encode(SECRET) != encoded


def test_verify_right_and_wrong(hasher: PasswordHasher, encoded: str) -> None:
    assert hasher.verify_sync(SECRET, encoded)
    assert not hasher.verify_sync(SECRET + "!", encoded)
    assert not hasher.verify_sync("", encoded)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e[:-6] + ("AAAAA=" if not e.endswith("AAAAA=") else "BBBBB="),  # digest changed
        lambda e: e.replace("$1200000$", "$1200001$"),  # iterations changed
        lambda e: e.replace("pbkdf2_sha256", "pbkdf2_sha1"),  # algorithm changed
        lambda e: "argon2$" + e,  # not ours
        lambda e: e.replace("$1200000$", "$many$"),
        lambda e: e.replace("$1200000$", "$999999999999$"),  # absurd work factor
        lambda e: e.rsplit("$", 1)[0] + "$not*base64",
        lambda _: "",
    ],
    ids=["digest", "iterations", "algorithm", "foreign", "not-a-number", "absurd", "bad-base64", "empty"],
)
def test_tampered_or_foreign_hashes_never_verify(hasher: PasswordHasher, encoded: str, tamper) -> None:
    assert not hasher.verify_sync(SECRET, tamper(encoded))


def test_unknown_algorithm_is_named_without_leaking_the_password() -> None:
    with pytest.raises(InvalidHashError, match="unsupported password hash algorithm 'argon2id'") as refused:
        decode("argon2id$v=19$m=65536$salt$hash")
    assert SECRET not in str(refused.value)


async def test_lower_iteration_hash_is_upgraded_on_verify(hasher: PasswordHasher) -> None:
    old = legacy_hash(SECRET, 600_000)
    assert hasher.needs_update(old)
    matches, new = await hasher.verify_and_update(SECRET, old)
    assert matches
    assert new is not None
    assert decode(new).iterations == 1_200_000
    assert hasher.verify_sync(SECRET, new)


async def test_wrong_password_on_old_hash_is_not_upgraded(hasher: PasswordHasher) -> None:
    assert await hasher.verify_and_update("wrong guess entirely", legacy_hash(SECRET, 600_000)) == (False, None)


async def test_current_hash_needs_no_upgrade(hasher: PasswordHasher, encoded: str) -> None:
    assert await hasher.verify_and_update(SECRET, encoded) == (True, None)


def test_the_policy_may_only_rise() -> None:
    with pytest.raises(ValueError, match="iterations may only be raised"):
        PasswordHasher(iterations=600_000)
    stronger = PasswordHasher(iterations=1_300_000)
    assert decode(stronger.encode(SECRET)).iterations == 1_300_000
    assert stronger.needs_update(legacy_hash(SECRET, 1_200_000))


async def test_burn_costs_exactly_one_verification(
    hasher: PasswordHasher, encoded: str, derivations: list[int]
) -> None:
    await hasher.burn(SECRET)
    assert derivations == [1_200_000]
    derivations.clear()
    await hasher.verify_and_update("wrong password here", encoded)
    assert derivations == [1_200_000]


async def test_hashing_runs_off_the_event_loop(hasher: PasswordHasher) -> None:
    """While a hash is computed, the loop keeps turning (on the loop it could not turn at all)."""
    turns = 0
    task = asyncio.create_task(hasher.hash(SECRET))
    while not task.done():
        turns += 1
        await asyncio.sleep(0)
    assert turns > 50
    assert hasher.verify_sync(SECRET, task.result())


@pytest.mark.parametrize("cap", [1, 2])
async def test_concurrent_hashing_is_capped(cap: int) -> None:
    active = peak = 0
    lock = threading.Lock()

    class Observed(PasswordHasher):
        def encode(self, password: str, *, salt: bytes | None = None) -> str:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            try:
                return super().encode(password, salt=salt)
            finally:
                with lock:
                    active -= 1

    hasher = Observed(concurrency=cap)
    await asyncio.gather(*(hasher.hash(SECRET) for _ in range(cap + 2)))
    assert peak == cap


@pytest.mark.parametrize(
    ("password", "email", "problem"),
    [
        ("short pass", None, "Use at least 12 characters"),
        ("x" * 129, None, "Use at most 128 characters"),
        ("qwerty123456", None, "appears in lists of leaked passwords"),
        ("QWERTY123456", None, "appears in lists of leaked passwords"),
        ("iloveyousomuch", None, "appears in lists of leaked passwords"),
        ("marguerite-rides-bicycles", "marguerite@example.com", "must not contain your e-mail address"),
    ],
)
def test_password_rules_refuse_with_a_reason(password: str, email: str | None, problem: str) -> None:
    reason = password_problem(password, email)
    assert reason is not None
    assert problem in reason
    assert password not in reason


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "ĉu vi parolas esperanton?",
        "   spaces count too   ",
        "🙂🙂🙂🙂 emoji are fine 🙂",
    ],
)
def test_any_characters_are_welcome(password: str) -> None:
    assert password_problem(password, "someone@example.com") is None


def test_the_shipped_common_password_list_is_loaded() -> None:
    common = passwords.common_passwords()
    assert len(common) > 40_000
    assert all(12 <= len(word) <= 128 for word in list(common)[:1000])
