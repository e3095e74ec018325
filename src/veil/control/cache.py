"""Zone cache settings: the stored `zone_settings` values to the snapshot's CacheSettings.
Pure functions, no I/O (docs/cache.md, "Settings")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from veil.snapshot import CACHE_LEVELS, QUERY_MODES, CacheSettings

CACHE_LEVEL = "cache_level"
BROWSER_TTL = "browser_cache_ttl"
EDGE_TTL = "edge_cache_ttl"
DEVELOPMENT_MODE = "development_mode"
CACHE_KEY = "cache_key"
SETTING_IDS = (CACHE_LEVEL, BROWSER_TTL, EDGE_TTL, DEVELOPMENT_MODE, CACHE_KEY)
DEFAULT_LEVEL = "standard"
DEVELOPMENT_MODE_SECONDS = 3 * 3600  # as Cloudflare: development mode ends after three hours

# Cloudflare's cache levels as Veil's (level, forced query mode or None).
LEVEL_ALIASES: Mapping[str, tuple[str, str | None]] = {
    "aggressive": ("standard", None),
    "basic": ("standard", "none"),
    "simplified": ("ignore_query", None),
}


def level_and_query(level: Any, query: str) -> tuple[str, str]:
    """The snapshot's (level, query mode) for a stored cache_level and cache key mode."""
    if isinstance(level, str) and level in LEVEL_ALIASES:
        veil_level, forced = LEVEL_ALIASES[level]
        return veil_level, forced or query
    if isinstance(level, str) and level in CACHE_LEVELS:
        return level, query
    return DEFAULT_LEVEL, query


def ttl(value: Any) -> int | None:
    """A stored TTL: a positive number of seconds, or None for "as the origin says"."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def development_until(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def time_remaining(value: Any, now: float) -> int:
    return max(0, int(development_until(value) - now))


def _strings(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = doc.get(key)
    return tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()


def cache_settings(stored: Mapping[str, Any]) -> CacheSettings:
    """The snapshot's CacheSettings from a zone's stored values (setting id -> value)."""
    key = stored.get(CACHE_KEY)
    key = key if isinstance(key, Mapping) else {}
    query = key.get("query") if key.get("query") in QUERY_MODES else "all"
    level, query = level_and_query(stored.get(CACHE_LEVEL), str(query))
    return CacheSettings(
        level=level,
        edge_ttl=ttl(stored.get(EDGE_TTL)),
        browser_ttl=ttl(stored.get(BROWSER_TTL)),
        query=query,
        query_allow=_strings(key, "query_allow") if query == "allow" else (),
        key_headers=_strings(key, "headers"),
        key_cookies=_strings(key, "cookies"),
        development_mode_until=development_until(stored.get(DEVELOPMENT_MODE)),
    )
