"""A CPU quota for a benchmarked server: a cgroup (v2 if it has the cpu controller, else v1's
cpu hierarchy). Under the same quota every server is CPU-bound, so req/s ranks servers by CPU
per request even on a machine whose load generator cannot saturate an unconstrained server."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from procs import group_pids

CGROUP_PREFIX = "veil-bench-"


@dataclass
class CpuQuota:
    """One cgroup limiting its processes to `percent` of one CPU (quota per 100 ms period).

    systemd-run --scope needs systemd as init; the bench machine may have none (a container),
    so the cgroup is made by hand: cgroup v2 `cpu.max`, or on a v1/hybrid hierarchy
    `cpu.cfs_quota_us` / `cpu.cfs_period_us`. Servers are moved in by writing their pids to
    `cgroup.procs` (all threads of each process move; later threads and children inherit).
    """

    percent: int
    path: Path | None = None
    kind: str = ""
    period_us: int = 100_000
    moved: list[int] = field(default_factory=list)

    def create(self) -> None:
        name = f"{CGROUP_PREFIX}{os.getpid()}"
        v2 = Path("/sys/fs/cgroup")
        quota = self.period_us * self.percent // 100
        if "cpu" in _read(v2 / "cgroup.controllers").split():
            with contextlib.suppress(OSError):  # the parent must delegate cpu to its children
                (v2 / "cgroup.subtree_control").write_text("+cpu")
            self.path, self.kind = v2 / name, "v2"
            self.path.mkdir()
            (self.path / "cpu.max").write_text(f"{quota} {self.period_us}")
        elif (v2 / "cpu" / "cpu.cfs_quota_us").exists():
            self.path, self.kind = v2 / "cpu" / name, "v1"
            self.path.mkdir()
            (self.path / "cpu.cfs_period_us").write_text(str(self.period_us))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            raise RuntimeError("no cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us)")

    def describe(self) -> str:
        limit = "cpu.max" if self.kind == "v2" else "cpu.cfs_quota_us"
        return f"cgroup {self.kind} {self.path} ({limit}: {self.percent}% of one CPU)"

    def add_group(self, pgid: int) -> list[int]:
        """Move every live process of a process group in; the pids moved."""
        assert self.path is not None
        pids = group_pids(pgid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                (self.path / "cgroup.procs").write_text(str(pid))
        inside = {int(p) for p in _read(self.path / "cgroup.procs").split()}
        missing = [p for p in group_pids(pgid) if p not in inside]
        if missing:
            raise RuntimeError(f"pids {missing} did not move into {self.path}")
        self.moved += pids
        return pids

    def throttled(self) -> dict[str, int]:
        """cpu.stat: how often the quota bit (nr_throttled), to show the quota was binding."""
        assert self.path is not None
        stat = {}
        for line in _read(self.path / "cpu.stat").splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                stat[key] = int(value)
        return stat

    def remove(self) -> None:
        """rmdir the cgroup once its processes are gone (bounded wait)."""
        if self.path is None:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.2)
        print(f"warning: could not remove {self.path} (processes still in it?)")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def remove_stale_cgroups() -> None:
    """Empty cgroups of earlier (killed) runs."""
    for parent in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpu")):
        with contextlib.suppress(OSError):
            for d in parent.glob(f"{CGROUP_PREFIX}*"):
                if not _read(d / "cgroup.procs").split():
                    with contextlib.suppress(OSError):
                        d.rmdir()


def _percent(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be in [0, 100] (% of one CPU; 0 skips the runs)")
    return value


def add_quota_option(parser: argparse.ArgumentParser, help: str) -> None:
    """`--quota PERCENT` (default 50; 0 skips the runs under a quota)."""
    parser.add_argument("--quota", type=_percent, default=50, help=help)


def start_quota(percent: int, meta: dict[str, object]) -> CpuQuota | None:
    """The cgroup for the runs under a quota (None for --quota 0), recorded in the results."""
    if not percent:
        return None
    quota = CpuQuota(percent)
    quota.create()
    meta["quota"] = quota.describe()
    print(f"quota runs: {quota.describe()}")
    return quota
