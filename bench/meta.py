"""What a result file says about the run: versions, machine, commit, how to repeat it."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import time
from collections.abc import Sequence
from importlib import metadata

from servers import ROOT


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    return (done.stdout + done.stderr).strip().splitlines()[0]


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def describe(
    args: argparse.Namespace,
    cpus: dict[str, int | None],
    origin: list[str],
    all_proxies: Sequence[str],
) -> dict[str, object]:
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "reproduce": reproduce(args, all_proxies),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "cpus": cpus,
        "machine": {
            "kernel": platform.release(),
            "cpu_model": _cpu_model(),
            "cpus_online": os.cpu_count(),
            "loadavg_at_start": os.getloadavg(),
        },
        "versions": {
            "nginx": _version(["nginx", "-v"]),
            "wrk": _version(["wrk", "-v"]),
            "python": platform.python_version(),
            "veil": _package("veil"),
            "uvloop": _package("uvloop"),
            "httptools": _package("httptools"),
        },
        "origin_command": shlex.join(origin),
        "git": _git_state(args.veil_ref),
    }


def _git_state(ref: str | None) -> dict[str, object]:
    """The commit measured, and how many files under src/ differ from it (others' work)."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, text=True)
        return done.stdout.strip()

    if ref is not None:
        return {"commit": git("rev-parse", "--short", ref), "measured": f"--veil-ref {ref}"}
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "measured": "work tree",
        "src_files_changed": len(git("status", "--porcelain", "src").splitlines()),
    }


def reproduce(args: argparse.Namespace, all_proxies: Sequence[str]) -> str:
    """The command that repeats this run (as root, from the repository root)."""
    argv = ["--duration", f"{args.duration:g}", "--warmup", f"{args.warmup:g}"]
    if args.veil_ref:
        argv += ["--veil-ref", args.veil_ref]
    if list(args.proxies) != list(all_proxies):
        argv += ["--proxies", *args.proxies]
    if getattr(args, "quota", 50) != 50:
        argv += ["--quota", str(args.quota)]
    return "sudo bash bench/run.sh " + shlex.join(argv) + "   # defaults: sudo make bench"


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor()
