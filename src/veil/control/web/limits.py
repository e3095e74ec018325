"""Spam brakes for the public form: a per-client rate limit in bounded memory.

The form has no account and no CSRF token: it only *creates* notices (and completes one whose
status key the poster holds), so a forged cross-site post can do no more than a direct post.
What remains is volume. `FormLimiter` allows `limit` posts per client address per `window`
seconds (a fixed window per client); it remembers at most `max_clients` addresses, forgetting
the least recently seen first, so a flood of addresses costs bounded memory (and at worst
resets someone's count). Time is a parameter. Pure: no I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

POSTS_PER_WINDOW = 20
WINDOW_SECONDS = 600.0
MAX_CLIENTS = 10_000


@dataclass(slots=True)
class _Window:
    start: float
    count: int


class FormLimiter:
    def __init__(
        self,
        *,
        limit: int = POSTS_PER_WINDOW,
        window: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if limit < 1 or window <= 0 or max_clients < 1:
            raise ValueError("limit, window and max_clients must be positive")
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clients: OrderedDict[str, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def allow(self, client: str, now: float) -> float | None:
        """None when `client` may post now (and counts the post); else seconds to wait."""
        slot = self._clients.get(client)
        if slot is None or now - slot.start >= self.window or now < slot.start:
            slot = _Window(now, 0)
        self._clients[client] = slot
        self._clients.move_to_end(client)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)
        if slot.count >= self.limit:
            return max(1.0, slot.start + self.window - now)
        slot.count += 1
        return None
