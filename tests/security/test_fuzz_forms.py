"""Generated bodies for every form route of the route table, sent by a signed-in
administrator (every guard lets them through) with a valid CSRF token: whatever arrives,
the answer is never a 5xx and nothing sent comes back unescaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from smartscheduling.accounts.models import Role
from smartscheduling.app import create_app
from smartscheduling.config import TEMPLATES_DIR, Settings
from tests.conftest import PASSWORD
from tests.security.routes import routes

#: Sent inside values; it must never come back as markup.
MARKER = "<fz-marker>"
#: Routes left out: signing out would end the fuzzing session.
LEFT_OUT = {"/logout"}
MULTIPART = "multipart/form-data; boundary=b"
NASTY = (
    "\x00", "a\x00b", "\r\nBcc: x@example.com", "\u202e", "\u2028", "\ufeff", "🙂", "  ", "",
    "2147483648", "-2147483649", "99999999999999999999999", "1e309", "NaN", "0x1F", "-0",
    "%00", "%ff", "../../etc/passwd", "//evil.example", "javascript:alert(1)", "' OR 1=1 --",
    "x" * 20_000, MARKER, f'"{MARKER}', f"'{MARKER}", "2026-02-30", "9999-12-31", "+99999999999999999",
)  # fmt: skip


def _structs(base: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _structs(cls)


def field_names() -> list[str]:
    """Every name a form of the app sends: the form structs' fields, the templates' inputs."""
    names = {name for cls in _structs(msgspec.Struct) for name in cls.__struct_fields__}
    for template in TEMPLATES_DIR.rglob("*.html"):
        names |= set(re.findall(r'name="([a-z_]+)"', template.read_text()))
    return sorted(names - {"_csrf_token"})


NAMES = field_names()
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.integers().map(str),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=8).map(lambda text: f"{text}{MARKER}"),
)
forms = st.dictionaries(st.sampled_from(NAMES) | st.text(min_size=1, max_size=12), values, max_size=8)
kinds = st.sampled_from(["urlencoded", "multipart", "multipart-bytes", "raw-urlencoded", "raw-multipart"])


@pytest.fixture
async def admin_email(make_user) -> str:
    return (await make_user(email="fuzz-admin@example.com", role=Role.ADMIN)).email


@pytest.fixture
def admin(settings: Settings, admin_email: str) -> Iterator[TestClient]:
    """The app, with an administrator signed in once for every generated example."""
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        client.get("/login")
        form = {"_csrf_token": client.cookies["csrftoken"], "email": admin_email, "password": PASSWORD}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        yield client


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_form_body_makes_the_app_fail_or_echo_markup(admin: TestClient, data: st.DataObject) -> None:
    posts = [route for route in routes(admin.app) if route.method == "POST" and route.template not in LEFT_OUT]
    token = admin.cookies["csrftoken"]
    route = data.draw(st.sampled_from(posts), label="route")
    form = {"_csrf_token": token, **data.draw(forms, label="form")}
    kind = data.draw(kinds, label="kind")
    if kind == "urlencoded":
        response = admin.post(route.path, data=form)
    elif kind == "multipart":
        upload = data.draw(st.binary(max_size=64), label="file")
        response = admin.post(route.path, data=form, files={"file": ("a.txt", upload, "text/plain")})
    elif kind == "multipart-bytes":  # a well-formed multipart body whose values are any bytes at all
        parts = data.draw(
            st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=40)), max_size=4), label="parts"
        )
        body = b"".join(
            b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name.encode(), value)
            for name, value in [("_csrf_token", token.encode()), *parts]
        )
        response = admin.post(route.path, content=body + b"--b--\r\n", headers={"content-type": MULTIPART})
    else:
        raw = data.draw(st.binary(max_size=300), label="body")
        content_type = "application/x-www-form-urlencoded" if kind == "raw-urlencoded" else MULTIPART
        response = admin.post(route.path, content=raw, headers={"content-type": content_type, "x-csrftoken": token})
    assert response.status_code < 500, f"{route} answered {response.status_code}"
    assert MARKER not in response.text, f"{route} echoed markup unescaped"
