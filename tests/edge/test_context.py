"""The per-worker context's request ids (Veil-Ray)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from veil.edge.context import EdgeContext
from veil.settings import EdgeSettings


def test_rays_are_16_hex_digits_unique_and_wrap_their_counter(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        ctx = EdgeContext(loop=loop, settings=EdgeSettings(state_dir=tmp_path))
        rays = [ctx.next_ray() for _ in range(1000)]
        assert all(re.fullmatch(rb"[0-9a-f]{16}", ray) for ray in rays)
        assert len(set(rays)) == len(rays)
        prefix = rays[0][:8]
        assert all(ray[:8] == prefix for ray in rays)  # one worker, one prefix
        first = int(rays[0][8:], 16)
        assert [int(ray[8:], 16) for ray in rays] == [(first + i) & 0xFFFFFFFF for i in range(1000)]
        ctx._ray_counter = 0xFFFFFFFE
        assert [ctx.next_ray()[8:] for _ in range(2)] == [b"ffffffff", b"00000000"]
    finally:
        loop.close()
