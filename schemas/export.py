"""JSON Schema of every event type, for consumers that are not written in Python."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.events import EVENT_CLASSES

__all__ = ["event_json_schemas", "write_event_schemas"]


def event_json_schemas() -> dict[str, str]:
    """File name → JSON Schema text (stable formatting, so the files diff cleanly)."""
    out: dict[str, str] = {}
    for event_type, cls in sorted(EVENT_CLASSES.items()):
        schema = cls.model_json_schema(by_alias=True, mode="serialization")
        schema["$id"] = f"https://spamops.dev/events/{event_type}.json"
        out[f"{event_type}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_event_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in event_json_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
