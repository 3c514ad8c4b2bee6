"""Explain: the story of one prediction, from the audit log alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, text

from store.audit.chain import AuditChain
from store.audit.explain import ExplainedEvent, explain
from store.engine import read_session
from tests.store.test_audit_story import T0, accessed, predicted, story


def _ids(events: list[ExplainedEvent]) -> list[uuid.UUID]:
    return [e.event_id for e in events]


def test_it_tells_the_whole_story(engine: Engine) -> None:
    tale = story()
    AuditChain(engine).append(tale.events)
    with read_session(engine) as session:
        found = explain(session, tale.prediction.payload.prediction_id)
    assert found is not None
    assert (found.model_name, found.model_version, found.model_alias) == (
        "spam-classifier",
        1,
        "champion",
    )
    assert found.prediction.event_id == tale.prediction.id and found.request_id == "req-42"
    assert tale.caller is not None
    assert _ids(found.callers) == [tale.caller.id]
    assert found.callers[0].link == "same request id"
    assert "sms-gateway (predict): POST /predict → 200" in found.callers[0].summary
    assert _ids(found.feedback) == [e.id for e in tale.feedback]
    assert _ids(found.windows) == [e.id for e in tale.windows]  # not v2's, not a later one
    assert sorted(_ids(found.followed)) == sorted(e.id for e in tale.followed)  # no A/B test
    assert [e.type for e in found.followed][-3:] == [
        "model.trained",
        "model.compared",
        "model.promoted",
    ]
    assert _ids(found.later_alias_changes) == [e.id for e in tale.later]
    everything = [found.prediction, *found.callers, *found.feedback, *found.followed]
    assert all(e.intact for e in everything)
    assert "WIN a prize" not in found.model_dump_json()  # never the message text


def test_it_finds_a_prediction_by_event_id_and_says_none_for_unknown(engine: Engine) -> None:
    tale = story()
    AuditChain(engine).append(tale.events)
    with read_session(engine) as session:
        by_event = explain(session, tale.prediction.id)
        assert by_event is not None
        assert by_event.prediction_id == tale.prediction.payload.prediction_id
        assert explain(session, uuid.uuid4()) is None


def test_without_a_request_id_the_caller_is_a_marked_guess(engine: Engine) -> None:
    lonely = predicted("hello", at=T0, request_id=None)
    calls = [
        accessed(T0 + timedelta(milliseconds=3), None),
        accessed(T0 + timedelta(milliseconds=4), None, route="/models"),
        accessed(T0 + timedelta(minutes=5), None),
    ]
    AuditChain(engine).append([lonely, *calls])
    with read_session(engine) as session:
        found = explain(session, lonely.payload.prediction_id, horizon=timedelta(hours=1))
    assert found is not None
    assert _ids(found.callers) == [calls[0].id]
    assert found.callers[0].link.startswith("guess by time")
    assert found.feedback == found.windows == found.followed == []


def test_a_tampered_row_is_flagged(engine: Engine) -> None:
    tale = story()
    AuditChain(engine).append(tale.events)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        connection.execute(
            text("UPDATE audit_log SET event = replace(event, '\"ham\"', '\"spam\"') WHERE seq = 5")
        )
    with read_session(engine) as session:
        found = explain(session, tale.prediction.payload.prediction_id)
    assert found is not None
    assert [e.intact for e in found.feedback] == [False, True]
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET event = 'garbage' WHERE seq = 1"))
    with read_session(engine) as session:
        broken = explain(session, tale.prediction.payload.prediction_id)
    assert broken is not None and not broken.prediction.intact and broken.model_name == "?"
