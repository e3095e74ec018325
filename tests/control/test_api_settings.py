"""Zone settings `origin` and `max_upload`, in Cloudflare's settings shape."""

from __future__ import annotations

from tests.control.harness import Api
from veil.snapshot import OriginSettings


async def test_origin_defaults_match_the_snapshot_defaults(api: Api) -> None:
    """An untouched zone reports veil.snapshot.OriginSettings' defaults, modified_on null."""
    zone = await api.zone("example.com")
    setting = await api.ok("GET", f"/zones/{zone['id']}/settings/origin")
    defaults = OriginSettings()
    assert setting == {
        "id": "origin",
        "value": {
            "scheme": defaults.scheme,
            "port": defaults.port,
            "host_header": defaults.host_header,
            "connect_timeout": defaults.connect_timeout,
            "read_timeout": defaults.read_timeout,
        },
        "editable": True,
        "modified_on": None,
    }
    upload = await api.ok("GET", f"/zones/{zone['id']}/settings/max_upload")
    assert upload["value"] == 100 and upload["id"] == "max_upload"


async def test_patch_origin_merges_and_validates(api: Api) -> None:
    """PATCH changes only the given fields; host_header may be set back to null."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/settings/origin"
    first = await api.ok(
        "PATCH",
        path,
        json={"value": {"scheme": "https", "port": 8443, "host_header": "Origin.Example.NET"}},
    )
    assert first["value"]["port"] == 8443 and first["value"]["host_header"] == "origin.example.net"
    assert first["modified_on"] is not None
    second = await api.ok("PATCH", path, json={"value": {"read_timeout": 30, "host_header": None}})
    assert second["value"] == {
        "scheme": "https",
        "port": 8443,
        "host_header": None,
        "connect_timeout": 15.0,
        "read_timeout": 30.0,
    }
    for bad in [
        {"scheme": "ftp"},
        {"port": 0},
        {"port": 70000},
        {"connect_timeout": 0},
        {"read_timeout": 100000},
        {"host_header": "bad host"},
    ]:
        response = await api.client.patch(path, json={"value": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["message"].startswith("value.")


async def test_patch_max_upload(api: Api) -> None:
    """max_upload takes a size in MB within bounds."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/settings/max_upload"
    assert (await api.ok("PATCH", path, json={"value": 200}))["value"] == 200
    assert (await api.client.patch(path, json={"value": 0})).status_code == 400
    listed = await api.ok("GET", f"/zones/{zone['id']}/settings")
    assert {s["id"]: s["value"] for s in listed}["max_upload"] == 200
