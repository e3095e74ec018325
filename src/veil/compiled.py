"""The hot path compiled with mypyc, and a check that no compiled copy is older than its source.

`make install` (setup.py) compiles these modules to C extensions next to their sources; Python
then imports the extension instead of the `.py`. Measured on the 1 KiB pass-through: the
edge's own Python work per request halves and the worker executes about a quarter fewer
instructions (docs/benchmarks.md). Everything else stays plain Python. `VEIL_PURE_PYTHON=1`
at install time skips compiling (for platforms without a C compiler).

Writing for mypyc in these modules (each measured with `make bench-instructions`): declare
module-level constants `Final` (otherwise every use is a lookup in the module's globals dict);
call `out.append(x)` rather than an alias `append = out.append` (the alias is a generic call);
prefer native classes and typed locals to Protocols and enums on the per-request path.

A compiled module shadows later edits of its `.py` until it is rebuilt (`make install` does it
when a source changed); `stale()` names the ones that are out of date so tests and the edge
can refuse to run an old build silently. Standard library only: setup.py reads this file.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

HOT_MODULES: tuple[str, ...] = (
    "veil.http.headers",
    "veil.http.framing",
    "veil.http.chunked",
    "veil.edge.rewrite",
    "veil.edge.exchange",
    "veil.edge.server",
    "veil.edge.upstream",
    "veil.edge.context",
    "veil.edge.accesslog",
    "veil.edge.metrics",
    "veil.edge.resolve",
    "veil.edge.phases",
    "veil.snapshot",
    "veil.edge.cache",
    "veil.edge.caching",
    "veil.cache.freshness",
    "veil.cache.keys",
    "veil.cache.meta",
    "veil.cache.reasons",
    "veil.cache.status",
    "veil.cache.memory",
    "veil.cache.s3fifo",
    "veil.cache.policy",
    "veil.cache.rules",
    "veil.cache.vary",
    "veil.cache.invalidation",
    "veil.http.cache_control",
)

_SRC = Path(__file__).resolve().parent.parent  # the directory holding the `veil` package


def source_path(module: str) -> Path:
    return _SRC.joinpath(*module.split(".")).with_suffix(".py")


def extension_path(module: str) -> Path | None:
    """The compiled extension built next to the module's source, if there is one."""
    source = source_path(module)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def compiled_modules() -> list[str]:
    """Hot modules that Python will import from a compiled extension."""
    found = []
    for module in HOT_MODULES:
        spec = importlib.util.find_spec(module)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            found.append(module)
    return found


def stale() -> list[str]:
    """Hot modules whose compiled extension is older than the source it was built from."""
    out = []
    for module in HOT_MODULES:
        ext = extension_path(module)
        if ext is not None and ext.stat().st_mtime < source_path(module).stat().st_mtime:
            out.append(module)
    return out


def orphans() -> list[Path]:
    """Compiled extensions under the package whose module is no longer in HOT_MODULES."""
    hot = {source_path(m).with_suffix("") for m in HOT_MODULES}
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    found = []
    for ext in (_SRC / "veil").rglob("*.so"):
        suffix = next((x for x in suffixes if ext.name.endswith(x)), ".so")
        if ext.with_name(ext.name[: -len(suffix)]) not in hot:
            found.append(ext)
    return found


def build_current() -> bool:
    """Is every hot module compiled, none stale, no other module compiled? (make's check)"""
    return len(compiled_modules()) == len(HOT_MODULES) and not stale() and not orphans()
