"""Driving load: one wrk run (pinned, bounded in time), its JSON line, and CPU accounting.

wrk is closed-loop: each connection sends its next request when the previous answer is in,
so latency percentiles are those of a saturated server at that concurrency (no coordinated-
omission correction). `bench/report.lua` prints the summary as one `WRK_JSON {...}` line.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from procs import pinned, process_ticks

HOST = "bench.localhost"
LUA = Path(__file__).with_name("report.lua")


@dataclass(frozen=True)
class Scenario:
    label: str  # "1 KiB, 50 conns"
    path: str  # "/1k.bin"
    size: int  # response body bytes
    conns: int


def wrk_argv(port: int, scenario: Scenario, seconds: float, cpu: int | None) -> list[str]:
    return pinned(
        cpu,
        [
            "wrk",
            "-t1",
            f"-c{scenario.conns}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "--latency",
            "-H",
            f"Host: {HOST}",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}{scenario.path}",
        ],
    )


def run_wrk(argv: list[str], seconds: float) -> tuple[dict[str, object], str]:
    """Run wrk once (killed if it overruns by 30 s); its parsed JSON line and full output."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {shlex.join(argv)}\n{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result: dict[str, object] = json.loads(line.removeprefix("WRK_JSON "))
            return result, done.stdout
    raise RuntimeError(f"no WRK_JSON line from wrk:\n{done.stdout}\n{done.stderr}")


def cpu_jiffies() -> dict[str, tuple[int, int, int]]:
    """Per CPU from /proc/stat: (busy, total, process) jiffies.

    Busy is everything but idle and iowait; process is user + nice + system, the part that
    processes' own utime/stime account for (interrupts and steal are not).
    """
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if not name.startswith("cpu") or name == "cpu":
                continue
            values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
            idle = values[3] + values[4]
            out[name] = (sum(values) - idle, sum(values), sum(values[:3]))
    return out


def group_ticks(
    before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]
) -> Counter[int]:
    """CPU ticks each process group used between two `process_ticks()` (live processes)."""
    used: Counter[int] = Counter()
    for pid, (pgid, now) in after.items():
        used[pgid] += now - before.get(pid, (pgid, 0))[1]
    return used


def children_cpu() -> float:
    """CPU seconds of this process's reaped children (each finished wrk run)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass
class CpuWindow:
    """CPU use between `start()` and `stop()`, in cores (1.0 = one CPU fully busy).

    Per-CPU busy shares from /proc/stat; the proxy group's own CPU; and "other": the process
    CPU time of the whole machine minus the bench's own (proxy, origin, harness, wrk) — work
    that does not belong to the bench and skews its figures.
    """

    proxy: int  # process group of the proxy under test
    ours: set[int]  # process groups of the bench itself (proxy, origin, harness)
    t0: float = 0.0
    jiffies0: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    procs0: dict[int, tuple[int, int]] = field(default_factory=dict)
    children0: float = 0.0

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.jiffies0 = cpu_jiffies()
        self.procs0 = process_ticks()
        self.children0 = children_cpu()

    def stop(self) -> dict[str, float]:
        wall = max(time.monotonic() - self.t0, 1e-9)
        wrk = children_cpu() - self.children0
        used = group_ticks(self.procs0, process_ticks())
        now = cpu_jiffies()
        hz = os.sysconf("SC_CLK_TCK")
        usage, process = {}, 0
        for cpu, (busy, total, proc) in now.items():
            b0, t0, p0 = self.jiffies0[cpu]
            usage[f"{cpu}_busy"] = round((busy - b0) / max(total - t0, 1), 3)
            process += proc - p0
        ours = sum(used[g] for g in self.ours) / hz + wrk
        usage["proxy_cpu"] = round(used[self.proxy] / hz / wall, 3)
        usage["other_cpu"] = round(max(process / hz - ours, 0.0) / wall, 3)
        return usage
