"""`make conformance`: the http-cache-tests suite (cache-tests.fyi) against Veil's edge.

Theory of operation. Three processes, all on 127.0.0.1 and all started here:

1. the suite's origin (`origin.mjs`: the package's handlers on a kernel-chosen port),
2. `veil edge --snapshot` with one zone, `cache-tests.localhost`, whose origin is (1),
3. the suite's client (`client.mjs`) with base URL `http://cache-tests.localhost:EDGE_PORT`;
   its HTTP agent resolves that name to 127.0.0.1 itself, so the edge sees the zone's Host.

The client writes the raw results (the package's results format) and a summary classified by
the package's own rules, also for every published result bundled in the package; this script
prints the comparison table. Every step has a deadline and every child is ended on exit
(including Ctrl-C and SIGTERM). Node and the pinned package are installed when missing.

    .venv/bin/python conformance/run.py [--id TEST_ID] [--keep] [--rev REV | --pure]

`--rev REV` measures a commit instead of the working tree: its `src/` is exported with
`git archive` (the repository is only read) and the edge runs it as pure Python; `--pure`
does the same with the working tree's src/ (no mypyc rebuild needed).
"""

# ruff: noqa: S603, S607  (a harness: it runs node, npm, git and veil, with arguments it builds)

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
VENV = ROOT / ".venv"
VEIL = VENV / "bin" / "veil"
HOSTNAME = "cache-tests.localhost"
NODE_MIN = (14, 8)
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 30.0
SUITE_TIMEOUT = 900.0
SINGLE_TIMEOUT = 120.0
CACHE_TYPES = ("rev-proxy", "cdn")


