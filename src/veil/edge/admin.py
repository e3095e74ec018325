"""The edge's admin endpoint: Prometheus metrics aggregated over every worker.

Workers dump plain counters to `STATE_DIR/metrics/worker-N.json` (metrics.py); this collector
sums them at scrape time, so the hot path never touches prometheus-client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry


class WorkerFilesCollector(Collector):
    def __init__(self, metrics_dir: Path) -> None:
        self._dir = metrics_dir

    def _load(self) -> list[dict[str, Any]]:
        docs = []
        for path in sorted(self._dir.glob("worker-*.json")):
            try:
                docs.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return docs

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        docs = self._load()
        requests = CounterMetricFamily(
            "veil_edge_requests", "Responses sent to visitors, by status", labels=["status"]
        )
        by_status: dict[str, int] = {}
        for doc in docs:
            for status, count in doc.get("requests", {}).items():
                by_status[status] = by_status.get(status, 0) + int(count)
        for status, count in sorted(by_status.items()):
            requests.add_metric([status], count)
        yield requests
        rejected = CounterMetricFamily(
            "veil_edge_rejected_requests",
            "Requests refused by framing or limits",
            labels=["status"],
        )
        merged: dict[str, int] = {}
        for doc in docs:
            for status, count in doc.get("rejected", {}).items():
                merged[status] = merged.get(status, 0) + int(count)
        for status, count in sorted(merged.items()):
            rejected.add_metric([status], count)
        yield rejected
        errors = CounterMetricFamily(
            "veil_edge_origin_errors", "Origin failures answered by the edge", labels=["code"]
        )
        merged = {}
        for doc in docs:
            for code, count in doc.get("origin_errors", {}).items():
                merged[code] = merged.get(code, 0) + int(count)
        for code, count in sorted(merged.items()):
            errors.add_metric([code], count)
        yield errors
        for key, help_text in (
            ("bytes_out", "Bytes sent to visitors"),
            ("bytes_in", "Request head bytes sent to origins"),
            ("connections_total", "Visitor connections accepted"),
            ("upstream_connects", "New connections opened to origins"),
        ):
            counter = CounterMetricFamily(f"veil_edge_{key}", help_text)
            counter.add_metric([], sum(int(d.get(key, 0)) for d in docs))
            yield counter
        open_conns = GaugeMetricFamily("veil_edge_connections_open", "Open visitor connections")
        open_conns.add_metric([], sum(int(d.get("connections_open", 0)) for d in docs))
        yield open_conns
        version = GaugeMetricFamily(
            "veil_edge_snapshot_version", "Lowest config snapshot version across workers"
        )
        version.add_metric([], min((int(d.get("snapshot_version", 0)) for d in docs), default=0))
        yield version
        workers = GaugeMetricFamily("veil_edge_workers", "Workers reporting metrics")
        workers.add_metric([], len(docs))
        yield workers


def start_admin(listen: tuple[str, int], metrics_dir: Path) -> None:
    """Serve /metrics on `listen` from a background thread of the supervisor."""
    registry = CollectorRegistry()
    registry.register(WorkerFilesCollector(metrics_dir))
    start_http_server(listen[1], addr=listen[0], registry=registry)
