"""Labelled production messages: the retrainer's extra training data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from store.engine import read_session
from store.queries import labelled_messages
from tests.store import scenario
from tests.store.helpers import project

M = timedelta(minutes=1)


def test_joined_deduplicated_newest_label_wins(engine: Engine) -> None:
    project(engine, scenario.history())
    with read_session(engine) as s:
        rows = labelled_messages(s)
    # "win a prize now" was predicted twice and labelled three times: once, newest label.
    assert [(r.text, r.label) for r in rows] == [
        ("see you at lunch", "ham"),
        ("win cash, private", "spam"),  # redacted prediction, text from the import
        ("win a prize now", "spam"),
    ]
    assert rows[-1].labelled_at == scenario.T0 + 7 * M
    assert all(r.labelled_at.tzinfo is not None for r in rows)


def test_since_and_limit(engine: Engine) -> None:
    project(engine, scenario.history())
    with read_session(engine) as s:
        assert [r.text for r in labelled_messages(s, since=scenario.T0 + 6 * M)] == [
            "win cash, private",
            "win a prize now",
        ]
        assert [r.text for r in labelled_messages(s, limit=1)] == ["win a prize now"]
        assert labelled_messages(s, since=scenario.T0 + 60 * M) == []


def test_labels_without_a_known_text_are_left_out(engine: Engine) -> None:
    redacted = scenario.prediction("secret", redacted=True)
    unknown = scenario.prediction("never projected")
    project(
        engine,
        [
            redacted,
            scenario.feedback(redacted, "ham", at=scenario.T0),
            scenario.feedback(unknown, "spam", at=scenario.T0),
        ],
    )
    with read_session(engine) as s:
        assert labelled_messages(s) == []
