"""Calibration: transforms, thresholds, and the false-alarm rate on windows it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from ml.drift import (
    Calibration,
    DriftDetector,
    ProfileNotCalibratableError,
    Reference,
    calibrate,
    calibration_sizes,
    measure,
)
from ml.drift.calibration import (
    RATE,
    _pools,
    _window,
    arcsine_change,
    boxcox,
    fit_power,
    inverse_boxcox,
)
from ml.drift.reference import ProfileRows, score_histogram
from ml.drift.statistics import STATISTICS
from ml.fitting import FittedModel
from ml.profile import build_profile
from producers.scenarios import LabelledMessage, scenario_windows
from tests.ml.drift.conftest import WindowOf


def test_boxcox_roundtrip_and_power_fit() -> None:
    for power in (-1.0, -0.3, 0.0, 0.5, 1.3):
        for x in (0.01, 0.4, 2.0):
            assert inverse_boxcox(float(boxcox(x, power)), power) == pytest.approx(x)
    rng = np.random.default_rng(0)
    assert fit_power([rng.lognormal(-3, 0.4, 400), rng.lognormal(-2, 0.4, 400)]) == pytest.approx(
        0.0, abs=0.2
    )
    assert fit_power([rng.normal(50, 3, 800)]) == pytest.approx(1.0, abs=0.6)
    assert arcsine_change(0.0, 0.13, 500) == 0.0
    assert arcsine_change(0.02, 0.13, 500) > 0 > arcsine_change(-0.02, 0.13, 500)


def test_calibration_sizes() -> None:
    assert calibration_sizes(500, 100) == [100, 224, 500]
    assert calibration_sizes(100, 500) == [100]


def test_thresholds_sit_at_the_critical_z(calibration: Calibration) -> None:
    for n in (100, 160, 224, 400, 500):
        for name in STATISTICS:
            if name == RATE:
                for up in (True, False):
                    t = calibration.threshold(name, n, upward=up)
                    delta = t if up else -t
                    assert calibration.z(name, delta, n) == pytest.approx(calibration.critical_z)
            else:
                t = calibration.threshold(name, n)
                assert calibration.z(name, t, n) == pytest.approx(calibration.critical_z)
        # Smaller windows are noisier: every distance needs a larger value to alarm.
        assert calibration.threshold("oov_rate", 100) > calibration.threshold("oov_rate", 500)
    assert 2.5 < calibration.critical_z < 3.5  # between one test and Bonferroni over nine
    restored = Calibration.model_validate_json(calibration.model_dump_json())
    assert restored == calibration


def test_false_alarm_rate_on_fresh_cross_fitted_windows(
    fitted: FittedModel, calibration: Calibration
) -> None:
    """New pools and windows (another seed) than the calibration saw: near the 1% target."""
    profile = fitted.profile
    rows = ProfileRows.from_profile(profile)
    rng = np.random.default_rng(12345)
    heldout_hist = score_histogram(np.asarray(profile.scores))
    everyone = np.arange(len(rows.tokens))
    alarms = windows = 0
    for pool in _pools(rows.keys, 5, 2, rng):
        ref = Reference.from_rows(
            rows,
            np.setdiff1d(everyone, pool),
            score_hist=heldout_hist,
            spam_rate=profile.predicted_spam_rate,
            sample_size=calibration.reference_sample,
            rng=rng,
        )
        for n in (100, 500, 500):
            for _ in range(10):
                m = measure(
                    ref, _window(rows, rng.choice(pool, n), profile.threshold), seed=windows
                )
                z = [
                    calibration.z(s, m.spam_rate_delta if s == RATE else m.values[s], n)
                    for s in STATISTICS
                ]
                alarms += max(z) > calibration.critical_z
                windows += 1
    assert windows == 300
    assert alarms / windows <= 0.03  # target 1%; 0-9 of 300 is what a 1% rate gives


def test_false_alarm_rate_on_the_heldout_split(
    fitted: FittedModel,
    calibration: Calibration,
    heldout: list[LabelledMessage],
    window_of: WindowOf,
) -> None:
    detector = DriftDetector(fitted.profile, calibration)
    windows = scenario_windows(heldout, None, windows=120, window_size=500, onset=0, seed=9)
    alarms = sum(detector.assess(window_of(w)).drifted for w in windows)
    assert alarms <= 3  # 120 clean windows; the bench measures 400 (bench/drift_eval.py)


def test_a_profile_without_per_message_data_cannot_be_calibrated() -> None:
    old = build_profile(["win a prize", "see you"], 0.5, [0.9, 0.1], 0.5)
    assert not old.calibratable
    with pytest.raises(ProfileNotCalibratableError, match="retrain"):
        calibrate(old, sizes=[100], target_false_alarm=0.01)


def test_tiny_profiles_calibrate_or_say_why() -> None:
    texts = ["win a prize now", "see you at six", "call me later", "free entry txt"] * 3
    tiny = build_profile(texts, 0.5, [0.9, 0.1], 0.5, oof_scores=[0.2] * len(texts))
    calibration = calibrate(tiny, sizes=[5, 10], target_false_alarm=0.05, windows_per_size=20)
    assert calibration.pools == 4 * 4  # folds capped at the 4 distinct messages
    one = build_profile(["same text"] * 3, 0.0, [0.1], 0.5, oof_scores=[0.1] * 3)
    with pytest.raises(ProfileNotCalibratableError, match="distinct"):
        calibrate(one, sizes=[5], target_false_alarm=0.05)
