"""The Markdown table of a bench run, each figure also given as a ratio of nginx's.

Targets (from the issue): Veil's req/s at least 0.7x nginx's on one core, and Veil's p99 within
1.5x of nginx's at 500 connections. The "bare" proxy (bench/bare_proxy.py) is a calibration
point for what Python can do here, not held to them.
"""

from __future__ import annotations

OTHER_CPU_LIMIT = 0.15  # as in harness.py: more than this and a row is flagged
RPS_TARGET = 0.7
P99_TARGET = 1.5
P99_TARGET_CONNS = 500
Row = dict[str, object]


def ms(us: object) -> str:
    return f"{int(str(us)) / 1000:.2f} ms"


def num(value: object) -> float:
    return float(str(value))


def errors(r: Row) -> int:
    wrk = r["wrk"]
    assert isinstance(wrk, dict)
    errs = wrk["errors"]
    assert isinstance(errs, dict)
    return sum(int(v) for v in errs.values())


def cpu_share(r: Row, key: str) -> float:
    use = r["cpu"]
    assert isinstance(use, dict)
    return float(use.get(key, 0.0))


def cpu(r: Row, key: str) -> str:
    flag = " (!)" if key == "other_cpu" and cpu_share(r, key) > OTHER_CPU_LIMIT else ""
    return f"{cpu_share(r, key):.0%}{flag}"


def per_core(r: Row) -> float:
    """Requests per second of proxy CPU time: throughput as if the proxy's core were full."""
    return num(r["rps"]) / max(cpu_share(r, "proxy_cpu"), 1e-9)


def baseline(rows: list[Row], scenario: object) -> Row | None:
    return next((r for r in rows if r["proxy"] == "nginx" and r["scenario"] == scenario), None)


def ratios(r: Row, base: Row | None) -> tuple[str, str, str]:
    """(req/s, p99, req per CPU-second) of `r` as ratios of nginx's row; blank for nginx."""
    if base is None or r is base:
        return "", "", ""
    rps = num(r["rps"]) / max(num(base["rps"]), 1e-9)
    p99 = num(r["p99_us"]) / max(num(base["p99_us"]), 1e-9)
    eff = per_core(r) / max(per_core(base), 1e-9)
    return f"{rps:.2f}x", f"{p99:.2f}x", f"{eff:.2f}x"


def markdown(rows: list[Row]) -> str:
    lines = [
        "| Scenario | Proxy | req/s | p50 | p99 | req/s vs nginx | p99 vs nginx | proxy CPU "
        "| req/CPU-s | req/CPU-s vs nginx | load CPU busy | other CPU | errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        rps_ratio, p99_ratio, eff_ratio = ratios(r, baseline(rows, r["scenario"]))
        lines.append(
            f"| {r['scenario']} | {r['proxy']} | {num(r['rps']):,.0f} | {ms(r['p50_us'])} "
            f"| {ms(r['p99_us'])} | {rps_ratio} | {p99_ratio} | {cpu(r, 'proxy_cpu')} "
            f"| {per_core(r):,.0f} | {eff_ratio} | {cpu(r, 'load_cpu_busy')} "
            f"| {cpu(r, 'other_cpu')} | {errors(r)} |"
        )
    verdicts = targets(rows)
    return "\n".join(lines + edge_lines(rows) + (["", *verdicts] if verdicts else []))


def edge_lines(rows: list[Row]) -> list[str]:
    """The edge's own counters per run (warm-up included): keep-alive reuse and leaks."""
    out = []
    for r in rows:
        edge = r.get("edge")
        if isinstance(edge, dict) and edge:
            out.append(
                f"| {r['scenario']} | {r['proxy']} | {edge['origin_connects_per_request']:.3f} "
                f"| {edge['client_connections_open_after']} |"
            )
    if not out:
        return []
    head = [
        "",
        "| Scenario | Proxy | origin connections opened per request "
        "| client connections the edge still holds after wrk closed all |",
        "|---|---|--:|--:|",
    ]
    return head + out


def targets(rows: list[Row]) -> list[str]:
    """One line per Veil row and target: the measured ratio and whether it meets it."""
    out = []
    for r in rows:
        base = baseline(rows, r["scenario"])
        if base is None or r is base or not str(r["proxy"]).startswith("veil"):
            continue
        rps = num(r["rps"]) / max(num(base["rps"]), 1e-9)
        out.append(_verdict(r, "req/s", rps, rps >= RPS_TARGET, f">= {RPS_TARGET}x"))
        if r["conns"] == P99_TARGET_CONNS:
            p99 = num(r["p99_us"]) / max(num(base["p99_us"]), 1e-9)
            out.append(_verdict(r, "p99", p99, p99 <= P99_TARGET, f"<= {P99_TARGET}x"))
    return out


def _verdict(r: Row, what: str, ratio: float, ok: bool, target: str) -> str:
    mark = "meets" if ok else "MISSES"
    return f"- {r['proxy']}, {r['scenario']}: {what} {ratio:.2f}x nginx {mark} target {target}"
