"""Schemathesis against /client/v4/openapi.json: no generated request gets a 5xx.

Schemathesis' pytest plugin is not used (it does not support this pytest); each operation's
Hypothesis strategy is drawn from directly, a few examples each, derandomised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from veil.control.app import control_state, create_app
from veil.control.bootstrap import prepare
from veil.settings import ControlSettings

MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """A control app on SQLite with the demo zone in it, and its admin token."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    config = ControlSettings(data_dir=data_dir)
    boot = prepare(config, demo_origin=("127.0.0.1", 9000))
    assert boot.operator_token is not None
    app = create_app(config)
    yield app, boot.operator_token
    control_state(app).db.dispose()


def test_no_operation_answers_5xx(fuzz_target: tuple[Any, str]) -> None:
    """Every operation, fed generated input with a valid admin token, never answers 5xx."""
    app, token = fuzz_target
    schema = schemathesis.openapi.from_asgi("/client/v4/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            if case.path == "/client/v4/veil/edge/snapshot":
                case.query = {**(case.query or {}), "wait": 0}
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
            body = response.json()
            assert set(body) >= {"success", "errors", "messages", "result"}, body

        run()
    assert failures == []
