"""A separate process using a disk cache tier, for tests/cache/test_disk.py.

    disk_worker.py slow ROOT KEY SIZE CHUNK DELAY   stream one object slowly (to be killed)
    disk_worker.py mix ROOT ID ROUNDS KEYS          write and read shared keys, check each read
    disk_worker.py fill ROOT ID COUNT SIZE          write COUNT objects of SIZE bytes

Bodies are derived from key and meta (`body_for`), so any reader can tell a whole, matching
object from a torn or mixed one. Prints one line per milestone; exit status 1 on a bad read.
"""

from __future__ import annotations

import hashlib
import sys
import time

from veil.cache.disk import DiskStore

CAPACITY = 1 << 30
REVALIDATED = b":revalidated"


def body_for(key: bytes, meta: bytes, size: int) -> bytes:
    block = hashlib.sha256(key + b"|" + meta).digest()
    return (block * (size // len(block) + 1))[:size]


def slow(root: str, key: bytes, size: int, chunk: int, delay: float) -> None:
    store = DiskStore(root, CAPACITY)
    meta = b"slow"
    body = body_for(key, meta, size)
    writer = store.begin(key, meta, size)
    for at in range(0, size, chunk):
        writer.write(body[at : at + chunk])
        print("wrote", at + chunk, flush=True)
        time.sleep(delay)
    writer.commit()
    print("committed", flush=True)


def mix(root: str, ident: str, rounds: int, keys: int) -> int:
    store = DiskStore(root, CAPACITY)
    bad = hits = foreign = 0
    for r in range(rounds):
        for k in range(keys):
            key = b"shared-%d" % k
            meta = f"{ident}:{r}".encode()
            size = 500 + (r * 7919 + k * 104729) % 150_000
            writer = store.begin(key, meta, size)
            writer.write(body_for(key, meta, size))
            entry = writer.commit()
            if entry is not None:
                entry.close()
            entry = store.get(b"shared-%d" % ((k + 1) % keys))
            if entry is None:
                continue
            with entry:
                hits += 1
                foreign += not entry.meta.startswith(ident.encode() + b":")
                origin_meta = entry.meta.removesuffix(REVALIDATED)
                if entry.read() != body_for(entry.key, origin_meta, entry.length):
                    bad += 1
                if r % 3 == 0:
                    store.update_meta(entry, origin_meta + REVALIDATED)
    store.close()
    print("hits", hits, "foreign", foreign, "bad", bad, flush=True)
    return 1 if bad else 0


def fill(root: str, ident: str, count: int, size: int) -> None:
    store = DiskStore(root, CAPACITY)
    for i in range(count):
        key = f"{ident}-{i}".encode()
        writer = store.begin(key, b"fill", size)
        writer.write(body_for(key, b"fill", size))
        entry = writer.commit()
        assert entry is not None
        entry.close()
    store.close()
    print("filled", count, flush=True)


def main(argv: list[str]) -> int:
    command, root = argv[0], argv[1]
    if command == "slow":
        slow(root, argv[2].encode(), int(argv[3]), int(argv[4]), float(argv[5]))
    elif command == "mix":
        return mix(root, argv[2], int(argv[3]), int(argv[4]))
    elif command == "fill":
        fill(root, argv[2], int(argv[3]), int(argv[4]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
