"""The drift reference profile built at training time."""

from __future__ import annotations

from ml.features import token_hashes
from ml.fitting import FittedModel, TrainingData
from ml.profile import ReferenceProfile, build_profile


def test_profile_of_the_default_model(fitted: FittedModel, training_data: TrainingData) -> None:
    profile = fitted.profile
    assert profile.messages == len(training_data.train_texts)
    assert len(profile.shapes.length) == profile.messages
    assert len(profile.scores) == 1103
    assert 0.12 < profile.label_spam_rate < 0.15
    assert 0.10 < profile.predicted_spam_rate < 0.15
    assert profile.thresholds == {}
    assert set(profile.vocabulary) == set(profile.token_counts)
    assert profile.oov_rate(token_hashes(training_data.train_texts[0])) == 0.0


def test_json_roundtrip_and_thresholds() -> None:
    profile = build_profile(["Win a prize now", "see you later"], 0.5, [0.9, 0.1], 0.5)
    restored = ReferenceProfile.from_json(profile.to_json())
    assert restored == profile
    assert restored.token_counts  # int keys survive JSON
    updated = restored.with_thresholds({"js_distance": 0.12})
    assert updated.thresholds == {"js_distance": 0.12}
    assert profile.oov_rate(token_hashes("zyzzyva quux")) == 1.0
    assert profile.oov_rate(()) == 0.0
