from __future__ import annotations

from datetime import timedelta

import pytest

from consumers.agent.guards import Guards, basis
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
        ((b.drift(0.10, drifted=True),), "wait"),
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
        ((b.compared(1, 2, "keep"), b.abtest_concluded("challenger", challenger=2)), "promote"),
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
        guards.check(
            promote,
            situation(b.compared(1, 2, "keep"), b.abtest_concluded("challenger", challenger=2)),
        )
        is None
    )
    wrong = promote.model_copy(update={"target_version": 3})
    assert guards.check(wrong, situation(b.compared(1, 2, "promote"))) is not None


def test_input_ids_are_recorded() -> None:
    d, p = b.drift(0.3), b.performance(0.99)
    s = situation(p, d)
    assert s.input_ids()[0] == d.id and p.id in s.input_ids()


def test_rollback_needs_a_known_earlier_champion(settings: Settings) -> None:
    guards = Guards(settings)
    rollback = Proposal(action="rollback", confidence=1, rationale="worse")
    fresh = situation(b.promoted(2, 1, at=b.NOW - timedelta(hours=1)), b.performance(0.8, 2))
    assert guards.check(rollback, fresh) is None
    first = situation(b.promoted(1, None, at=b.NOW - timedelta(hours=1)), b.performance(0.8, 1))
    assert "no earlier champion" in (guards.check(rollback, first) or "")
    after = situation(
        b.promoted(2, 1, at=b.NOW - timedelta(hours=2)),
        b.rolled_back(2, 1, at=b.NOW - timedelta(hours=1)),
        b.performance(0.8, 1),
    )
    assert after.last_promotion_at is None and after.last_rollback_at is not None
    assert "no earlier champion" in (guards.check(rollback, after) or "")
    assert RulePolicy(settings).decide(after).action == "retrain"


def test_abtests_only_for_the_compared_challenger(settings: Settings) -> None:
    guards = Guards(settings)

    def ab(version: int) -> Proposal:
        return Proposal(action="start_abtest", confidence=1, rationale="x", target_version=version)

    s = situation(b.promoted(1, None), b.compared(1, 2, "keep"))
    assert guards.check(ab(2), s) is None
    assert "is the champion" in (guards.check(ab(1), s) or "")
    assert "not the compared challenger" in (guards.check(ab(3), s) or "")
    stale = situation(b.promoted(2, 1), b.compared(1, 3, "keep"))
    assert "not champion v2" in (guards.check(ab(3), stale) or "")
    running = situation(b.promoted(1, None), b.compared(1, 2, "keep"), b.abtest_started(1, 2))
    assert "already running" in (guards.check(ab(2), running) or "")


def test_an_input_that_led_to_an_action_never_leads_to_another(settings: Settings) -> None:
    guards = Guards(settings)
    comparison = b.compared(1, 2, "keep", at=b.NOW - timedelta(hours=3))
    proposal = Proposal(action="start_abtest", confidence=1, rationale="x", target_version=2)
    s = situation(b.promoted(1, None), comparison)
    assert basis(proposal, s) == comparison.id and guards.check(proposal, s) is None
    acted = fold(s, b.decision_made("start_abtest", (comparison.id,)))
    assert acted.acted_on == (comparison.id,) and acted.decisions[-1].action == "start_abtest"
    assert (guards.check(proposal, acted) or "").startswith("already acted")
    waited = fold(s, b.decision_made("wait", (comparison.id,)))
    assert waited.acted_on == () and guards.check(proposal, waited) is None


def test_the_ab_winner_is_the_version_the_test_tried(settings: Settings) -> None:
    start = b.abtest_started(1, 2, at=b.NOW - timedelta(days=1))
    moved = b.compared(1, 3, "keep", mcc_gain=-0.01, at=b.NOW - timedelta(hours=1))
    done = b.abtest_concluded("challenger", abtest_id=start.payload.abtest_id)
    s = situation(b.promoted(1, None, at=b.NOW - timedelta(days=2)), start, moved, done)
    assert (s.challenger, s.abtest_challenger, s.abtest) == (3, 2, None)
    proposal = RulePolicy(settings).decide(s)
    assert (proposal.action, proposal.target_version) == ("promote", 2)
    assert basis(proposal, s) == done.id and Guards(settings).check(proposal, s) is None


def test_the_rules_escalate_when_the_daily_cap_is_spent(settings: Settings) -> None:
    spent = [b.retrain_requested(at=b.NOW - timedelta(hours=2 + i)) for i in range(6)]
    capped = situation(*spent, b.drift(0.5))
    assert RulePolicy(settings).decide(capped).action == "alert"
    busy = situation(*spent, b.retrain_requested(at=b.NOW - timedelta(minutes=5)), b.drift(0.5))
    proposal = RulePolicy(settings).decide(busy)
    assert proposal.action == "retrain"
    assert (Guards(settings).check(proposal, busy) or "").startswith("cooldown")


def test_stale_measurements_are_not_kept_and_not_acted_on(settings: Settings) -> None:
    s = situation(b.promoted(2, 1), b.drift(0.6, version=2, at=b.NOW - timedelta(hours=1)))
    kept = s.drift_id
    late = b.drift(0.9, version=1)
    s = fold(s, late)
    assert s.drift_id == kept and s.trigger_id == late.id
    assert RulePolicy(settings).decide(s).action == "wait"
    assert "no longer serves" in RulePolicy(settings).decide(s).rationale


def test_history_keeps_the_last_decisions_and_challenger_promotions() -> None:
    s = situation(*(b.decision_made("wait", (b.drift(0.1).id,)) for _ in range(15)))
    assert len(s.decisions) == 10
    challenger = b.promoted(4, None).model_copy(
        update={"payload": b.promoted(4, None).payload.model_copy(update={"alias": "challenger"})}
    )
    assert fold(s, challenger).challenger == 4
