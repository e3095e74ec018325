"""Build hook: compile the edge's hot path with mypyc (veil/compiled.py says which and why).

Everything else about the package is in pyproject.toml. `VEIL_PURE_PYTHON=1` skips compiling;
a machine without a working C compiler gets a warning and the pure-Python package.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _hot_sources() -> list[str]:
    spec = importlib.util.spec_from_file_location("_veil_compiled", ROOT / "src/veil/compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [str(Path("src", *m.split(".")).with_suffix(".py")) for m in module.HOT_MODULES]


def _ext_modules() -> list[Any]:
    if os.environ.get("VEIL_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("veil: mypyc not available; installing pure Python", file=sys.stderr)
        return []
    try:
        return list(mypycify(_hot_sources(), opt_level="3", debug_level="0"))
    except (Exception, SystemExit) as exc:  # mypyc reports type errors by exiting
        print(f"veil: mypyc could not compile the hot path ({exc}); pure Python", file=sys.stderr)
        return []


class _OptionalBuildExt(build_ext):
    """A failed compile leaves the pure-Python modules in charge instead of failing install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler failure means "stay pure"
            print(f"veil: compiling the hot path failed ({exc}); pure Python", file=sys.stderr)


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": _OptionalBuildExt})
