"""The house's import boundaries (STYLE.md), checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "veil"
PURE = ("http", "cache", "protect", "dns", "abuse")
STDLIB_ONLY_MODULES = ("snapshot.py", "netguard.py", "clock.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _third_party(name: str) -> bool:
    import sys

    top = name.split(".")[0]
    return top != "veil" and top not in sys.stdlib_module_names and top != "__future__"


def test_control_never_imports_edge() -> None:
    """control/ runs on snapshots it publishes; it never imports veil.edge."""
    for path in (SRC / "control").rglob("*.py"):
        assert not any(n.startswith("veil.edge") for n in _imports(path)), path


def test_edge_never_imports_pydantic_sqlalchemy_or_control() -> None:
    """The data plane stays free of the control plane's libraries."""
    for path in (SRC / "edge").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("pydantic", "sqlalchemy", "fastapi", "veil.control")), (
                path,
                name,
            )


def test_pure_packages_import_only_stdlib_and_http() -> None:
    """http/, cache/ policy, protect/, dns/ answers and abuse/ workflow: stdlib + veil.http."""
    for package in PURE:
        for path in (SRC / package).rglob("*.py") if (SRC / package).exists() else []:
            for name in _imports(path):
                assert not _third_party(name), (path, name)
                if name.startswith("veil."):
                    assert name.startswith(("veil.http", f"veil.{package}")), (path, name)


def test_shared_contract_modules_are_stdlib_only() -> None:
    """snapshot, netguard and clock are imported by both halves: standard library only."""
    for module in STDLIB_ONLY_MODULES:
        for name in _imports(SRC / module):
            assert not _third_party(name) and not name.startswith("veil."), (module, name)
