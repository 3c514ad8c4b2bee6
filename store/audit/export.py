"""Exporting the audit log as JSON Lines, and re-verifying an export without the database.

An export is a contiguous stretch of the chain (`--since/--until` pick the stretch from the
first to the last row whose event occurred in the window), one record per line, chain
fields included, so anyone holding the file can recompute every link (see
`store.audit.canonical` for the hash, `docs/security.md` for a ten-line verifier).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from store.audit.read import records, seq_range
from store.audit.records import AuditRecord, Head
from store.audit.verify import Verification, verify_records
from store.engine import read_session

__all__ = ["ExportSummary", "export_jsonl", "read_jsonl", "verify_file"]


@dataclass(frozen=True, slots=True)
class ExportSummary:
    count: int
    first: Head | None
    """The link before the first exported row (its previous hash): where the export hangs on."""
    last: Head | None
    """The last exported row: an anchor for the next export."""


def _bounds(
    span: tuple[int, int] | None, from_seq: int | None, to_seq: int | None
) -> tuple[int, int | None] | None:
    low, high = (from_seq or 1), to_seq
    if span is not None:
        low, high = max(low, span[0]), span[1] if high is None else min(high, span[1])
    if high is not None and high < low:
        return None
    return low, high


def export_jsonl(
    engine: Engine,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    from_seq: int | None = None,
    to_seq: int | None = None,
) -> ExportSummary:
    """Write the selected stretch of the chain to `out`, one JSON record per line."""
    count, first, last = 0, None, None
    with read_session(engine) as session:
        span = seq_range(session, since=since, until=until) if since or until else None
        bounds = None if (since or until) and span is None else _bounds(span, from_seq, to_seq)
        if bounds is None:
            return ExportSummary(0, None, None)
        for record in records(session, from_seq=bounds[0], to_seq=bounds[1]):
            if first is None:
                first = Head(record.seq - 1, record.prev_hash)
            out.write(record.to_json_line())
            out.write("\n")
            count += 1
            last = Head(record.seq, record.hash)
    return ExportSummary(count, first, last)


def read_jsonl(lines: Iterable[str]) -> Iterator[AuditRecord]:
    """Records of an export, in file order (blank lines skipped)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield AuditRecord.from_json_line(line, number)


def verify_file(path: Path, *, anchors: Mapping[int, str] | None = None) -> Verification:
    """Re-verify an export file: every link inside it, and the anchors given."""
    with path.open(encoding="utf-8") as lines:
        return verify_records(read_jsonl(lines), start=None, anchors=anchors)
