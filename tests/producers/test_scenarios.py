from __future__ import annotations

import pytest

from producers.scenarios import SCENARIOS, LabelledMessage, campaign_messages, scenario_windows

BASE = [LabelledMessage(f"see you at {i}", "ham") for i in range(87)] + [
    LabelledMessage(f"WIN £{i} now txt WIN", "spam") for i in range(13)
]


def test_campaign_is_spam_seeded_and_varied() -> None:
    a, b = campaign_messages(50, seed=1), campaign_messages(50, seed=2)
    assert all(m.label == "spam" and m.drifted for m in a)
    assert [m.text for m in a] == [m.text for m in campaign_messages(50, seed=1)]
    assert len({m.text for m in a}) > 45 and {m.text for m in a} != {m.text for m in b}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sudden_onset(name: str) -> None:
    windows = list(
        scenario_windows(BASE, SCENARIOS[name], windows=4, window_size=400, onset=2, seed=3)
    )
    drifted = [sum(m.drifted for m in w) / 400 for w in windows]
    assert drifted[0] == drifted[1] == 0
    share = SCENARIOS[name].share
    expected = share * (0.13 if name == "subtle_campaign" else 1.0)
    assert abs(drifted[2] - expected) < 0.07 and abs(drifted[3] - expected) < 0.07


def test_gradual_ramps_and_subtle_keeps_the_spam_rate() -> None:
    gradual = SCENARIOS["new_campaign"].gradual()
    windows = list(scenario_windows(BASE, gradual, windows=8, window_size=400, onset=1, seed=3))
    shares = [sum(m.drifted for m in w) / 400 for w in windows]
    assert shares[0] == 0 and shares[1] < shares[3] < shares[5] and shares[6] > 0.4
    subtle = list(
        scenario_windows(
            BASE, SCENARIOS["subtle_campaign"], windows=3, window_size=2000, onset=1, seed=3
        )
    )
    rates = [sum(m.label == "spam" for m in w) / 2000 for w in subtle]
    assert all(abs(r - 0.13) < 0.03 for r in rates)
    clean = list(scenario_windows(BASE, None, windows=2, window_size=100, onset=0, seed=1))
    assert not any(m.drifted for w in clean for m in w)