class HarnessError(Exception):
    """A step of the harness failed; the message says which and why (one line)."""


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        node = ensure_node()
        ensure_package()
        with tempfile.TemporaryDirectory(prefix="veil-conformance-") as tmp:
            return run(node, Path(tmp), args)
    except HarnessError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--id", help="run one test and dump both sides of its exchanges")
    parser.add_argument(
        "--keep", action="store_true", help="copy the edge's access log into conformance/out/"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--rev", help="measure this commit's src/ (pure Python) instead")
    which.add_argument(
        "--pure", action="store_true", help="measure the working tree as pure Python (no rebuild)"
    )
    return parser.parse_args()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# -- dependencies ------------------------------------------------------------------------------


def ensure_node() -> str:
    """The node binary, installed with apt when missing and we are root."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise HarnessError("node and npm are needed: install Node.js >= 14.8 (with npm)")
        print("conformance: installing nodejs and npm with apt-get", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "nodejs", "npm"],
        ):
            _run_checked(cmd, INSTALL_TIMEOUT, env=env)
        node = shutil.which("node")
        if node is None:
            raise HarnessError("apt-get installed nodejs but `node` is not on PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    parts = tuple(int(p) for p in version.stdout.strip().lstrip("v").split(".")[:2])
    if parts < NODE_MIN:
        raise HarnessError(f"node {version.stdout.strip()} is too old: the suite needs >= 14.8")
    return node


def ensure_package() -> None:
    """`npm ci` from the committed lockfile unless node_modules already matches it."""
    marker = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("conformance: installing http-cache-tests (npm ci, pinned by package-lock.json)")
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    _run_checked(cmd, INSTALL_TIMEOUT, cwd=HERE)


def _run_checked(cmd: list[str], timeout: float, **kwargs: Any) -> None:
    try:
        subprocess.run(cmd, check=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"`{' '.join(cmd)}` took longer than {timeout:.0f}s") from exc
    except subprocess.CalledProcessError as exc:
        raise HarnessError(f"`{' '.join(cmd)}` failed with exit status {exc.returncode}") from exc


# -- processes ---------------------------------------------------------------------------------


@contextmanager
def child(cmd: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, logging to `log`; the group is ended on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
    try:
        yield proc
    finally:
        _end_group(proc)


def _end_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    # workers of a supervisor that already exited may linger in the group
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], what: str, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text().strip()
        if proc.poll() is not None:
            raise HarnessError(f"{what} exited with {proc.returncode}: {_tail(log)}")
        time.sleep(0.05)
    raise HarnessError(f"{what} did not start within {START_TIMEOUT:.0f}s: {_tail(log)}")


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"{what} exited with {proc.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise HarnessError(f"{what} is not accepting on 127.0.0.1:{port}: {_tail(log)}")


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def edge_source(rev: str | None, pure: bool, tmp: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """The edge's environment and what it measures: the working tree (refused when its
    compiled hot path is older than the source: `make conformance` rebuilds it first), the
    working tree copied without its compiled modules (`pure`), or REV's src/ exported into
    `tmp`; the copies run as pure Python."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pure:
        ignore = shutil.ignore_patterns("*.so", "__pycache__")
        shutil.copytree(ROOT / "src", tmp / "rev" / "src", ignore=ignore)
        env.update(PYTHONPATH=str(tmp / "rev" / "src"), VEIL_PURE_PYTHON="1")
        return env, {
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": _dirty(),
            "build": "pure-python",
        }
    if rev is None:
        from veil.compiled import compiled_modules, stale

        if old := stale():
            raise HarnessError(f"compiled {old} older than the source: run `make conformance`")
        build = "compiled" if compiled_modules() else "pure-python"
        return env, {
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": _dirty(),
            "build": build,
        }
    commit = _git("rev-parse", "--short", f"{rev}^{{commit}}")
    if not commit:
        raise HarnessError(f"{rev!r} is not a commit of this repository")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src"], cwd=ROOT, capture_output=True, timeout=60
    )
    if archive.returncode != 0:
        raise HarnessError(f"git archive {commit} failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tmp / "rev", filter="data")
    env.update(PYTHONPATH=str(tmp / "rev" / "src"), VEIL_PURE_PYTHON="1")
    return env, {"commit": commit, "dirty": False, "build": "pure-python"}


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    return out.stdout.strip() if out.returncode == 0 else ""


def _dirty() -> bool:
    """Whether the edge's code differs from HEAD (tracked or new files under src/)."""
    return bool(_git("status", "--porcelain", "src"))


def snapshot_doc(origin_port: int) -> dict[str, Any]:
    """One zone whose only host is the suite's origin; the cache at its defaults."""
    return {
        "format": 1,
        "version": 1,
        "created_at": time.time(),
        "zones": [
            {
                "id": "conformance",
                "name": HOSTNAME,
                "account_id": "conformance",
                "max_body_bytes": 10 * 1024 * 1024,
                "origin": {
                    "scheme": "http",
                    "port": origin_port,
                    "host_header": None,
                    "connect_timeout": 5.0,
                    "read_timeout": 30.0,
                },
                "cache": {"level": "standard"},
                "hosts": [{"name": HOSTNAME, "addresses": ["127.0.0.1"]}],
            }
        ],
    }


# -- the run -----------------------------------------------------------------------------------


def run(node: str, tmp: Path, args: argparse.Namespace) -> int:
    if not VEIL.exists() or Path(sys.prefix).resolve() != VENV.resolve():
        raise HarnessError(f"run with {VENV}/bin/python (or `make conformance`)")
    OUT.mkdir(exist_ok=True)
    edge_env, args.measured = edge_source(args.rev, args.pure, tmp)
    port_file, state = tmp / "origin.port", tmp / "edge-state"
    with child(
        [node, str(HERE / "origin.mjs"), str(port_file)], tmp / "origin.log", cwd=HERE
    ) as origin:
        origin_port = int(
            wait_for_file(port_file, origin, "the suite's origin", tmp / "origin.log")
        )
        snapshot = tmp / "snapshot.json"
        snapshot.write_text(json.dumps(snapshot_doc(origin_port)))
        edge_cmd = [
            sys.executable, "-m", "veil", "edge", "--snapshot", str(snapshot),
            "--listen", "127.0.0.1:0", "--workers", "1", "--state-dir", str(state),
            "--allow-private-origins",
        ]  # fmt: skip
        with child(edge_cmd, tmp / "edge.log", cwd=tmp, env=edge_env) as edge:
            addr = wait_for_file(state / "edge.addr", edge, "veil edge", tmp / "edge.log")
            edge_port = int(addr.rsplit(":", 1)[1])
            wait_port(edge_port, edge, "veil edge", tmp / "edge.log")
            base = f"http://{HOSTNAME}:{edge_port}"
            print(f"conformance: origin 127.0.0.1:{origin_port}, edge {addr}, client base {base}")
            code = run_client(node, base, args, tmp)
        if args.id:  # the origin's side of the exchanges the client just dumped
            print(f"\n==== origin log\n{(tmp / 'origin.log').read_text(errors='replace')}")
        if args.keep:
            for name in ("access.log",):
                if (state / name).exists():
                    shutil.copy(state / name, OUT / f"edge-{name}")
            shutil.copy(tmp / "edge.log", OUT / "edge.log")
            shutil.copy(tmp / "origin.log", OUT / "origin.log")
    return code


def run_client(node: str, base: str, args: argparse.Namespace, tmp: Path) -> int:
    client = [node, "--no-warnings", str(HERE / "client.mjs"), "--base", base]
    if args.id:
        return _bounded([*client, "--id", args.id], SINGLE_TIMEOUT, tmp, inherit=True)
    results, summary = OUT / "veil.json", OUT / "summary.json"
    client += ["--results", str(results), "--summary", str(summary)]
    started = time.monotonic()
    code = _bounded(client, SUITE_TIMEOUT, tmp, inherit=False)
    if code != 0:
        raise HarnessError(f"the suite's client exited with {code}: {_tail(tmp / 'client.log')}")
    data = json.loads(summary.read_text())
    data["run"] = _run_info(base, time.monotonic() - started, args.measured)
    summary.write_text(json.dumps(data, indent=2) + "\n")
    print_report(data)
    return 0


def _bounded(cmd: list[str], timeout: float, tmp: Path, *, inherit: bool) -> int:
    log = tmp / "client.log"
    if inherit:  # --id: the dump goes to the terminal
        proc = subprocess.Popen(cmd, cwd=HERE, start_new_session=True)
    else:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=HERE, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"the suite's client did not finish within {timeout:.0f}s") from exc
    finally:
        _end_group(proc, grace=2.0)


