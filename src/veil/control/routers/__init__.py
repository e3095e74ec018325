"""The `/client/v4` API, one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from veil.control.routers import (
    abuse_cases,
    abuse_desk,
    abuse_records,
    abuse_reports,
    account_hosts,
    accounts,
    audit,
    cache_settings,
    dns_records,
    edge,
    purge,
    tokens,
    zone_settings,
    zones,
)

api_router = APIRouter()
for module in (
    tokens,
    accounts,
    account_hosts,
    zones,
    dns_records,
    zone_settings,
    cache_settings,
    purge,
    edge,
    audit,
    abuse_reports,
    abuse_records,
    abuse_desk,
    abuse_cases,
):
    api_router.include_router(module.router)
