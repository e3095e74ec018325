"""The Cloudflare v4 envelope on every response, errors included.

Exception handlers turn every failure — our `ApiError`, FastAPI's validation errors (400,
not 422, one message per field), malformed JSON, unknown routes, wrong methods and any
unexpected exception — into `{"success": false, "errors": [{"code", "message"}], ...}`.
Nothing ever answers with a stack trace or a bare body.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from veil.control.schemas.common import Envelope, ResultInfo
from veil.control.store.repo.paging import Page

T = TypeVar("T")
log = logging.getLogger("veil.control")

# Error codes (docs/api.md lists them). Where Cloudflare has a well-known code we reuse it.
CODE_VALIDATION = 1004
CODE_ZONE_EXISTS = 1061
CODE_MALFORMED_JSON = 6007
CODE_NO_ROUTE = 7000
CODE_METHOD_NOT_ALLOWED = 7001
CODE_NOT_FOUND = 7003
CODE_FORBIDDEN = 9109
CODE_AUTH = 10000
CODE_INTERNAL = 10001
CODE_RECORD_NOT_FOUND = 81044


class ApiError(Exception):
    """An error answered as an envelope with this status, code and message."""

    def __init__(
        self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def not_found(what: str = "object", code: int = CODE_NOT_FOUND) -> ApiError:
    return ApiError(404, code, f"{what} not found")


def bad_request(message: str, code: int = CODE_VALIDATION) -> ApiError:
    return ApiError(400, code, message)


def ok(result: T, *, result_info: ResultInfo | None = None) -> Envelope[T]:
    return Envelope[T](result=result, result_info=result_info)


def page_info(page: Page, *, count: int, total: int) -> ResultInfo:
    return ResultInfo(
        page=page.page,
        per_page=page.per_page,
        count=count,
        total_count=total,
        total_pages=math.ceil(total / page.per_page) if total else 0,
    )


def error_response(
    status: int, errors: Sequence[tuple[int, str]], headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "success": False,
        "errors": [{"code": code, "message": message} for code, message in errors],
        "messages": [],
        "result": None,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{_field(error.get('loc', ()))}: {message}"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, [(exc.code, exc.message)], exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, [(CODE_MALFORMED_JSON, "Malformed JSON in request body")])
    return error_response(400, [(CODE_VALIDATION, _validation_message(e)) for e in errors[:20]])


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 404:
        return error_response(404, [(CODE_NO_ROUTE, "No route for that URI")], headers)
    if exc.status_code == 405:
        return error_response(405, [(CODE_METHOD_NOT_ALLOWED, "Method not allowed")], headers)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_response(exc.status_code, [(exc.status_code, detail)], headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, [(CODE_INTERNAL, "Internal error")])


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