def _run_info(base: str, seconds: float, measured: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **measured,
        "base": base,
        "seconds": round(seconds, 1),
    }


# -- the report --------------------------------------------------------------------------------


def print_report(data: dict[str, Any]) -> None:
    veil = data["veil"]
    pkg = data["package"]
    run = data["run"]
    what = f"{run['commit']}{' + uncommitted src/' if run['dirty'] else ''}, {run['build']}"
    print(f"\nhttp-cache-tests {pkg['version']}: {len(veil['tests'])} tests for shared caches")
    print(f"measured: {what}, {run['date']}, {run['seconds']} s")
    for row in sorted(
        (t for t in veil["tests"] if t["result"] in ("fail", "setup_fail", "harness_fail")),
        key=lambda t: (t["suite"], t["id"]),
    ):
        print(f"  {row['result']:<12} {row['id']:<45} {row['message'][:110]}")
    print()
    rows = [("Veil (this run)", veil["counts"])]
    rows += [
        (f"{p['name']} {p['version']}", p["counts"])
        for p in data["published"]
        if p["type"] in CACHE_TYPES
    ]
    print(format_table(rows))
    c = veil["counts"]
    print(
        f"\nVeil: passed {c['pass']}, failed {c['fail']}, optional-failed {c['optional_fail']}, "
        f"setup-failures {c['setup_fail']}  (results: {OUT / 'veil.json'})"
    )


COLUMNS = (
    ("pass", "passed"),
    ("fail", "failed"),
    ("optional_fail", "optional-failed"),
    ("yes", "check yes"),
    ("no", "check no"),
    ("dependency_fail", "dependency"),
    ("setup_fail", "setup"),
    ("retry", "retry"),
    ("untested", "untested"),
)


def format_table(rows: list[tuple[str, dict[str, int]]]) -> str:
    """A Markdown table (also readable as plain text): one row per implementation."""
    header = ["cache", *(title for _, title in COLUMNS)]
    body = [[name, *(str(counts.get(key, 0)) for key, _ in COLUMNS)] for name, counts in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
