"""Profiling the edge under load: py-spy on the busiest worker, summarised as hot functions.

`bash bench/run.sh --profile` adds one extra, unmeasured wrk run (1 KiB, 50 connections, no
access log) while py-spy samples the edge worker. It writes bench/out/profile.svg (flame
graph), bench/out/profile.txt (collapsed stacks) and prints the functions with the most samples,
both "self" (the function itself was running) and "total" (it was on the stack).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from procs import group_pids, process_ticks


def busiest(pgid: int) -> int:
    """The process of a group that has used the most CPU (the edge worker, not its supervisor)."""
    ticks = process_ticks()
    return max(group_pids(pgid), key=lambda pid: ticks.get(pid, (0, 0))[1])


def record(py_spy: Path, pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    """Start py-spy sampling `pid` for `seconds` (non-blocking: the worker is never paused)."""
    argv = [str(py_spy), "record", "--pid", str(pid), "--duration", str(round(seconds)),
            "--rate", "200", "--nonblocking", "--format", fmt, "--output", str(out)]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def frame_name(frame: str) -> str:
    """'on_body (veil/edge/exchange.py:402)' -> 'veil/edge/exchange.py:on_body'."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0]
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.rpartition(marker)[2]
            break
    return f"{path}:{func}" if path else func


def hot_functions(collapsed: str, top: int = 15) -> tuple[int, list[tuple[str, int, int]]]:
    """Total samples and the `top` functions by self samples: (name, self, total)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    return samples, [(name, n, total[name]) for name, n in own.most_common(top)]


def summary(collapsed: str, top: int = 15) -> str:
    samples, rows = hot_functions(collapsed, top)
    lines = ["| function (self time order) | self | total |", "|---|--:|--:|"]
    for name, own, total in rows:
        lines.append(f"| {name} | {own / samples:.1%} | {total / samples:.1%} |")
    return "\n".join([f"{samples} samples (py-spy, non-idle, Python frames)", *lines])
