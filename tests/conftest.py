"""Shared fixtures: a real origin process and a real `veil edge` process on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.procs import Edge, snapshot_doc, start_edge, start_origin
from veil import compiled

# Property tests check behaviour, not speed: a loaded CI machine must not fail them on time.
settings.register_profile("veil", deadline=None)
settings.load_profile("veil")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test an old build: a compiled module shadows edits of its source."""
    if old := compiled.stale():
        raise pytest.UsageError(
            f"compiled modules older than their source: {old}; run `make install`"
        )


@pytest.fixture(scope="session")
def origin_port() -> Iterator[int]:
    proc, port = start_origin()
    yield port
    proc.terminate()
    proc.wait(5)


@pytest.fixture(scope="session")
def edge(origin_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """One edge (1 worker) for the read-only proxy tests; routes site.test -> the origin."""
    doc = snapshot_doc(
        origin_port,
        hosts={"site.test": ["127.0.0.1"], "*.wild.test": ["127.0.0.1"]},
        read_timeout=2.0,
        max_body_bytes=1024 * 1024,
    )
    e = start_edge(tmp_path_factory.mktemp("edge"), doc)
    yield e
    e.stop()
