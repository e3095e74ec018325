"""Every response is an envelope: 404, 405, 400 (validation, malformed JSON), 401, 500."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from tests.control.harness import BASE, Api
from veil.control.app import control_state, create_app


def _is_error_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, object] = response.json()
    assert set(body) >= {"success", "errors", "messages", "result"}
    assert body["success"] is False and body["result"] is None
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    assert all(set(e) == {"code", "message"} for e in errors)
    return body


async def test_unknown_route_is_a_404_envelope(api: Api) -> None:
    """An unknown path answers the Cloudflare 404 envelope (code 7000)."""
    body = _is_error_envelope(await api.client.get("/no/such/thing"), 404)
    assert body["errors"] == [{"code": 7000, "message": "No route for that URI"}]
    outside = await api.client.get("http://control.test/")
    _is_error_envelope(outside, 404)


async def test_wrong_method_is_a_405_envelope(api: Api) -> None:
    """A known path with the wrong method answers a 405 envelope."""
    body = _is_error_envelope(await api.client.put("/zones"), 405)
    assert body["errors"] == [{"code": 7001, "message": "Method not allowed"}]


async def test_malformed_json_is_a_400_envelope(api: Api) -> None:
    """A body that is not JSON answers 400 code 6007."""
    response = await api.client.post(
        "/zones", content=b'{"name": "x', headers={"Content-Type": "application/json"}
    )
    body = _is_error_envelope(response, 400)
    assert body["errors"] == [{"code": 6007, "message": "Malformed JSON in request body"}]


async def test_validation_errors_are_400_with_per_field_messages(api: Api) -> None:
    """422s become 400s with one message per field."""
    response = await api.client.post(
        "/accounts", json={"name": "", "contact_email": 5, "contact_email_verified": "maybe"}
    )
    body = _is_error_envelope(response, 400)
    fields = sorted(str(e["message"]).split(":")[0] for e in body["errors"])  # type: ignore[attr-defined]
    assert fields == ["contact_email", "contact_email_verified", "name"]
    query = _is_error_envelope(await api.client.get("/zones", params={"page": "zero"}), 400)
    assert str(query["errors"][0]["message"]).startswith("page:")  # type: ignore[index]
    missing = _is_error_envelope(await api.client.post("/zones"), 400)
    assert missing["errors"]


async def test_unauthenticated_is_a_401_envelope(api: Api) -> None:
    """No token: 401 envelope."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url=BASE) as c:
        _is_error_envelope(await c.get("/zones"), 401)


async def test_unexpected_errors_are_a_500_envelope_without_details(api: Api) -> None:
    """An exception inside a handler answers a bare 500 envelope, no stack trace."""
    router = APIRouter()

    @router.get("/__boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(api.settings)  # a private app: the shared one stays untouched
    app.include_router(router, prefix="/client/v4")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            response = await client.get("/__boom")
    finally:
        control_state(app).db.dispose()
    body = _is_error_envelope(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["errors"] == [{"code": 10001, "message": "Internal error"}]


async def test_openapi_is_served(api: Api) -> None:
    """The OpenAPI document is at /client/v4/openapi.json with 400 (not 422) errors."""
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert "/client/v4/zones/{zone_id}/dns_records" in doc["paths"]
    post = doc["paths"]["/client/v4/zones"]["post"]["responses"]
    assert "400" in post and "422" not in post
