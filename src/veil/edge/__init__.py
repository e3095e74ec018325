"""The data plane: an HTTP/1.1 reverse proxy on uvloop + httptools.

It never imports pydantic, SQLAlchemy or `veil.control`: it runs on `veil.snapshot.Snapshot`.
"""
