"""Verifying the chain: recompute every link and report the first one that is broken.

The same walk checks the database and an export file. Per row, in order: the sequence
number follows the previous one (else rows were deleted, or lines moved); the row's previous
hash is the previous row's hash (else a row was inserted, deleted or moved before it); the
hash recomputed from the stored text equals the stored hash (else the event or the hash was
edited); the lookup columns agree with the hashed event (else a column was edited); and the
row's hash equals any anchor given for its sequence number. In the database the head row
must then name the last row (else the tail was cut, or rows were forged after it).

What no walk can see: a rewrite of the whole chain from some row on, with every hash
recomputed (the hash has no secret). Anchors — heads stored outside the database — catch it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import Engine

from store.audit.canonical import GENESIS, link_hash, lookups_of
from store.audit.read import read_head, records
from store.audit.records import AuditRecord, Head
from store.engine import read_session

__all__ = ["ORIGIN", "Break", "BreakKind", "Verification", "verify_database", "verify_records"]

ORIGIN = Head(0, GENESIS)
"""The link before the first row."""

BreakKind = Literal["missing", "order", "link", "hash", "content", "anchor", "head"]


@dataclass(frozen=True, slots=True)
class Break:
    """The first broken link: where, which event, and what is wrong."""

    seq: int
    event_id: str | None
    kind: BreakKind
    detail: str


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    start: Head
    """The link the walk started from: (0, genesis) for a whole log."""
    last: Head | None
    """The last row that checked out."""
    broken: Break | None = None
    anchored: tuple[int, ...] = ()
    """Anchors that matched."""
    unchecked_anchors: tuple[int, ...] = ()
    """Anchors before the first row walked (an export that starts later): not checked."""

    @property
    def ok(self) -> bool:
        return self.broken is None


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


def _content_error(record: AuditRecord) -> str | None:
    """What disagrees between a row's lookup columns and its hashed event, if anything."""
    try:
        lookups = lookups_of(json.loads(record.event))
    except (ValueError, KeyError, TypeError) as exc:
        return f"the stored event is not a valid event document ({type(exc).__name__}: {exc})"
    for name in ("event_id", "type", "stream", "occurred_at", "correlation", "subject"):
        stored, hashed = getattr(record, name), getattr(lookups, name)
        if stored != hashed:
            return f"column {name} is {stored!s}, but the hashed event says {hashed!s}"
    return None


def _check(record: AuditRecord, expected: int, prev: str) -> Break | None:
    event_id = str(record.event_id)
    if record.seq > expected:
        return Break(
            expected,
            event_id,
            "missing",
            f"row {expected} is missing: after row {expected - 1} comes row {record.seq} "
            f"(event {event_id}); rows were deleted",
        )
    if record.seq < expected:
        return Break(
            record.seq,
            event_id,
            "order",
            f"row {record.seq} comes after row {expected - 1}: rows are duplicated or moved",
        )
    if record.prev_hash != prev:
        return Break(
            record.seq,
            event_id,
            "link",
            f"row {record.seq} names {_short(record.prev_hash)} as the previous hash, but "
            f"row {record.seq - 1}'s hash is {_short(prev)}: a row was inserted, deleted or "
            f"moved before row {record.seq}",
        )
    if link_hash(record.seq, record.prev_hash, record.entry_id, record.event) != record.hash:
        return Break(
            record.seq,
            event_id,
            "hash",
            f"row {record.seq}'s hash does not match its content: the stored event, its "
            "entry id or the hash was edited",
        )
    problem = _content_error(record)
    if problem is not None:
        return Break(record.seq, event_id, "content", f"row {record.seq}: {problem}")
    return None


def verify_records(
    rows: Iterable[AuditRecord],
    *,
    start: Head | None = ORIGIN,
    anchors: Mapping[int, str] | None = None,
) -> Verification:
    """Walk `rows` (in chain order) from `start`, by default the genesis link. None (an
    export, which may begin mid-chain): from the genesis link if the first row is row 1,
    else from that row's previous hash, taken on trust — compare it with an anchor or the
    previous export's last hash."""
    pins = dict(anchors or {})
    origin = start or ORIGIN
    result = Verification(0, origin, None)
    expected, prev = origin.seq + 1, origin.hash
    for record in rows:
        if result.checked == 0 and start is None and record.seq > 1:
            origin = Head(record.seq - 1, record.prev_hash)
            result = replace(result, start=origin)
            expected, prev = record.seq, record.prev_hash
        broken = _check(record, expected, prev)
        pinned = pins.pop(record.seq, None)
        if broken is None and pinned is not None and pinned != record.hash:
            broken = Break(
                record.seq,
                str(record.event_id),
                "anchor",
                f"row {record.seq}'s hash is {_short(record.hash)}, the anchor says "
                f"{_short(pinned)}: the chain was rewritten from row {record.seq} or before",
            )
        if broken is not None:
            return replace(result, broken=broken)
        if pinned is not None:
            result = replace(result, anchored=(*result.anchored, record.seq))
        result = replace(result, checked=result.checked + 1, last=Head(record.seq, record.hash))
        expected, prev = record.seq + 1, record.hash
    return _unreached_anchors(result, pins)


def _unreached_anchors(result: Verification, pins: dict[int, str]) -> Verification:
    """Anchors the walk did not pass: at its start link, beyond its end, or before it."""
    ends = result.last.seq if result.last is not None else result.start.seq
    unchecked: list[int] = []
    anchored = list(result.anchored)
    for seq, digest in sorted(pins.items()):
        if seq == result.start.seq and digest == result.start.hash:
            anchored.insert(0, seq)
        elif seq == result.start.seq:
            detail = (
                f"the rows continue from {_short(result.start.hash)} after row {seq}, the "
                f"anchor says {_short(digest)}: this is not the chain the anchor was taken of"
            )
            return replace(result, broken=Break(seq, None, "anchor", detail))
        elif seq > ends:
            detail = f"the anchor names row {seq}, but the rows end at {ends}: the tail was cut"
            return replace(result, broken=Break(seq, None, "anchor", detail))
        elif seq < result.start.seq:
            unchecked.append(seq)
    return replace(result, anchored=tuple(anchored), unchecked_anchors=tuple(unchecked))


def _head_break(head: Head | None, result: Verification) -> Break | None:
    last = result.last or result.start
    if head is None:
        if last.seq == 0:
            return None
        return Break(last.seq, None, "head", "the chain head row is missing")
    if head.seq > last.seq:
        return Break(
            last.seq + 1,
            None,
            "head",
            f"the head says the log ends at row {head.seq}, but the last row is {last.seq}: "
            f"rows {last.seq + 1}–{head.seq} were deleted",
        )
    if head.seq < last.seq:
        return Break(
            head.seq + 1,
            None,
            "head",
            f"rows {head.seq + 1}–{last.seq} lie beyond the head (row {head.seq}): they "
            "were not appended by the audit log",
        )
    if head.hash != last.hash:
        return Break(head.seq, None, "head", f"the head's hash differs from row {head.seq}'s")
    return None


def verify_database(engine: Engine, *, anchors: Mapping[int, str] | None = None) -> Verification:
    """Verify the whole log and its head, in one consistent snapshot of the database."""
    with read_session(engine) as session:
        if engine.dialect.name == "postgresql":  # one snapshot for every page and the head
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = read_head(session)
        result = verify_records(records(session), anchors=anchors)
    if result.ok:
        broken = _head_break(head, result)
        if broken is not None:
            return replace(result, broken=broken)
    return result
