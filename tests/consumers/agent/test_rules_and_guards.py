from __future__ import annotations

from datetime import timedelta

import pytest

from consumers.agent.guards import Guards
from consumers.agent.proposal import Proposal
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import Situation, fold
from schemas.events import Event
from spamops.settings import Settings
from tests.consumers.agent import builders as b


def situation(*events: Event) -> Situation:
    s = Situation(now=b.NOW - timedelta(days=3))
    for e in events:
        s = fold(s, e)
    return s


@pytest.mark.parametrize(
    ("events", "action"),
    [
        ((b.drift(0.4),), "retrain"),
        ((b.drift(0.10, drifted=True),), "alert"),
        ((b.drift(0.05),), "wait"),
        ((b.performance(0.90),), "retrain"),
        ((b.performance(0.97),), "wait"),
        (
            (b.promoted(2, 1, at=b.NOW - timedelta(hours=2)), b.performance(0.90, version=2)),
            "rollback",
        ),
        (
            (b.promoted(2, 1, at=b.NOW - timedelta(days=2)), b.performance(0.90, version=2)),
            "retrain",
        ),
        ((b.compared(1, 2, "keep", mcc_gain=0.02),), "start_abtest"),
        ((b.compared(1, 2, "keep", mcc_gain=-0.01),), "wait"),
        ((b.compared(1, 2, "promote"),), "wait"),
        ((b.compared(1, 2, "keep"), b.abtest_concluded("challenger")), "promote"),
        ((b.compared(1, 2, "keep"), b.abtest_concluded("champion")), "wait"),
        ((b.retrain_requested(),), "wait"),
    ],
)
def test_rule_table(events: tuple[Event, ...], action: str, settings: Settings) -> None:
    assert RulePolicy(settings).decide(situation(*events)).action == action


def test_performance_of_an_older_champion_is_ignored(settings: Settings) -> None:
    s = situation(b.promoted(2, 1, at=b.NOW - timedelta(days=2)), b.performance(0.5, version=1))
    assert s.performance is None


def test_cooldown_and_daily_cap(settings: Settings) -> None:
    guards = Guards(settings)
    retrain = Proposal(action="retrain", confidence=0.9, rationale="drift")
    recent = situation(b.retrain_requested(at=b.NOW - timedelta(minutes=10)), b.drift(0.5))
    final, blocked = guards.apply(retrain, recent)
    assert final.action == "wait" and blocked and blocked.startswith("cooldown")
    old = situation(b.retrain_requested(at=b.NOW - timedelta(hours=2)), b.drift(0.5))
    assert guards.check(retrain, old) is None
    many = situation(
        *(b.retrain_requested(at=b.NOW - timedelta(hours=2 + i)) for i in range(6)), b.drift(0.5)
    )
    assert (guards.check(retrain, many) or "").startswith("daily cap")


def test_promotion_needs_support(settings: Settings) -> None:
    guards = Guards(settings)
    promote = Proposal(action="promote", confidence=1, rationale="x", target_version=2)
    assert "no comparison" in (guards.check(promote, situation(b.drift(0.1))) or "")
    assert guards.check(promote, situation(b.compared(1, 2, "promote"))) is None
    assert "no comparison" in (guards.check(promote, situation(b.compared(1, 2, "keep"))) or "")
    assert (
        guards.check(promote, situation(b.compared(1, 2, "keep"), b.abtest_concluded("challenger")))
        is None
    )
    wrong = promote.model_copy(update={"target_version": 3})
    assert guards.check(wrong, situation(b.compared(1, 2, "promote"))) is not None


def test_input_ids_are_recorded() -> None:
    d, p = b.drift(0.3), b.performance(0.99)
    s = situation(p, d)
    assert s.input_ids()[0] == d.id and p.id in s.input_ids()
