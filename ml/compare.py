"""Champion vs challenger: the same messages, paired errors, McNemar's exact test.

Both models score the same evaluation sets (the fixed held-out split of the corpus and the
most recent labelled production messages that no model trained on). Only the messages
where exactly one model is right say anything about which is better: b (champion right,
challenger wrong) and c (the reverse). Under "equally good", c ~ Binomial(b + c, 1/2);
McNemar's exact test is that binomial test. Promotion needs a significant improvement (or
a champion below the accuracy floor) and no regression of the ham false-positive rate
beyond a margin — a model that blocks real messages is worse, whatever else it catches.
The FPR regression must also be real: with ~1,000 held-out ham, one or two borderline
messages move the rate by 0.1-0.2 points, so the same paired test, one-sided on the ham
messages alone, must say the challenger is worse on ham before the margin blocks it.
The seed's rule ("deploy if accuracy improves by more than 1%") is computed beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
from scipy.stats import binomtest

from ml.evaluation import Evaluation, evaluate
from ml.metrics import classification_metrics
from schemas.common import ClassificationMetrics, Label, ModelRef
from schemas.models import EvaluationSet, McNemarResult, ModelComparison
from spamops.settings import RetrainSettings

__all__ = ["EvalSet", "Verdict", "compare_models", "ham_regression_p", "mcnemar_exact"]


@dataclass(frozen=True)
class EvalSet:
    name: str
    texts: Sequence[str]
    labels: Sequence[Label]


@dataclass(frozen=True)
class Verdict:
    comparison: ModelComparison
    champion: Evaluation
    challenger: Evaluation


def mcnemar_exact(
    champion_correct: np.ndarray[Any, Any], challenger_correct: np.ndarray[Any, Any]
) -> McNemarResult:
    """Two-sided exact McNemar test on paired per-message correctness."""
    b = int(np.sum(champion_correct & ~challenger_correct))
    c = int(np.sum(~champion_correct & challenger_correct))
    p = 1.0 if b + c == 0 else float(binomtest(c, b + c, 0.5).pvalue)
    return McNemarResult(champion_only_correct=b, challenger_only_correct=c, p_value=min(p, 1.0))


def ham_regression_p(
    champion_correct: np.ndarray[Any, Any], challenger_correct: np.ndarray[Any, Any]
) -> float:
    """One-sided exact p-value that the challenger errs on more of these messages."""
    b = int(np.sum(champion_correct & ~challenger_correct))  # only the challenger errs
    c = int(np.sum(~champion_correct & challenger_correct))
    if b + c == 0:
        return 1.0
    return float(binomtest(b, b + c, 0.5, alternative="greater").pvalue)


def _joined(model: Any, sets: Sequence[EvalSet]) -> Evaluation:
    texts = [t for s in sets for t in s.texts]
    labels = [lab for s in sets for lab in s.labels]
    return evaluate(model, texts, labels)


def compare_models(
    champion: Any,
    challenger: Any,
    sets: Sequence[EvalSet],
    rules: RetrainSettings,
    *,
    champion_ref: ModelRef,
    challenger_ref: ModelRef,
    retrain_request_id: UUID | None = None,
) -> Verdict:
    """Score both models on `sets` and decide whether the challenger replaces the champion."""
    sets = [s for s in sets if len(s.texts)]
    a, b = _joined(champion, sets), _joined(challenger, sets)
    test = mcnemar_exact(a.correct, b.correct)
    ma, mb = a.metrics, b.metrics
    improves = test.challenger_only_correct > test.champion_only_correct
    significant = improves and test.p_value < rules.mcnemar_alpha
    below_floor = ma.accuracy < rules.accuracy_floor
    ham = a.y_true == 0
    worse_on_ham = ham_regression_p(a.correct[ham], b.correct[ham])
    beyond_margin = mb.ham_fpr > ma.ham_fpr + rules.ham_fpr_margin
    fpr_ok = not (beyond_margin and worse_on_ham < rules.mcnemar_alpha)
    reasons = [
        f"McNemar exact: champion-only correct {test.champion_only_correct}, challenger-only "
        f"correct {test.challenger_only_correct}, p={test.p_value:.4g} "
        f"({'significant' if significant else 'not significant'} at {rules.mcnemar_alpha})",
        f"ham FPR {ma.ham_fpr:.4f} -> {mb.ham_fpr:.4f} "
        f"({'beyond' if beyond_margin else 'within'} the {rules.ham_fpr_margin:.4f} margin; "
        f"one-sided p={worse_on_ham:.3g} that the challenger is worse on ham"
        f"{'' if fpr_ok else ': blocks promotion'})",
    ]
    if below_floor:
        reasons.append(
            f"champion accuracy {ma.accuracy:.4f} is below the floor {rules.accuracy_floor:.2f}"
        )
    promote = (significant or (below_floor and mb.accuracy > ma.accuracy)) and fpr_ok
    comparison = ModelComparison(
        champion=champion_ref,
        challenger=challenger_ref,
        champion_metrics=ma,
        challenger_metrics=mb,
        evaluation_sets=tuple(EvaluationSet(name=s.name, n=len(s.texts)) for s in sets),
        mcnemar=test,
        decision="promote" if promote else "keep",
        reasons=tuple(reasons),
        naive_decision="promote" if mb.accuracy - ma.accuracy > 0.01 else "keep",
        retrain_request_id=retrain_request_id,
    )
    return Verdict(comparison, a, b)


def metrics_on(evaluation: Evaluation, mask: np.ndarray[Any, Any]) -> ClassificationMetrics:
    """Metrics of one evaluation restricted to a subset of its messages."""
    return classification_metrics(
        evaluation.y_true[mask], evaluation.p_spam[mask], evaluation.threshold
    )
