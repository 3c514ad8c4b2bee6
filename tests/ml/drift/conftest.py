"""Fixtures of the drift tests: a calibration of the session's fitted model, held-out traffic.

One calibration (~2 s at 150 windows per size) serves every test; the windows of traffic
are built from the held-out split, which no model was trained on, as production traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from ml.drift import Calibration, WindowSample, calibrate
from ml.features import message_features
from ml.fitting import FittedModel, TrainingData
from ml.scorer import FastScorer
from producers.scenarios import LabelledMessage

WindowOf = Callable[..., WindowSample]


@pytest.fixture(scope="session")
def calibration(fitted: FittedModel) -> Calibration:
    return calibrate(
        fitted.profile, sizes=[100, 224, 500], target_false_alarm=0.01, windows_per_size=150
    )


@pytest.fixture(scope="session")
def window_of(fitted: FittedModel) -> WindowOf:
    """Messages -> the `WindowSample` the drift consumer would build from their predictions."""
    scorer = FastScorer(fitted.scorer)
    cache: dict[str, tuple[tuple[int, ...], list[float], float]] = {}

    def build(messages: Sequence[LabelledMessage], *, redacted: bool = False) -> WindowSample:
        rows = []
        for m in messages:
            if m.text not in cache:
                hashes, s = message_features(m.text)
                shape = [s.length, s.digits, s.urls, s.uppercase_ratio]
                cache[m.text] = (hashes, shape, scorer.score(m.text))
            rows.append(cache[m.text])
        return WindowSample.build(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[2] >= fitted.profile.threshold for r in rows],
            None if redacted else [m.text for m in messages],
        )

    return build


@pytest.fixture(scope="session")
def heldout(training_data: TrainingData) -> list[LabelledMessage]:
    """The held-out split: clean traffic."""
    return [
        LabelledMessage(t, "spam" if y else "ham")
        for t, y in zip(training_data.test_texts, training_data.y_test.tolist(), strict=True)
    ]
