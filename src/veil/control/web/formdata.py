"""Reading a posted form: bounded, strict about shape, lenient about content.

Shape problems — a body that is not a form, too large, a field longer than its limit, more
than 1000 URLs, an answer that was not offered, a NUL character, the honeypot filled — are
`FormRejected` (a 400 page saying which). Content problems (a missing signature, a malformed
e-mail address) are the validators' business and come back as per-field errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from veil.abuse.urls import MAX_URLS, split_urls
from veil.control.web.catalog import Field
from veil.control.web.limits import FormLimiter

MAX_BODY = 1024 * 1024  # bytes; the largest form (1000 long URLs and the texts) fits
MAX_FIELDS = 64
MAX_PART = 256 * 1024
HONEYPOT = "website"  # hidden from people by the stylesheet; bots fill every input
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class FormRejected(ValueError):
    """The post is not a form we can read; the message says why, for the reporter."""


async def read_form(request: Request, fields: Iterable[Field]) -> dict[str, str]:
    """The values of `fields` from the posted form (absent radios take their default)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        raise FormRejected("Send the form as application/x-www-form-urlencoded.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise FormRejected(f"The form is too large: at most {MAX_BODY // 1024} KiB.")
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_PART)
    except MultiPartException as exc:
        raise FormRejected(f"The form could not be read: {exc.message}") from None
    except HTTPException as exc:  # Starlette wraps the parser's complaint in a 400
        raise FormRejected(f"The form could not be read: {exc.detail}") from None
    try:
        raw = {key: form.getlist(key)[0] for key in form}
    finally:
        await form.close()
    if any(isinstance(v, UploadFile) for v in raw.values()):
        raise FormRejected("This form takes no files.")
    text = {k: v for k, v in raw.items() if isinstance(v, str)}
    if text.get(HONEYPOT, "").strip():
        raise FormRejected(
            "This post looks automated (a field meant to stay empty was filled). "
            "If you are a person, clear the field labelled “Leave this empty” and send again."
        )
    return {field.name: _value(field, text.get(field.name)) for field in fields}


def _value(field: Field, raw: str | None) -> str:
    if raw is None:
        return field.default
    if "\x00" in raw:
        raise FormRejected(f"“{field.label}” contains a NUL character.")
    if len(raw) > field.max_length:
        raise FormRejected(
            f"“{field.label}” is too long: at most {field.max_length} characters, "
            f"you sent {len(raw)}."
        )
    if field.kind == "radio" and raw not in {value for value, _ in field.choices}:
        allowed = ", ".join(value for value, _ in field.choices)
        raise FormRejected(f"For “{field.label}” choose one of: {allowed}.")
    if field.kind == "checkbox":
        return "1" if raw.strip().lower() in {"1", "true", "on", "yes"} else ""
    if field.name == "urls" and split_urls(raw).truncated:
        raise FormRejected(f"Too many addresses: at most {MAX_URLS} in one report.")
    return raw


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def limiter(request: Request) -> FormLimiter:
    """The form's rate limiter for this app's current state (a new state starts afresh)."""
    state = request.app.state.veil
    holder = getattr(request.app.state, "abuse_web_limiter", None)
    if holder is None or holder[0] is not state:
        holder = (state, FormLimiter())
        request.app.state.abuse_web_limiter = holder
    found: FormLimiter = holder[1]
    return found
