"""An append-only spool file for events that could not reach Redis.

Lines are JSON `{"stream": ..., "fields": {...}}`. A side file holds the byte offset up to
which lines have been re-published, so a crash during a flush re-sends at most one batch
(consumers dedupe on event id). The spool is emptied once everything in it is published.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from bus.errors import SpoolError
from bus.publisher import Record

__all__ = ["Spool"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset_path = path.with_name(path.name + ".offset")

    def append(self, records: Sequence[Record]) -> None:
        """Append and fsync: once this returns, the records survive a crash."""
        if not records:
            return
        lines = b"".join(
            orjson.dumps({"stream": r.stream, "fields": {k: _text(v) for k, v in r.fields.items()}})
            + b"\n"
            for r in records
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as fh:
                fh.write(lines)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise SpoolError(f"cannot append to spool {self.path}: {exc}") from exc

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > self._offset()
        except FileNotFoundError:
            return False

    def batches(self, size: int) -> Iterator[tuple[list[Record], int]]:
        """Unpublished records in order, as (batch, end offset) to `commit` after publishing."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            fh.seek(self._offset())
            batch: list[Record] = []
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # a torn final line from a crash mid-write; never acknowledged
                data = orjson.loads(line)
                batch.append(Record(data["stream"], data["fields"]))
                if len(batch) >= size:
                    yield batch, fh.tell()
                    batch = []
            if batch:
                yield batch, fh.tell()

    def commit(self, offset: int) -> None:
        tmp = self.offset_path.with_suffix(".tmp")
        tmp.write_text(str(offset))
        tmp.replace(self.offset_path)

    def clear(self) -> None:
        """Forget everything: called once every spooled record has been published."""
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)

    def _offset(self) -> int:
        try:
            return int(self.offset_path.read_text())
        except (FileNotFoundError, ValueError):
            return 0
