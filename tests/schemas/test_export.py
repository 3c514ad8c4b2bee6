"""The committed JSON Schemas in docs/events must match the code."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import EVENT_CLASSES
from schemas.export import event_json_schemas, write_event_schemas

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def test_committed_schemas_match_the_code() -> None:
    expected = event_json_schemas()
    committed = {p.name: p.read_text() for p in DOCS.glob("*.json")}
    stale = sorted(n for n in expected if committed.get(n) != expected[n])
    extra = sorted(set(committed) - set(expected))
    assert not stale and not extra, (
        f"docs/events is out of date (stale: {stale}, extra: {extra}); "
        "run `spamops schemas export docs/events`"
    )


def test_export_writes_one_schema_per_type(tmp_path: Path) -> None:
    written = write_event_schemas(tmp_path)
    assert len(written) == len(EVENT_CLASSES)
    schema = json.loads((tmp_path / "prediction.made.json").read_text())
    assert schema["properties"]["type"]["const"] == "prediction.made"
    assert "schema" in schema["properties"]
