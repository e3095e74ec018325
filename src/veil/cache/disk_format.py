"""The disk tier's record layout: one file per object, checked on every read.

    objects/ab/cd/<sha256(key) hex>      (ab, cd: the hash's first two byte pairs)

    offset  size
    0       40         header  "<4sHHIIQQII": magic b"VEIL", format version, flags (0),
                               key length, meta slot capacity, body length, object id (random,
                               names this body: `update_meta` checks it), CRC32 of the body,
                               CRC32 of (the header's first 36 bytes + key)
    40      key_len    key
    ...     2 x (16 + slot_cap)
                       two meta slots, each "<QII" generation, meta length, CRC32 of
                       (generation, length, meta), then the meta padded to slot_cap
    ...     body_len   body

A file is complete and of exactly `body_offset + body_len` bytes when it appears under
objects/: writers fill a temp file and rename it into place (disk.py). A reader checks magic,
version, header CRC, the lengths against the file's size, and the body CRC whenever it read the
whole file anyway (small objects); any mismatch is a miss and the file is dropped.

Two meta slots make a 304 revalidation (`update_meta`) cheap and crash-safe without copying the
body: the new meta goes into the inactive slot with generation + 1, in place, under an flock
that serialises updaters. Readers take the valid slot with the highest generation, so a write
torn by a crash (its CRC fails) leaves the previous meta in force. Meta that outgrows its slot
falls back to rewriting the whole record. Slot 1 starts empty (generation 0 is never valid).
"""

from __future__ import annotations

import hashlib
import struct
import zlib

MAGIC = b"VEIL"
VERSION = 1
HEADER = struct.Struct("<4sHHIIQQII")
SLOT = struct.Struct("<QII")
_HEAD_CRC_AT = HEADER.size - 4
_SLOT_CRC_AT = SLOT.size - 4
MAX_KEY = 64 * 1024
MAX_SLOT = 1024 * 1024
READ_AHEAD = 64 * 1024
"""Bytes a reader asks for first: header, key, slots and, for small objects, the whole body."""


def key_hash(key: bytes) -> str:
    """The object's file name."""
    return hashlib.sha256(key).hexdigest()


def relative_path(digest: str) -> str:
    """Where an object lives under objects/."""
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


def slot_capacity(meta_len: int) -> int:
    """Room for the meta and for a revalidated copy a quarter larger, in 256-byte steps."""
    return max(512, (meta_len + meta_len // 4 + 256 + 255) // 256 * 256)


def encode_slot(generation: int, meta: bytes, capacity: int) -> bytes:
    """One meta slot, padded to its capacity."""
    head = struct.pack("<QI", generation, len(meta))
    crc = zlib.crc32(meta, zlib.crc32(head))
    return head + struct.pack("<I", crc) + meta + bytes(capacity - len(meta))


def encode_prefix(key: bytes, meta: bytes, capacity: int) -> bytes:
    """Key and both meta slots: what follows the header (written when a writer begins)."""
    return key + encode_slot(1, meta, capacity) + bytes(SLOT.size + capacity)


def encode_header(key: bytes, capacity: int, body_len: int, object_id: int, body_crc: int) -> bytes:
    """The header, written last, once the body's length and CRC are known."""
    head = HEADER.pack(MAGIC, VERSION, 0, len(key), capacity, body_len, object_id, body_crc, 0)
    crc = zlib.crc32(key, zlib.crc32(head[:_HEAD_CRC_AT]))
    return head[:_HEAD_CRC_AT] + struct.pack("<I", crc)


class Record:
    """A record's parsed header, key and current meta."""

    __slots__ = (
        "active",
        "body_crc",
        "body_len",
        "body_offset",
        "file_size",
        "generation",
        "key",
        "meta",
        "object_id",
        "slot_cap",
    )

    def __init__(
        self, key: bytes, slot_cap: int, body_len: int, object_id: int, body_crc: int
    ) -> None:
        self.key = key
        self.slot_cap = slot_cap
        self.body_len = body_len
        self.object_id = object_id
        self.body_crc = body_crc
        self.body_offset = prefix_size(len(key), slot_cap)
        self.file_size = self.body_offset + body_len
        self.active = -1
        self.generation = 0
        self.meta = b""

    def slot_offset(self, index: int) -> int:
        return HEADER.size + len(self.key) + index * (SLOT.size + self.slot_cap)


def prefix_size(key_len: int, slot_cap: int) -> int:
    """Bytes before the body."""
    return HEADER.size + key_len + 2 * (SLOT.size + slot_cap)


def needed(buf: bytes) -> int:
    """How many leading bytes `parse` needs, from the header alone; 0 when it is invalid."""
    if len(buf) < HEADER.size:
        return 0
    magic, version, _flags, key_len, slot_cap, *_rest = HEADER.unpack_from(buf)
    if magic != MAGIC or version != VERSION or key_len > MAX_KEY or slot_cap > MAX_SLOT:
        return 0
    return prefix_size(key_len, slot_cap)


def parse(buf: bytes) -> Record | None:
    """The record at the start of `buf` (at least `needed(buf)` bytes), or None if invalid."""
    if len(buf) < HEADER.size:
        return None
    magic, version, _f, key_len, slot_cap, body_len, object_id, body_crc, head_crc = (
        HEADER.unpack_from(buf)
    )
    if magic != MAGIC or version != VERSION or key_len > MAX_KEY or slot_cap > MAX_SLOT:
        return None
    key_end = HEADER.size + key_len
    if len(buf) < key_end + 2 * (SLOT.size + slot_cap):
        return None
    key = buf[HEADER.size : key_end]
    if zlib.crc32(key, zlib.crc32(buf[:_HEAD_CRC_AT])) != head_crc:
        return None
    record = Record(key, slot_cap, body_len, object_id, body_crc)
    at = key_end
    for index in (0, 1):
        gen, meta_len, crc = SLOT.unpack_from(buf, at)
        if gen > record.generation and meta_len <= slot_cap:
            meta = buf[at + SLOT.size : at + SLOT.size + meta_len]
            if zlib.crc32(meta, zlib.crc32(buf[at : at + _SLOT_CRC_AT])) == crc:
                record.active, record.generation, record.meta = index, gen, meta
        at += SLOT.size + slot_cap
    return record if record.active >= 0 else None


def body_matches(record: Record, body: bytes | memoryview) -> bool:
    """The body's length and CRC are the ones the header promises."""
    return len(body) == record.body_len and zlib.crc32(body) == record.body_crc
