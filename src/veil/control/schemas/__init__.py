"""Pydantic v2 schemas: `XCreate` / `XUpdate` bodies in, `XPublic` results out (Cloudflare's
object shapes, so Cloudflare's clients can parse them)."""
