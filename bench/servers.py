"""The servers of the bench: nginx as origin and as reference proxy, the bare Python proxy
(bare_proxy.py), and Veil's edge.

nginx configs are generated into bench/out/ from the `*.conf.in` templates next to this file;
the edge gets a snapshot file routing bench.localhost to the origin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from load import HOST
from procs import PidBook, Server, pinned

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def render(template: str, target: Path, **values: object) -> None:
    """Fill `@NAME@` placeholders (nginx itself uses `$`, so no string.Template)."""
    text = (BENCH / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", str(value))
    left = [line for line in text.splitlines() if PLACEHOLDER.search(line.partition("#")[0])]
    if left:
        raise ValueError(f"unfilled placeholder in {template}: {left[0].strip()}")
    target.write_text(text)


def nginx_server(
    name: str, port: int, cpu: int | None, book: PidBook, origin_port: int | None = None
) -> Server:
    """The origin (no `origin_port`) or the reference proxy in front of it, from templates."""
    d = OUT / name
    conf = d / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # workers write proxy temp files in out/
    if origin_port is None:
        render("nginx-origin.conf.in", conf, user=user, dir=d, port=port, www=OUT / "www")
    else:
        render("nginx-proxy.conf.in", conf, user=user, dir=d, port=port, origin_port=origin_port)
    argv = ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "error.log"),
            "-g", "daemon off;"]  # fmt: skip
    return Server(name, pinned(cpu, argv), d / "stdout.log", book)


def veil_server(
    name: str,
    origin_port: int,
    cpu: int | None,
    book: PidBook,
    src: Path | None,
    d: Path | None = None,
    cache_level: str = "standard",
) -> Server:
    """`.venv/bin/veil edge` with one worker; `veil` without, `veil+log` with the access log.

    `src` (from --veil-ref) goes ahead of the editable install on PYTHONPATH. `d`: its
    directory (snapshot, state, log), bench/out/NAME unless given. `cache_level`: the zone's
    (the pass-through bench uses "bypass": its peer, nginx proxy_pass, does not cache).
    """
    d = OUT / name if d is None else d
    snapshot = d / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_doc(origin_port, cache_level), indent=1))
    argv = [str(ROOT / ".venv" / "bin" / "veil"), "edge", "--snapshot", str(snapshot),
            "--listen", "127.0.0.1:0", "--workers", "1", "--state-dir", str(d / "state"),
            "--allow-private-origins"]  # fmt: skip
    if name in ("veil", "veil+cache"):
        argv.append("--no-access-log")
    env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}
    return Server(name, pinned(cpu, argv), d / "stdout.log", book, env)


def nginx_cache_server(
    name: str, template: str, port: int, cpu: int | None, book: PidBook, origin_port: int, d: Path
) -> Server:
    """nginx proxy_cache in front of the origin (cache bench), its config from `template`."""
    conf = d / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # workers write cache files in out/
    render(template, conf, user=user, dir=d, port=port, origin_port=origin_port)
    argv = ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "error.log"),
            "-g", "daemon off;"]  # fmt: skip
    return Server(name, pinned(cpu, argv), d / "stdout.log", book)


def varnish_server(
    name: str, port: int, cpu: int | None, book: PidBook, origin_port: int, d: Path
) -> Server:
    """varnishd in the foreground (-F), malloc storage, one thread pool, the minimal VCL.

    Its manager and cache child stay in the process group the bench starts (so stopping the
    group stops both) and inherit the taskset pinning. The working directory (-n) is under
    bench/out/, which also puts bench/out/ on its command line for the pid book.
    """
    vcl = d / "bench.vcl"
    render("varnish.vcl.in", vcl, origin_port=origin_port)
    argv = ["varnishd", "-F", "-n", str(d / "work"), "-a", f"127.0.0.1:{port}",
            "-f", str(vcl), "-s", "malloc,256m", "-p", "thread_pools=1"]  # fmt: skip
    return Server(name, pinned(cpu, argv), d / "stdout.log", book)


def bare_server(name: str, origin_port: int, cpu: int | None, book: PidBook) -> Server:
    """bench/bare_proxy.py on a port of its choosing, written to out/NAME/bare.addr.

    The --addr-file argument also puts bench/out/ on its command line, which the pid book
    needs to recognise (and reap) it.
    """
    d = OUT / name
    argv = [str(ROOT / ".venv" / "bin" / "python"), str(BENCH / "bare_proxy.py"),
            "--listen", "127.0.0.1:0", "--origin", f"127.0.0.1:{origin_port}",
            "--addr-file", str(d / "bare.addr")]  # fmt: skip
    return Server(name, pinned(cpu, argv), d / "stdout.log", book)


def resolve_ref(ref: str) -> str:
    """`ref` as a short commit id (so that the reproduce line still means the same later)."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: --veil-ref {ref}: not a commit")
    return done.stdout.strip()


def export_source(ref: str) -> Path:
    """src/ of commit `ref`, unpacked under bench/out/ (to measure it, not the work tree)."""
    target = OUT / "veil-src"
    subprocess.run(["rm", "-rf", str(target)], check=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"bench: --veil-ref {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def snapshot_doc(origin_port: int, cache_level: str = "standard") -> dict[str, object]:
    """One zone, bench.localhost, proxied to the origin on 127.0.0.1."""
    zone = {
        "id": "z1",
        "name": HOST,
        "account_id": "a1",
        "max_body_bytes": 100 * 1024 * 1024,
        "origin": {
            "scheme": "http",
            "port": origin_port,
            "host_header": None,
            "connect_timeout": 5,
            "read_timeout": 30,
        },
        "hosts": [{"name": HOST, "addresses": ["127.0.0.1"]}],
        "cache": {"level": cache_level},
    }
    return {"format": 1, "version": 1, "created_at": 0, "zones": [zone]}


def edge_port(state_dir: Path, server: Server, timeout: float = 20.0) -> int:
    """The port the edge wrote to STATE_DIR/edge.addr (bounded wait)."""
    return addr_port(state_dir / "edge.addr", server, timeout)


def addr_port(addr: Path, server: Server, timeout: float = 20.0) -> int:
    """The port in the HOST:PORT line `server` wrote to `addr` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if addr.exists() and addr.read_text().strip():
            return int(addr.read_text().strip().rpartition(":")[2])
        if not server.alive():
            break
        time.sleep(0.1)
    raise RuntimeError(f"{server.name}: no {addr} after {timeout:g} s:\n{server.tail()}")
