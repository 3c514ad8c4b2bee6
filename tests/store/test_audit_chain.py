"""Appending to the audit log: canonical form, one chain, idempotent, append-only, no forks."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select, text, update

from schemas.catalogue import STREAM_OF_TYPE
from schemas.events import AccessRecorded
from schemas.operations import Access
from store.audit.canonical import GENESIS, canonical_json, link_hash
from store.audit.chain import AuditChain
from store.audit.read import audit_events, head_of, records
from store.audit.verify import verify_database
from store.engine import read_session, write_session
from store.errors import StoreError
from store.migrate import downgrade, schema_diff, upgrade_sql
from store.rebuild import rebuild
from store.rows import PROJECTED_TYPES
from store.tables import AuditHeadRow, AuditLogRow
from tests.factories import prediction
from tests.store.helpers import project, snapshot
from tests.store.test_audit_story import story

GOLDEN_TEXT = (
    '{"correlation":"01900000-0000-7000-8000-000000000001",'
    '"id":"01900000-0000-7000-8000-000000000001","occurred_at":"2026-01-05T12:00:00.250000Z",'
    '"payload":{"client":null,"latency_ms":1.5,"method":"GET","principal":"Zoë",'
    '"request_id":"r-1","role":"auditor","route":"/audit","status":200},"schema":1,'
    '"source":"api@host-1","type":"access.recorded"}'
)
GOLDEN_HASH = "c84ae7fe60abe4c7995b771aaeb251b8ae0377913cc9795127634825b83f5525"


def _golden_event() -> AccessRecorded:
    return AccessRecorded(
        id=uuid.UUID("01900000-0000-7000-8000-000000000001"),
        occurred_at=datetime(2026, 1, 5, 12, 0, 0, 250000, tzinfo=UTC),
        source="api@host-1",
        payload=Access(
            principal="Zoë",
            role="auditor",
            method="GET",
            route="/audit",
            status=200,
            latency_ms=1.5,
            request_id="r-1",
        ),
    )


def _count(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditLogRow)) or 0)


def test_the_canonical_form_and_hash_are_pinned() -> None:
    """Changing either breaks every existing chain: this vector is in docs/security.md too."""
    canonical, _ = canonical_json(_golden_event())
    assert canonical == GOLDEN_TEXT
    message = f"spamops-audit-v1\n1\n{GENESIS}\n1767614400250-0\n{GOLDEN_TEXT}".encode()
    assert hashlib.sha256(message).hexdigest() == GOLDEN_HASH
    assert link_hash(1, GENESIS, "1767614400250-0", canonical) == GOLDEN_HASH


def test_control_characters_are_escaped_and_keys_sorted() -> None:
    canonical, document = canonical_json(prediction("line one\nline\x00two ☕"))
    assert "\n" not in canonical and '"text":"line one\\nline\\u0000two ☕"' in canonical
    again = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical == again and canonical.startswith('{"correlation":')


def test_every_event_lands_once_in_one_chain(engine: Engine) -> None:
    events = story().events
    chain = AuditChain(engine)
    first = chain.append(events[:5])
    assert (first.appended, first.duplicates, first.seq) == (5, 0, 5)
    again = chain.append([*events, *events[:3]])  # redelivered and duplicated in the batch
    assert (again.appended, again.duplicates, again.seq) == (len(events) - 5, 8, len(events))
    assert chain.append(events).appended == 0
    assert _count(engine) == len(events)
    result = verify_database(engine)
    assert result.ok and result.checked == len(events)
    assert head_of(engine) == result.last
    with read_session(engine) as session:
        rows = list(records(session))
    assert [r.seq for r in rows] == list(range(1, len(events) + 1))
    assert [r.event_id for r in rows] == [e.id for e in events]  # insertion order
    assert rows[0].prev_hash == GENESIS
    assert all(r.stream == STREAM_OF_TYPE[r.type] for r in rows)


def test_lookup_columns_come_from_the_event(engine: Engine) -> None:
    tale = story()
    AuditChain(engine).append([(e, f"{i}-0") for i, e in enumerate(tale.events, 1)])
    with read_session(engine) as session:
        by_id = {r.event_id: r for r in records(session)}
    pred = by_id[tale.prediction.id]
    assert pred.subject == str(tale.prediction.payload.prediction_id)
    assert pred.entry_id == "1-0" and pred.occurred_at == tale.prediction.occurred_at
    assert by_id[tale.caller.id].subject == "req-42"  # type: ignore[union-attr]
    assert by_id[tale.feedback[0].id].subject == pred.subject
    dead = next(r for r in by_id.values() if r.type == "event.deadlettered")
    assert dead.subject == str(tale.events[2].id)


def test_the_log_is_append_only(engine: Engine) -> None:
    AuditChain(engine).append(story().events[:3])
    for statement in (
        update(AuditLogRow).where(AuditLogRow.seq == 2).values(type="x"),
        delete(AuditLogRow).where(AuditLogRow.seq == 3),
    ):
        with pytest.raises(StoreError, match="append-only"), write_session(engine) as session:
            session.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(StoreError, match="append-only"), write_session(engine) as session:
            session.execute(text("TRUNCATE audit_log"))
    assert _count(engine) == 3 and verify_database(engine).ok


def test_a_lost_head_row_is_rebuilt_from_the_last_row(engine: Engine) -> None:
    events = story().events
    chain = AuditChain(engine)
    chain.append(events[:4])
    with write_session(engine) as session:
        session.execute(delete(AuditHeadRow))
    assert not verify_database(engine).ok  # a missing head is reported ...
    assert chain.append(events[4:]).seq == len(events)  # ... and appends continue the chain
    assert verify_database(engine).ok


@pytest.mark.parametrize("writers", [4])
def test_concurrent_writers_never_fork_the_chain(
    writers: int, database_url: str, make_engine: Callable[..., Engine]
) -> None:
    """Several appenders (own engines, as replicas have), overlapping batches."""
    events = [prediction(f"message {i}") for i in range(240)]
    engines = [make_engine(database_url) for _ in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def run(k: int) -> None:
        chain = AuditChain(engines[k])
        try:
            barrier.wait()
            # each writer appends its own quarter plus half of the next writer's: overlaps
            mine = events[k * 60 : (k + 1) * 60] + events[((k + 1) % writers) * 60 :][:30]
            for i in range(0, len(mine), 15):
                chain.append(mine[i : i + 15])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(engines[0]) == len(events)
    result = verify_database(engines[0])
    assert result.ok and result.checked == len(events)


def test_the_migration_matches_the_tables(engine: Engine) -> None:
    assert [d for d in schema_diff(engine) if "audit_" in repr(d)] == []
    downgrade(engine, "0001")
    with read_session(engine) as session:
        names = set(engine.dialect.get_table_names(session.connection()))
    assert not names & {"audit_log", "audit_head"}


def test_the_offline_sql_has_the_triggers() -> None:
    script = upgrade_sql("postgresql+psycopg://u@h/db", "0002")
    assert "CREATE TABLE audit_log" in script and "audit_log_append_only" in script


async def test_the_log_replays_into_a_rebuild(
    engine: Engine, new_database: Callable[[], str], make_engine: Callable[..., Engine]
) -> None:
    """Once Redis has trimmed the streams, the audit log is what projections come back from."""
    events = story().events
    AuditChain(engine).append(events)
    direct, rebuilt = make_engine(new_database()), make_engine(new_database())
    project(direct, [e for e in events if e.type in PROJECTED_TYPES])
    report = await rebuild(rebuilt, audit_events(engine, types=PROJECTED_TYPES), batch_size=7)
    assert report.events == sum(e.type in PROJECTED_TYPES for e in events) and not report.rejected
    assert snapshot(rebuilt) == snapshot(direct)
    decoded = [e async for e in audit_events(engine, page=4)]
    assert [e.id for e in decoded] == [e.id for e in events]
