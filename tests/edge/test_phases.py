"""Tier (a): the request state machine."""

from __future__ import annotations

import itertools

import pytest

from veil.edge.phases import ALLOWED, NEXT, IllegalTransition, Phase, check_transition


def test_every_phase_reaches_done() -> None:
    """From every phase some path leads to DONE (no dead ends)."""
    for start in Phase:
        seen, todo = {start}, [start]
        while todo:
            for nxt in NEXT[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert Phase.DONE in seen or start is Phase.DONE


@pytest.mark.parametrize(
    ("a", "b"), [(Phase.RECV, Phase.FETCH), (Phase.DELIVER, Phase.SYNTH), (Phase.DONE, Phase.RECV)]
)
def test_illegal_transitions_fail_loudly(a: Phase, b: Phase) -> None:
    """Skipping steps raises IllegalTransition."""
    with pytest.raises(IllegalTransition):
        check_transition(a, b)


def test_pass_path_is_legal() -> None:
    """The pass-through path walks RECV, ROUTE, PROTECT, PASS, FETCH, DELIVER, DONE."""
    path = [
        Phase.RECV,
        Phase.ROUTE,
        Phase.PROTECT,
        Phase.PASS,
        Phase.FETCH,
        Phase.DELIVER,
        Phase.DONE,
    ]
    for a, b in itertools.pairwise(path):
        assert check_transition(a, b) is b


def test_allowed_masks_agree_with_next() -> None:
    """The bit masks the hot path checks say exactly what NEXT says."""
    for current in Phase:
        for target in Phase:
            assert bool((ALLOWED[current] >> target) & 1) == (target in NEXT[current])
