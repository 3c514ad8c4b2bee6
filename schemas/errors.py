"""Errors of the schemas package."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["EventDecodeError", "SchemaError"]


class SchemaError(Exception):
    """Root of every error raised by `schemas`."""


class EventDecodeError(SchemaError):
    """Bytes on the bus are not a valid event of the catalogue.

    Cause: malformed JSON, an unknown `type`, or a payload missing or mistyping fields.
    Fix: the producer must publish events built from `schemas.events` classes; the entry
    itself is moved to the dead-letter stream, from where it can be inspected and requeued.
    """

    @classmethod
    def from_validation(cls, exc: ValidationError) -> EventDecodeError:
        first = exc.errors(include_url=False)[:3]
        parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in first]
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        return cls("invalid event: " + "; ".join(parts) + more)
