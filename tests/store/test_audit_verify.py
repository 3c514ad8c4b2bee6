"""Verification finds every kind of tampering at the right row, in the database and in exports.

Tampering is done as a database owner would: the append-only triggers are dropped first.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, text, update

from store.audit.canonical import GENESIS, canonical_json, dumps, link_hash, lookups_of
from store.audit.chain import AuditChain
from store.audit.export import export_jsonl, verify_file
from store.audit.read import head_of, records
from store.audit.records import AuditFormatError, AuditRecord
from store.audit.verify import verify_database
from store.engine import read_session, write_session
from store.tables import AuditHeadRow, AuditLogRow
from tests.factories import prediction
from tests.store.test_audit_story import T0, accessed, story

N = len(story().events)


@pytest.fixture
def logged(engine: Engine) -> Engine:
    """The story in the log, entry ids included; triggers dropped, as an attacker would."""
    AuditChain(engine).append([(e, f"{1000 + i}-0") for i, e in enumerate(story().events)])
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    return engine


def _rows(engine: Engine) -> list[AuditRecord]:
    with read_session(engine) as session:
        return list(records(session))


def _put(engine: Engine, rows: list[AuditRecord]) -> None:
    with write_session(engine) as session:
        session.execute(insert(AuditLogRow), [_values(r) for r in rows])


def _values(record: AuditRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in AuditRecord.__dataclass_fields__}


def _replace(engine: Engine, record: AuditRecord) -> None:
    with write_session(engine) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq == record.seq))
    _put(engine, [record])


def _broken(engine: Engine, **kwargs: dict[int, str]) -> tuple[int, str, str | None]:
    result = verify_database(engine, **kwargs)
    assert result.broken is not None, "tampering went unnoticed"
    return result.broken.seq, result.broken.kind, result.broken.event_id


def test_an_untouched_log_verifies(logged: Engine) -> None:
    result = verify_database(logged)
    assert result.ok and result.checked == N and result.last == head_of(logged)


def test_an_edited_payload(logged: Engine) -> None:
    row = _rows(logged)[4]
    document = json.loads(row.event)
    document["payload"]["label"] = "ham" if document["payload"].get("label") == "spam" else "spam"
    with write_session(logged) as session:
        query = update(AuditLogRow).where(AuditLogRow.seq == 5)
        session.execute(query.values(event=dumps(document)))
    assert _broken(logged) == (5, "hash", str(row.event_id))


def test_an_edited_stored_hash(logged: Engine) -> None:
    with write_session(logged) as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 7).values(hash="f" * 64))
    assert _broken(logged)[:2] == (7, "hash")


def test_an_edited_entry_id_or_lookup_column(logged: Engine) -> None:
    with write_session(logged) as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 9).values(subject="other"))
    assert _broken(logged)[:2] == (9, "content")
    with write_session(logged) as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 3).values(entry_id="9-9"))
    assert _broken(logged)[:2] == (3, "hash")


def test_a_deleted_row(logged: Engine) -> None:
    rows = _rows(logged)
    with write_session(logged) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq == 5))
    assert _broken(logged) == (5, "missing", str(rows[5].event_id))


def test_a_deleted_first_row(logged: Engine) -> None:
    with write_session(logged) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq == 1))
    assert _broken(logged)[:2] == (1, "missing")


def test_a_cut_tail_shows_at_the_head_or_at_an_anchor(logged: Engine) -> None:
    anchor = head_of(logged)
    assert anchor is not None
    with write_session(logged) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq == N))
    assert _broken(logged)[:2] == (N, "head")
    # The owner also moves the head back: only an anchor kept elsewhere sees it now.
    last = _rows(logged)[-1]
    with write_session(logged) as session:
        session.execute(update(AuditHeadRow).values(seq=last.seq, hash=last.hash))
    assert verify_database(logged).ok
    assert _broken(logged, anchors={anchor.seq: anchor.hash})[:2] == (N, "anchor")


def _forge(seq: int, prev: str, *, good_hash: bool = True) -> AuditRecord:
    """A well-formed row for an event that never happened (the forger knows the scheme)."""
    event = accessed(T0, "req-forged")
    body, document = canonical_json(event)
    found = lookups_of(document)
    digest = link_hash(seq, prev, None, body) if good_hash else "e" * 64
    return AuditRecord(
        seq=seq,
        event_id=found.event_id,
        stream=found.stream,
        entry_id=None,
        type=found.type,
        occurred_at=found.occurred_at,
        correlation=found.correlation,
        subject=found.subject,
        recorded_at=T0,
        event=body,
        prev_hash=prev,
        hash=digest,
    )


def test_an_inserted_row(logged: Engine) -> None:
    rows = _rows(logged)
    # Everything from row 6 on moves up one place, with its hashes as they were.
    with write_session(logged) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq >= 6))
    shifted = [replace(r, seq=r.seq + 1) for r in rows[5:]]
    _put(logged, [_forge(6, rows[4].hash), *shifted])
    # The forged row links up (its hash was computed properly); the next one does not.
    assert _broken(logged) == (7, "link", str(rows[5].event_id))


def test_a_forged_row_at_the_end(logged: Engine) -> None:
    last = _rows(logged)[-1]
    _put(logged, [_forge(N + 1, last.hash, good_hash=False)])
    assert _broken(logged)[:2] == (N + 1, "hash")
    _replace(logged, _forge(N + 1, last.hash))
    assert _broken(logged)[:2] == (N + 1, "head")  # well forged, but the head never moved


@pytest.mark.parametrize(("a", "b"), [(3, 8), (4, 5)])
def test_swapped_rows(logged: Engine, a: int, b: int) -> None:
    rows = _rows(logged)
    with write_session(logged) as session:
        session.execute(delete(AuditLogRow).where(AuditLogRow.seq.in_([a, b])))
    first, second = rows[a - 1], rows[b - 1]
    _put(
        logged,
        [
            replace(second, seq=a),
            replace(first, seq=b),
        ],
    )
    assert _broken(logged) == (a, "link", str(second.event_id))


def test_an_export_reverifies_offline_and_shows_tampering(logged: Engine, tmp_path: Path) -> None:
    out = io.StringIO()
    summary = export_jsonl(logged, out)
    assert summary.count == N and summary.first is not None and summary.first.hash == GENESIS
    path = tmp_path / "audit.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    result = verify_file(path, anchors={N: summary.last.hash if summary.last else ""})
    assert result.ok and result.checked == N
    assert summary.last is not None
    outside = _doc_verifier(path)
    assert outside.returncode == 0 and f"intact up to {summary.last.hash}" in outside.stdout
    lines = out.getvalue().splitlines()
    edited = json.loads(lines[3])
    edited["event"] = edited["event"].replace('"schema":1', '"schema":3')
    for tampered, expected in (
        ([*lines[:3], json.dumps(edited), *lines[4:]], (4, "hash")),
        ([*lines[:3], *lines[4:]], (4, "missing")),
        ([*lines[:3], lines[4], lines[3], *lines[5:]], (4, "missing")),
        ([*lines[:5], lines[4], *lines[5:]], (5, "order")),
    ):
        path.write_text("\n".join(tampered), encoding="utf-8")
        broken = verify_file(path).broken
        assert broken is not None and (broken.seq, broken.kind) == expected
        assert _doc_verifier(path).returncode != 0
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(AuditFormatError, match="line 1"):
        verify_file(path)


def test_a_partial_export_hangs_on_the_previous_hash(logged: Engine, tmp_path: Path) -> None:
    rows = _rows(logged)
    path = tmp_path / "part.jsonl"
    with path.open("w", encoding="utf-8") as out:
        summary = export_jsonl(logged, out, from_seq=6, to_seq=12)
    assert summary.count == 7 and summary.first is not None
    assert (summary.first.seq, summary.first.hash) == (5, rows[4].hash)
    result = verify_file(path, anchors={5: rows[4].hash, 12: rows[11].hash, 2: rows[1].hash})
    assert result.ok and result.start.seq == 5 and result.unchecked_anchors == (2,)
    assert result.anchored == (5, 12)
    outside = _doc_verifier(path)
    assert outside.returncode == 0 and rows[11].hash in outside.stdout
    assert not verify_file(path, anchors={5: "0" * 64}).ok  # not the chain anchored
    with path.open("w", encoding="utf-8") as out:  # by time: the feedback's 5-6 minutes
        timed = export_jsonl(
            logged, out, since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=6)
        )
    assert timed.count == 2 and verify_file(path).ok
    assert export_jsonl(logged, io.StringIO(), since=T0 + timedelta(days=9)).count == 0


def _doc_verifier(export: Path) -> subprocess.CompletedProcess[str]:
    """Run the verifier docs/security.md gives auditors (hashlib and json, nothing of ours)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text("utf-8")
    code = doc.split("```python\nimport hashlib, json, sys\n", 1)[1].split("```", 1)[0]
    script = "import hashlib, json, sys\n" + code
    return subprocess.run(
        [sys.executable, "-c", script, str(export)], capture_output=True, text=True, check=False
    )


def test_verify_reads_one_snapshot_while_appends_go_on(engine: Engine) -> None:
    """Rows appended during a verify must not look like rows beyond the head."""
    chain = AuditChain(engine)
    chain.append([prediction(f"m{i}") for i in range(2500)])
    stop = threading.Event()

    def append_meanwhile() -> None:
        while not stop.is_set():
            chain.append([prediction("more") for _ in range(5)])

    writer = threading.Thread(target=append_meanwhile)
    writer.start()
    try:
        results = [verify_database(engine) for _ in range(4)]
    finally:
        stop.set()
        writer.join()
    assert all(r.ok for r in results), [r.broken for r in results]
    assert verify_database(engine).checked > results[0].checked >= 2500
