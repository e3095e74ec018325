r"""The request lifecycle as an explicit state machine (docs/phases.md draws it).

Every exchange walks these phases; `Exchange.advance` checks each step against `NEXT`, so an
illegal transition fails loudly instead of silently doing the wrong thing.

    RECV -> ROUTE -> PROTECT -> LOOKUP -> HIT -----------------> DELIVER -> DONE
                        |         |  \--> MISS -> FETCH ----------^
                        |         |        | ^      |  (304 / stale allowed) -> HIT
                        +-> PASS -+--------+-+------+
      any of RECV, ROUTE, PROTECT, LOOKUP, MISS, FETCH ----> SYNTH -> DONE
"""

from __future__ import annotations

import enum
from typing import Final


class Phase(enum.IntEnum):
    """An IntEnum: the hot path looks phases up in dicts and sets, and int hashing is C code
    where Enum's is a Python function."""

    RECV = 0  # head being read and checked
    ROUTE = 1  # Host -> zone; abuse-desk blocks (451/403) for zones that have any
    PROTECT = 2  # limits, rules, challenge (protection issue)
    LOOKUP = 3  # cache lookup (cache issue)
    HIT = 4
    MISS = 5
    PASS = 6
    FETCH = 7  # talking to the origin
    DELIVER = 8  # origin response streaming to the client
    SYNTH = 9  # the edge answers itself (errors, refusals)
    DONE = 10


NEXT: Final[dict[Phase, frozenset[Phase]]] = {
    Phase.RECV: frozenset({Phase.ROUTE, Phase.SYNTH, Phase.DONE}),
    Phase.ROUTE: frozenset({Phase.PROTECT, Phase.SYNTH}),
    Phase.PROTECT: frozenset({Phase.LOOKUP, Phase.PASS, Phase.SYNTH}),
    Phase.LOOKUP: frozenset({Phase.HIT, Phase.MISS, Phase.PASS, Phase.SYNTH}),
    Phase.HIT: frozenset({Phase.DELIVER}),
    # A miss fetches, or waits on another request's fill and is then served from it (HIT).
    Phase.MISS: frozenset({Phase.FETCH, Phase.HIT, Phase.SYNTH}),
    Phase.PASS: frozenset({Phase.FETCH}),
    # A revalidation answered 304, or an origin failure with a stale copy allowed: HIT.
    Phase.FETCH: frozenset({Phase.DELIVER, Phase.SYNTH, Phase.DONE, Phase.HIT}),
    Phase.DELIVER: frozenset({Phase.DONE}),
    Phase.SYNTH: frozenset({Phase.DONE}),
    Phase.DONE: frozenset(),
}


# NEXT as bit masks, indexed by phase: bit t of ALLOWED[p] is set when p -> t is legal. The
# check runs several times per request; a tuple index and a shift are native int operations
# in the compiled module, where the dict lookup plus frozenset test were two hashed lookups.
ALLOWED: Final[tuple[int, ...]] = tuple(
    sum(1 << target for target in NEXT[phase]) for phase in sorted(NEXT)
)


class IllegalTransition(Exception):
    pass


def check_transition(current: Phase, target: Phase) -> Phase:
    """Return `target` if the lifecycle allows current -> target, else raise."""
    if target not in NEXT[current]:
        raise IllegalTransition(f"{current.name} -> {target.name} is not a legal transition")
    return target
