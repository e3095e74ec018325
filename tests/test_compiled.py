"""The mypyc build's bookkeeping (veil.compiled): every listed module exists, nothing else is
compiled, nothing compiled is older than its source."""

from __future__ import annotations

from veil import compiled


def test_every_hot_module_has_a_source() -> None:
    """HOT_MODULES names real modules (setup.py compiles exactly these files)."""
    for module in compiled.HOT_MODULES:
        assert compiled.source_path(module).is_file(), module


def test_no_orphan_or_stale_extensions() -> None:
    """No extension outlives its module's place on the list, none is older than its source."""
    assert compiled.orphans() == []
    assert compiled.stale() == []
