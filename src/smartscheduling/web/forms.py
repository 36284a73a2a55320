"""HTML forms on msgspec Structs: every field's error at once, in words, next to the field.

A form schema is a ``msgspec.Struct`` whose fields are ``Annotated`` with ``Meta``:
``title`` is the label used in messages, ``min_length``/``max_length``/``pattern`` are
checked, and ``extra`` may carry ``clean`` (a function that normalises the value or
raises ``ValueError`` with a sentence for the user), ``message`` (the sentence for a
value of the wrong shape), ``secret`` (never echoed back into the form) and
``multiline`` (a ``<textarea>``: line breaks and tabs allowed). Text fields refuse
control characters (NUL included) and, unless multiline, line breaks: a name must not
be able to smuggle lines into an e-mail. Whole numbers must fit the database's integer
columns (−2³¹ … 2³¹−1) unless the field sets its own bounds. A schema
may define ``check(values) -> dict[str, str]``, a static method for rules across
fields; it sees every value that passed its own checks, so that all problems are shown
at once.

``parse_form`` returns ``(data, state)``: ``data`` is the Struct or ``None``;
``state`` holds what the user typed (secrets excepted) and the errors, for re-rendering.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import msgspec
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.refusals import RefusedError
from smartscheduling.web.errors import refusal_answer

S = TypeVar("S", bound=msgspec.Struct)
#: Upper bound on a submitted value, unless its field allows more (``max_length``).
MAX_FIELD_BYTES = 10_000
#: What a database integer column holds (PostgreSQL's ``integer``).
INT_RANGE = (-(2**31), 2**31 - 1)
#: Control characters (C0, DEL, C1), and line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The same, less line breaks and tabs: what a multi-line field refuses.
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("[\n\r\u2028\u2029\x85]")


def _control_problem(text: str, label: str, *, multiline: bool) -> str | None:
    """Why ``text`` cannot be stored as it is, or ``None``."""
    if multiline:
        return None if not _CONTROL_BUT_LINES.search(text) else f"{label} contains an invisible control character."
    if not _CONTROL.search(text):
        return None
    if _LINE_BREAK.search(text):
        return f"{label} must fit on one line: remove the line breaks."
    return f"{label} contains an invisible control character: please type it again."


def _byte_limit(meta: msgspec.Meta | None) -> int:
    """A field's own ``max_length`` (in characters, up to 4 bytes each) may raise the bound."""
    return max(MAX_FIELD_BYTES, 4 * meta.max_length) if meta and meta.max_length else MAX_FIELD_BYTES


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def checked(self, name: str) -> bool:
        return self.values.get(name, "") in ("true", "on", "1", "yes")

    def refuse(self, error: RefusedError) -> dict[str, Any]:
        """Show a refusal's sentences next to their fields; the status and headers to
        answer with (``**`` into the form's response)."""
        self.errors.update(error.problems)
        return refusal_answer(error)

    @property
    def first_error_field(self) -> str | None:
        return next(iter(self.errors), None)


def _meta_of(annotation: Any) -> tuple[Any, msgspec.Meta | None]:
    """``(type, Meta)`` of ``Annotated[T, Meta(...)]``, also inside ``… | None``."""
    if get_origin(annotation) in (Union, UnionType):
        annotated = [arg for arg in get_args(annotation) if get_origin(arg) is Annotated]
        if annotated:
            return _meta_of(annotated[0])
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        metas = [e for e in extras if isinstance(e, msgspec.Meta)]
        return base, metas[0] if metas else None
    return annotation, None


def _shape_message(base: Any, meta: msgspec.Meta | None, label: str) -> str:
    extra = (meta.extra or {}) if meta else {}
    if "message" in extra:
        return str(extra["message"])
    if base is datetime.date or datetime.date in get_args(base):
        return f"Enter {label.lower()} as a date, like 1990-04-23."
    if base is int or int in get_args(base):
        return f"Enter {label.lower()} as a whole number."
    if meta and meta.min_length and meta.min_length > 1:
        return f"{label} needs at least {meta.min_length} characters."
    if meta and meta.max_length:
        return f"{label} can be at most {meta.max_length} characters long."
    return f"Please check {label.lower()}."


class _FieldProblem(Exception):  # noqa: N818 (a message for the form, not an error of ours)
    """What is wrong with one field, in a sentence for the person who filled it in."""


def _label(name: str, meta: msgspec.Meta | None) -> str:
    return meta.title if meta and meta.title else name.replace("_", " ").capitalize()


def _read_field(info: msgspec.structs.FieldInfo, text: str) -> Any:
    """The field's value from its submitted text, or :class:`_FieldProblem`."""
    base, meta = _meta_of(info.type)
    extra = (meta.extra or {}) if meta else {}
    label = _label(info.name, meta)
    if len(text.encode()) > _byte_limit(meta):
        raise _FieldProblem(f"{label} is far too long.")
    if base is bool:
        return text in ("true", "on", "1", "yes")
    if not extra.get("secret") and (problem := _control_problem(text, label, multiline=bool(extra.get("multiline")))):
        raise _FieldProblem(problem)  # (secrets are only ever hashed or compared)
    if text == "":
        if info.required:
            raise _FieldProblem(str(extra.get("required", f"Please fill in {label.lower()}.")))
        return info.default if info.default is not msgspec.NODEFAULT else None
    try:
        value = msgspec.convert(text, info.type, strict=False)
    except msgspec.ValidationError:
        raise _FieldProblem(_shape_message(base, meta, label)) from None
    if isinstance(value, int) and not isinstance(value, bool) and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise _FieldProblem(_shape_message(base, meta, label))
    clean: Callable[[Any], Any] | None = extra.get("clean")
    if clean is None:
        return value
    try:
        return clean(value)
    except ValueError as exc:
        raise _FieldProblem(str(exc)) from None


def parse_form(schema: type[S], form: Mapping[str, Any]) -> tuple[S | None, FormState]:
    state = FormState()
    values: dict[str, Any] = {}
    for info in msgspec.structs.fields(schema):
        raw = form.get(info.encode_name)
        if isinstance(raw, list):  # a repeated field: the last one wins, like most frameworks
            raw = raw[-1] if raw else None
        text = raw if isinstance(raw, str) else ""
        _, meta = _meta_of(info.type)
        if not (meta and meta.extra and meta.extra.get("secret")):
            text = text.strip()
            state.values[info.name] = text[: _byte_limit(meta)]
        try:
            values[info.name] = _read_field(info, text)
        except _FieldProblem as problem:
            state.errors[info.name] = str(problem)
    check: Callable[[dict[str, Any]], dict[str, str]] | None = getattr(schema, "check", None)
    for name, problem in (check(values) if check else {}).items():
        state.errors.setdefault(name, problem)
    if state.errors:
        return None, state
    return msgspec.convert(values, schema, strict=False), state


def render_form(
    request: HTMXRequest,
    page: str,
    partial: str,
    state: FormState,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMXTemplate:
    """The whole page, or for htmx just the form: the same URL serves both."""
    return HTMXTemplate(
        template_name=partial if request.htmx else page,
        context={"form": state, **context},
        status_code=status_code,
        headers=headers,
    )
