"""An audit-log row as plain data, and its JSON Lines form (the export format).

The same record comes from the database and from an export file, so one verifier checks
both. In JSON Lines each record is one object with sorted keys; `event` holds the canonical
text as a JSON string — exactly the characters that were hashed — not a nested object, so
an external verifier needs no knowledge of our canonical form: it hashes that string.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.errors import StoreError
from store.tables import AuditLogRow

__all__ = ["AuditFormatError", "AuditRecord", "Head"]


class AuditFormatError(StoreError):
    """A line of an audit export is not a record.

    Cause: the file is not a `spamops audit export` output, or was cut or edited. Fix: export
    again, or treat the file as tampered with.
    """


@dataclass(frozen=True, slots=True)
class Head:
    """The newest link of the chain: what to store elsewhere as an anchor."""

    seq: int
    hash: str

    def anchor(self) -> str:
        """`SEQ:HASH`, the form `spamops audit verify --anchor` takes."""
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    event_id: uuid.UUID
    stream: str
    entry_id: str | None
    type: str
    occurred_at: datetime
    correlation: uuid.UUID
    subject: str | None
    recorded_at: datetime
    event: str
    """The canonical JSON text, exactly as hashed."""
    prev_hash: str
    hash: str

    @classmethod
    def of_row(cls, row: AuditLogRow) -> AuditRecord:
        return cls(
            seq=row.seq,
            event_id=row.event_id,
            stream=row.stream,
            entry_id=row.entry_id,
            type=row.type,
            occurred_at=row.occurred_at,
            correlation=row.correlation,
            subject=row.subject,
            recorded_at=row.recorded_at,
            event=row.event,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    def to_json_line(self) -> str:
        values: dict[str, Any] = {
            "seq": self.seq,
            "event_id": str(self.event_id),
            "stream": self.stream,
            "entry_id": self.entry_id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation": str(self.correlation),
            "subject": self.subject,
            "recorded_at": self.recorded_at.isoformat(),
            "event": self.event,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
        return json.dumps(values, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json_line(cls, line: str, number: int = 0) -> AuditRecord:
        """Parse one export line; `number` (1-based) names it in the error."""
        try:
            values = json.loads(line)
            entry_id, subject = values["entry_id"], values["subject"]
            return cls(
                seq=int(values["seq"]),
                event_id=uuid.UUID(values["event_id"]),
                stream=str(values["stream"]),
                entry_id=None if entry_id is None else str(entry_id),
                type=str(values["type"]),
                occurred_at=datetime.fromisoformat(values["occurred_at"]),
                correlation=uuid.UUID(values["correlation"]),
                subject=None if subject is None else str(subject),
                recorded_at=datetime.fromisoformat(values["recorded_at"]),
                event=str(values["event"]),
                prev_hash=str(values["prev_hash"]),
                hash=str(values["hash"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuditFormatError(
                f"line {number} is not an audit record ({type(exc).__name__}: {exc}); "
                "was the file produced by `spamops audit export` and left unedited?"
            ) from None
