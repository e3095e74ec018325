"""The control plane: a Cloudflare-v4-shaped API over a SQL store, publishing versioned config
snapshots to the edge.

Layout: `store/` (tables, repositories, Alembic migrations), `schemas/` (XCreate/XUpdate/
XPublic), `routers/` (one per resource), `deps.py` (typed dependencies), `publish.py` (DB →
`veil.snapshot.Snapshot`, long-poll hub), `bootstrap.py` (`prepare`), `server.py` (`run`),
`app.py` (`create_app`). Control never imports `veil.edge`.
"""
