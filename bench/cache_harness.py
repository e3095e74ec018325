"""Cache hits: Veil's edge vs nginx proxy_cache (default and tuned) and Varnish. `make bench-cache`.

Theory of operation
-------------------
The pass-through bench's nginx origin (bench/nginx-origin.conf.in) also serves its files under
/c/ with `Cache-Control: max-age=3600`; 1 KiB, 100 KiB and 10 MiB files are served from there.
Each cache in turn gets CPU 0 to itself with one worker (wrk and the origin share CPU 1, as in
bench/harness.py). It is started, warmed (one request per URL, then a second request that must
be a hit by the server's own account, else the run of that server is aborted), and measured:
for each scenario a discarded wrk warm-up run, then a measured wrk --latency run with the
server's CPU time sampled from /proc. The origin's CPU is sampled too: a cache answering from
memory leaves it idle, so a busy origin flags a run that was not all hits.

Then the same server, still warm, is moved into a cgroup with a CPU quota (50% of one CPU by
default) and measured again: there the server, not wrk, is the bottleneck, so req/s under the
same quota ranks the servers by CPU per hit. Last, with --profile, py-spy samples Veil's worker
during an extra, unmeasured 1 KiB run.

Servers: varnish (varnishd -F, malloc 256 MiB, one thread pool, VCL with only the backend),
nginx-default (proxy_cache with nginx's defaults, access log on), nginx-tuned (open_file_cache,
sendfile, proxy_cache_lock, no access log, ...), veil (`veil edge --workers 1
--no-access-log`) and veil+log (the same with the access log on, its default). Results:
bench/out/cache-latest.{json,md}; the table gives ratios vs Varnish and vs nginx-default.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import spy
from harness import assign_cpus, pin_self, wait_for_quiet
from load import HOST, CpuWindow, Scenario, run_wrk, wrk_argv
from meta import describe
from procs import PidBook, Server, free_port, wait_until_serving
from quota import CpuQuota, add_quota_option, remove_stale_cgroups, start_quota
from report import OTHER_CPU_LIMIT, cache_markdown
from servers import (
    OUT,
    ROOT,
    edge_port,
    export_source,
    nginx_cache_server,
    nginx_server,
    resolve_ref,
    varnish_server,
    veil_server,
)

CACHE_OUT = OUT / "cache"
FILES = (("1k.bin", 1024), ("1m.bin", 1024 * 1024), ("100k.bin", 100 * 1024),
         ("10m.bin", 10 * 1024 * 1024))  # fmt: skip
SCENARIOS = (
    Scenario("1 KiB, 50 conns", "/c/1k.bin", 1024, 50),
    Scenario("1 KiB, 500 conns", "/c/1k.bin", 1024, 500),
    Scenario("100 KiB, 50 conns", "/c/100k.bin", 100 * 1024, 50),
    Scenario("10 MiB, 10 conns", "/c/10m.bin", 10 * 1024 * 1024, 10),
)
SERVERS = ("varnish", "nginx-default", "nginx-tuned", "veil", "veil+log")
WARM_TIMEOUT = 10.0  # seconds for a URL to become a hit after its first request


@dataclass
class CacheBench:
    args: argparse.Namespace
    cpus: dict[str, int | None]
    book: PidBook
    origin: Server | None = None
    origin_port: int = 0
    budget_end: float = 0.0
    veil_src: Path | None = None
    quota: CpuQuota | None = None

    def ours(self, server: Server) -> set[int]:
        groups = {server.pgid, os.getpgid(0)}
        if self.origin is not None:
            groups.add(self.origin.pgid)
        return groups


# --- setup --------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    CACHE_OUT.mkdir(parents=True, exist_ok=True)
    book = PidBook(CACHE_OUT / "pids", marker=str(OUT))
    stale = book.reap()
    remove_stale_cgroups()
    if args.reap:
        return 0
    if stale:
        print(f"reaped {len(stale)} process group(s) left by an earlier run: {stale}")
    bench = CacheBench(args, assign_cpus(), book, budget_end=time.monotonic() + args.budget)
    pin_self(bench.cpus["load"])
    prepare_dirs()
    if args.veil_ref:
        args.veil_ref = resolve_ref(args.veil_ref)
        bench.veil_src = export_source(args.veil_ref)
    bench.origin_port = free_port()
    bench.origin = nginx_server("origin", bench.origin_port, bench.cpus["origin"], book)
    args.proxies = args.servers  # meta.describe's name for them
    meta = describe(args, bench.cpus, bench.origin.argv, SERVERS)
    meta["reproduce"] = reproduce(args)
    meta["versions"]["varnish"] = _version(["varnishd", "-V"])  # type: ignore[index]
    results: list[dict[str, object]] = []
    failures: dict[str, str] = {}
    profile: str | None = None
    try:
        bench.quota = start_quota(args.quota, meta)
        bench.origin.start()
        wait_until_serving(bench.origin, bench.origin_port, "/c/1k.bin", HOST, 1024)
        for name in args.servers:
            try:
                rows, prof = bench_server(bench, name)
                results += rows
                profile = prof or profile
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                print(f"error: {name}: {exc}", file=sys.stderr)
                failures[name] = str(exc)[-2000:]
    finally:
        bench.origin.stop()
        book.reap()
        if bench.quota is not None:
            bench.quota.remove()
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    meta["failures"] = failures
    write_results(meta, results, profile)
    if failures:
        print(f"\nbench-cache: {', '.join(failures)} failed (see above); their rows are missing")
    return 1 if failures else 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds per discarded warm-up run")
    p.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    add_quota_option(p, "CPU quota in %% of one CPU for the second set of runs (0: skip them)")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=20.0,
        help="wait up to this long for a quiet machine before each measured run",
    )
    p.add_argument(
        "--retries", type=int, default=1, help="re-measurements of a run disturbed by other work"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=420.0,
        help="seconds after which the run stops waiting for quiet and re-measuring",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also profile veil's 1 KiB hits with py-spy (unmeasured run)",
    )
    p.add_argument(
        "--veil-ref",
        default=None,
        help="measure the edge as of this git commit (default: the work tree)",
    )
    p.add_argument("--reap", action="store_true", help="only stop processes of an earlier run")
    args = p.parse_args()
    if not 0 < args.duration <= 60 or not 0 <= args.warmup <= 30 or not 0 <= args.retries <= 5:
        p.error("--duration must be in (0, 60], --warmup in [0, 30] s, --retries in [0, 5]")
    return args


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    return (done.stdout + done.stderr).strip().splitlines()[0]


def reproduce(args: argparse.Namespace) -> str:
    argv = ["--duration", f"{args.duration:g}", "--warmup", f"{args.warmup:g}"]
    if args.quota != 50:
        argv += ["--quota", str(args.quota)]
    if args.profile:
        argv.append("--profile")
    if args.veil_ref:
        argv += ["--veil-ref", args.veil_ref]
    if list(args.servers) != list(SERVERS):
        argv += ["--servers", *args.servers]
    command = "sudo bash bench/run.sh --cache " + " ".join(argv)
    return command + "   # defaults: sudo make bench-cache"


def prepare_dirs() -> None:
    """Fresh bench/out/cache/NAME/ trees (cold caches) and the origin's files.

    The files come from the same seeded generator as bench/harness.py's, in the same order,
    so 1k.bin and 1m.bin are the same bytes whichever bench made them.
    """
    for name in (*SERVERS, "raw"):
        d = CACHE_OUT / name
        subprocess.run(["rm", "-rf", str(d)], check=True)
        (d / "tmp").mkdir(parents=True)
    origin = OUT / "origin"
    if not (origin / "tmp").is_dir():
        (origin / "tmp").mkdir(parents=True)
    www = OUT / "www"
    www.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)
    for file, size in FILES:
        data = rng.randbytes(size)
        target = www / file
        if not target.exists() or target.stat().st_size != size:
            target.write_bytes(data)


def start_server(bench: CacheBench, name: str) -> tuple[Server, int]:
    cpu, d = bench.cpus["proxy"], CACHE_OUT / name
    if name.startswith("nginx"):
        port = free_port()
        template = f"nginx-cache-{name.removeprefix('nginx-')}.conf.in"
        server = nginx_cache_server(name, template, port, cpu, bench.book, bench.origin_port, d)
        server.start()
    elif name == "varnish":
        port = free_port()
        server = varnish_server(name, port, cpu, bench.book, bench.origin_port, d)
        server.start()
    else:
        server = veil_server(name, bench.origin_port, cpu, bench.book, bench.veil_src, d)
        server.start()
        port = edge_port(d / "state", server)
    wait_until_serving(server, port, "/1k.bin", HOST, 1024, timeout=30)  # uncacheable probe
    return server, port


# --- warming: every URL must be a hit by the server's own account ---------------------------


def fetch(port: int, path: str) -> tuple[int, dict[str, str], int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        resp = conn.getresponse()
        length = len(resp.read())
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, length
    finally:
        conn.close()


def is_hit(name: str, headers: dict[str, str]) -> bool:
    """A hit by the server's own headers: Veil's Cache-Status, nginx's $upstream_cache_status
    (added as X-Cache-Status by the bench configs), Varnish's X-Varnish with two transaction ids
    (this request's and the one that stored the object)."""
    if name.startswith("veil"):
        status = headers.get("cache-status", "")
        entry = next((e for e in status.split(",") if e.strip().startswith("veil")), "")
        return "hit" in [p.strip() for p in entry.split(";")[1:]]
    if name.startswith("nginx"):
        return headers.get("x-cache-status", "") == "HIT"
    return len(headers.get("x-varnish", "").split()) == 2


def warm(name: str, port: int) -> dict[str, str]:
    """One request per URL, then poll (bounded) until it is a hit; the hit's cache headers."""
    seen = {}
    for sc in SCENARIOS:
        if sc.path in seen:
            continue
        fetch(port, sc.path)
        deadline = time.monotonic() + WARM_TIMEOUT
        while True:
            status, headers, length = fetch(port, sc.path)
            if status == 200 and length == sc.size and is_hit(name, headers):
                break
            if time.monotonic() > deadline:
                shown = {k: v for k, v in headers.items() if k in CACHE_HEADERS}
                raise RuntimeError(
                    f"{name} does not serve {sc.path} as a cache hit after warming "
                    f"(HTTP {status}, {length} of {sc.size} bytes, headers {shown}): "
                    "aborting its runs, they would not measure hits"
                )
            time.sleep(0.2)
        seen[sc.path] = "; ".join(f"{k}: {headers[k]}" for k in CACHE_HEADERS if k in headers)
        print(f"  warm {sc.path}: {seen[sc.path]}")
    return seen


CACHE_HEADERS = ("cache-status", "x-cache-status", "x-varnish", "age")


# --- measuring ----------------------------------------------------------------------------


def bench_server(bench: CacheBench, name: str) -> tuple[list[dict[str, object]], str | None]:
    print(f"\n== {name}", flush=True)
    server, port = start_server(bench, name)
    rows: list[dict[str, object]] = []
    profile = None
    try:
        warmed = warm(name, port)
        for sc in SCENARIOS:
            rows.append(measure_quietly(bench, server, port, sc, quota=False))
        if bench.args.profile and name == "veil":
            profile = profile_run(bench, server, port)
        if bench.quota is not None:
            moved = bench.quota.add_group(server.pgid)
            print(f"  under quota ({bench.args.quota}% of one CPU): moved pids {moved}")
            for sc in SCENARIOS:
                rows.append(measure_quietly(bench, server, port, sc, quota=True))
        for row in rows:
            row["warm_check"] = warmed.get(str(row["path"]), "")
    finally:
        server.stop()
    return rows, profile


def measure_quietly(
    bench: CacheBench, server: Server, port: int, sc: Scenario, quota: bool
) -> dict[str, object]:
    """As harness.measure_quietly: wait for a quiet machine, re-measure a disturbed run
    (bounded by --retries and --budget), keep the least disturbed attempt."""
    args = bench.args
    attempts = []
    for attempt in range(1 + args.retries):
        extra = time.monotonic() < bench.budget_end
        wait_for_quiet(args.quiet_wait if extra else 0.0)
        result = measure(bench, server, port, sc, quota)
        result["attempt"] = attempt + 1
        attempts.append(result)
        other = _cpu(result, "other_cpu")
        if other <= OTHER_CPU_LIMIT or attempt == args.retries or not extra:
            break
        print(f"  other work used {other:.2f} cores during the run; measuring again")
    best = min(attempts, key=lambda r: _cpu(r, "other_cpu"))
    best["attempts"] = len(attempts)
    return best


def _cpu(r: dict[str, object], key: str) -> float:
    use = r["cpu"]
    assert isinstance(use, dict)
    return float(use.get(key, 0.0))


def measure(
    bench: CacheBench, server: Server, port: int, sc: Scenario, quota: bool
) -> dict[str, object]:
    args, load_cpu = bench.args, bench.cpus["load"]
    if args.warmup > 0:
        run_wrk(wrk_argv(port, sc, args.warmup, load_cpu), args.warmup)
    argv = wrk_argv(port, sc, args.duration, load_cpu)
    assert bench.origin is not None
    window = CpuWindow(server.pgid, bench.ours(server))
    origin_window = CpuWindow(bench.origin.pgid, set())
    throttled0 = bench.quota.throttled() if quota and bench.quota else {}
    origin_window.start()
    window.start()
    wrk, raw = run_wrk(argv, args.duration)
    cpu_use = window.stop()
    origin_use = origin_window.stop()
    if load_cpu is not None:
        cpu_use["load_cpu_busy"] = cpu_use.get(f"cpu{load_cpu}_busy", 0.0)
    if bench.cpus["proxy"] is not None:
        cpu_use["server_core_busy"] = cpu_use.get(f"cpu{bench.cpus['proxy']}_busy", 0.0)
    cpu_use["origin_cpu"] = origin_use["proxy_cpu"]
    slug = sc.label.replace(" ", "").replace(",", "-")
    tag = "-quota" if quota else ""
    (CACHE_OUT / "raw" / f"{server.name}-{slug}{tag}.txt").write_text(raw)
    if not server.alive():
        raise RuntimeError(f"{server.name} died during {sc.label}:\n{server.tail()}")
    status, headers, length = fetch(port, sc.path)
    if not (status == 200 and length == sc.size and is_hit(server.name, headers)):
        raise RuntimeError(f"{server.name}: {sc.path} no longer a hit after {sc.label}: {headers}")
    row = summarise(server.name, sc, wrk, cpu_use, argv, quota)
    if quota and bench.quota is not None:
        after = bench.quota.throttled()
        row["throttled_periods"] = after.get("nr_throttled", 0) - throttled0.get("nr_throttled", 0)
    print(progress_line(row), flush=True)
    return row


def summarise(
    name: str,
    sc: Scenario,
    wrk: dict[str, object],
    cpu_use: dict[str, float],
    argv: list[str],
    quota: bool,
) -> dict[str, object]:
    lat = wrk["latency_us"]
    assert isinstance(lat, dict)
    seconds = int(str(wrk["duration_us"])) / 1e6
    requests = int(str(wrk["requests"]))
    nbytes = int(str(wrk["bytes"]))
    server_cpu_s = cpu_use["proxy_cpu"] * seconds
    return {
        "proxy": name,  # the key report.py's helpers read
        "scenario": sc.label,
        "path": sc.path,
        "size": sc.size,
        "conns": sc.conns,
        "quota": quota,
        "rps": round(requests / seconds, 1),
        "p50_us": lat["p50"],
        "p99_us": lat["p99"],
        "server_cpu_s": round(server_cpu_s, 3),
        "cpu_us_per_req": round(server_cpu_s / max(requests, 1) * 1e6, 2),
        "mb_per_s": round(nbytes / seconds / 1e6, 1),
        "cpu_s_per_gb": round(server_cpu_s / max(nbytes / 1e9, 1e-9), 3),
        "wrk": wrk,
        "cpu": cpu_use,
        "command": " ".join(argv),
    }


def progress_line(r: dict[str, object]) -> str:
    cpu = r["cpu"]
    assert isinstance(cpu, dict)
    tag = " [quota]" if r["quota"] else ""
    return (
        f"  {r['scenario']:<17}{tag} {float(str(r['rps'])):>9.0f} req/s  p50 {r['p50_us']} us  "
        f"p99 {r['p99_us']} us  server CPU {cpu['proxy_cpu']:.0%} "
        f"({r['cpu_us_per_req']} us/req)  {r['mb_per_s']} MB/s  origin CPU "
        f"{cpu['origin_cpu']:.0%}  other CPU {cpu['other_cpu']:.0%}"
    )


def profile_run(bench: CacheBench, server: Server, port: int) -> str | None:
    """An extra, unmeasured 1 KiB / 50 connections run with py-spy on the edge worker.

    The hit path is compiled with mypyc, whose functions are C functions that py-spy's
    Python-frame view cannot see (it shows nearly all time under `Runner.run`). So py-spy
    samples with --native, which names the compiled functions (`CPyDef_<module>___<Class>___
    <method>`) and C frames of uvloop and the interpreter. --native cannot be combined with
    --nonblocking: the worker is paused for each sample (200 Hz), which slows this run, not the
    measured ones. The summary table folds native names back to module:function.
    """
    py_spy = ROOT / ".venv" / "bin" / "py-spy"
    if not py_spy.exists():
        print("  no .venv/bin/py-spy: skipping the profile (.venv/bin/pip install py-spy)")
        return None
    seconds = max(bench.args.duration, 5.0)
    worker = spy.busiest(server.pgid)
    svg, raw = CACHE_OUT / "profile.svg", CACHE_OUT / "profile.txt"
    spies = []
    for path, fmt in ((svg, "flamegraph"), (raw, "raw")):
        argv = [str(py_spy), "record", "--pid", str(worker), "--duration", str(round(seconds)),
                "--rate", "200", "--native", "--format", fmt, "--output", str(path)]  # fmt: skip
        spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    wrk_seconds = seconds + 1
    run_wrk(wrk_argv(port, SCENARIOS[0], wrk_seconds, bench.cpus["load"]), wrk_seconds)
    for sampler in spies:
        try:
            _, err = sampler.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            sampler.kill()
            sampler.communicate()
            print("  py-spy did not finish in time")
            return None
        if sampler.returncode != 0:
            print(f"  py-spy failed: {err.decode(errors='replace').strip()[-300:]}")
            return None
    table = spy.summary(native_names(raw.read_text()), top=25)
    (CACHE_OUT / "profile.md").write_text(table + "\n")
    print(f"\nProfile of {server.name} (pid {worker}), {SCENARIOS[0].label} hits: {svg}\n{table}\n")
    return table


def native_names(collapsed: str) -> str:
    """Collapsed stacks with mypyc's C names as Python ones, e.g. `CPyDef_server___Client`
    `Connection___write (...)` becomes `veil/edge/server.py:ClientConnection.write` once
    spy.frame_name has shortened it."""
    out = []
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = []
        for frame in stack.split(";"):
            func = frame.partition(" (")[0]
            if func.startswith(("CPyDef_", "CPyPy_")):
                parts = func.split("_", 1)[1].split("___")
                module = MYPYC_MODULES.get(parts[0], parts[0])
                frame = f"{'.'.join(parts[1:])} ({module}:0)"
            frames.append(frame)
        out.append(";".join(frames) + " " + count)
    return "\n".join(out)


# mypyc's short module names (the last component) -> a path for the profile table
MYPYC_MODULES = {
    name.rpartition(".")[2]: name.replace(".", "/") + ".py"
    for name in (
        "veil.edge.exchange", "veil.edge.server", "veil.edge.rewrite", "veil.edge.upstream",
        "veil.edge.context", "veil.edge.accesslog", "veil.edge.cache", "veil.edge.caching",
        "veil.cache.freshness", "veil.cache.status", "veil.cache.memory", "veil.cache.s3fifo",
        "veil.cache.policy", "veil.cache.vary", "veil.cache.invalidation",
        "veil.http.cache_control",
    )
}  # fmt: skip


def write_results(
    meta: dict[str, object], results: list[dict[str, object]], profile: str | None
) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    doc = {"meta": meta, "results": results, "profile": profile}
    table = cache_markdown(results, quota=str(meta.get("quota", "")))
    for path in (CACHE_OUT / f"results-{stamp}.json", OUT / "cache-latest.json"):
        path.write_text(json.dumps(doc, indent=2) + "\n")
    (OUT / "cache-latest.md").write_text(table + "\n")
    print("\n" + table)
    print(f"\nResults: {OUT / 'cache-latest.json'} (and cache/results-{stamp}.json), "
          f"table in cache-latest.md")  # fmt: skip
    print(f"Reproduce: {meta['reproduce']}")
    print("Each measured run, e.g.:")
    for r in results[: len(SCENARIOS)]:
        print(f"  {r['command']}")


if __name__ == "__main__":
    sys.exit(main())
