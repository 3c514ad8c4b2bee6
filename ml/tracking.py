"""Logging a fitted model to MLflow: params, metrics, tags, artifacts and the model itself.

One run per trained model. Metrics and params go in one `log_batch` call and artifacts in
one `log_artifacts` call, because every round trip to a remote tracking server counts
against the 10 s budget of `spamops train`. The sklearn flavour is logged as pickle with
explicit pip requirements (MLflow's requirement inference re-imports the model and costs
seconds); the API never unpickles it, it loads `serving/scorer.json` (docs/model.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.fitting import FittedModel, TrainingData, top_features
from ml.plots import write_plots
from schemas.common import ClassificationMetrics
from spamops.settings import Settings

__all__ = [
    "PROFILE_PATH",
    "SCORER_PATH",
    "SERVING_DIR",
    "LoggedRun",
    "git_commit",
    "log_candidate_run",
    "log_model_run",
    "metrics_dict",
]

SERVING_DIR = "serving"
SCORER_PATH = f"{SERVING_DIR}/scorer.json"
PROFILE_PATH = f"{SERVING_DIR}/profile.json"
_PICKLE_WARNING = "Saving scikit-learn models in the pickle or cloudpickle format"


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    scorer_sha256: str


def git_commit() -> str:
    """Commit of the code that trained (with `-dirty` for uncommitted changes), or 'unknown'."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def metrics_dict(metrics: ClassificationMetrics, prefix: str) -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in metrics.model_dump().items() if v is not None}


def _cv_metrics(fitted: FittedModel) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, (mean, sd) in fitted.cv.summary().items():
        out[f"cv_{name}_mean"] = mean
        out[f"cv_{name}_sd"] = sd
    return out


def _log_batch(
    client: Any,
    run_id: str,
    metrics: Mapping[str, float],
    params: Mapping[str, str],
    tags: Mapping[str, str],
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        tags=[RunTag(k, str(v)[:5000]) for k, v in tags.items()],
    )


def log_candidate_run(
    client: Any,
    experiment_id: str,
    parent_run_id: str,
    fitted_cv: Mapping[str, tuple[float, float]],
    params: Mapping[str, str],
    seconds: float,
) -> str:
    """A nested run holding one search candidate's parameters and CV metrics."""
    run = client.create_run(
        experiment_id, run_name=params.get("name"), tags={"mlflow.parentRunId": parent_run_id}
    )
    metrics = {f"cv_{k}_mean": m for k, (m, _) in fitted_cv.items()}
    metrics |= {f"cv_{k}_sd": s for k, (_, s) in fitted_cv.items()}
    metrics["cv_seconds"] = seconds
    _log_batch(client, run.info.run_id, metrics, params, {"spamops.kind": "candidate"})
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


class _DropPickleWarning(logging.Filter):
    """We chose pickle deliberately and never unpickle in the API; see docs/model.md."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _PICKLE_WARNING not in record.getMessage()


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ["scikit-learn", "nltk", "numpy", "scipy", "pydantic", "orjson", "regex"]
    return [f"{n}=={version(n)}" for n in names]


def _write_artifacts(root: Path, fitted: FittedModel, data: TrainingData, plots: bool) -> bytes:
    serving = root / SERVING_DIR
    serving.mkdir(parents=True)
    scorer_json = fitted.scorer.to_json()
    (root / SCORER_PATH).write_bytes(scorer_json)
    (root / PROFILE_PATH).write_bytes(fitted.profile.to_json())
    (root / "features").mkdir()
    (root / "features" / "top_features.json").write_text(
        json.dumps(top_features(fitted.scorer), indent=1)
    )
    (root / "data").mkdir()
    dataset = {
        "corpus": data.corpus.model_dump(),
        "split": data.split.summary(),
        "extra_rows": data.extra_rows,
        "extra_dropped": data.extra_dropped,
        "training_sha256": data.sha256,
    }
    (root / "data" / "dataset.json").write_text(json.dumps(dataset, indent=1))
    folds = [m.model_dump() for m in fitted.cv.folds]
    (root / "evaluation").mkdir()
    (root / "evaluation" / "cv_folds.json").write_text(json.dumps(folds, indent=1))
    if plots:
        write_plots(data.y_test, fitted.heldout.p_spam, fitted.heldout.threshold, root / "plots")
    return scorer_json


def _signature() -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    return ModelSignature(
        inputs=Schema([ColSpec("string", "text")]),
        outputs=Schema([TensorSpec(np.dtype(np.float64), (-1, 2), "probabilities")]),
    )


def log_model_run(
    client: Any,
    fitted: FittedModel,
    data: TrainingData,
    settings: Settings,
    *,
    run_id: str,
    extra_metrics: Mapping[str, float] | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> LoggedRun:
    """Log everything about `fitted` into the active run `run_id` and log the model."""
    import mlflow.sklearn
    import pandas as pd
    import sklearn

    held = fitted.heldout.metrics
    metrics = metrics_dict(held, "test_") | _cv_metrics(fitted)
    metrics |= {f"{k}_seconds": v for k, v in fitted.seconds.items()}
    metrics |= {
        "n_features": float(fitted.scorer.n_features),
        "training_rows": float(len(data.y_train)),
    }
    metrics |= dict(extra_metrics or {})
    params = fitted.spec.params() | {
        "seed": str(settings.model.seed),
        "threshold": str(settings.model.threshold),
        "cv_folds": str(settings.model.cv_folds),
        "test_size": str(settings.model.test_size),
        "extra_rows": str(data.extra_rows),
    }
    tags = (
        {
            "git_commit": git_commit(),
            "dataset_sha256": data.corpus.sha256,
            "dataset_rows": str(data.corpus.rows),
            "dataset_spam": str(data.corpus.spam),
            "dataset_ham": str(data.corpus.ham),
            "training_sha256": data.sha256,
            "sklearn_version": sklearn.__version__,
            "serialization": "model/model.pkl (pickle, MLflow tools) + serving/scorer.json (API)",
        }
        | {k: str(v) for k, v in data.split.summary().items()}
        | dict(extra_tags or {})
    )
    _log_batch(client, run_id, metrics, params, tags)
    with tempfile.TemporaryDirectory(prefix="spamops-run-") as tmp:
        scorer_json = _write_artifacts(Path(tmp), fitted, data, settings.model.plots)
        client.log_artifacts(run_id, tmp)
    example = pd.DataFrame({"text": data.test_texts[:2]})
    drop = _DropPickleWarning()
    logging.getLogger("mlflow.sklearn").addFilter(drop)
    try:
        info = mlflow.sklearn.log_model(
            fitted.pipeline,
            name="model",
            serialization_format="pickle",
            pip_requirements=_requirements(),
            signature=_signature(),
            input_example=example,
            pyfunc_predict_fn="predict_proba",
        )
    finally:
        logging.getLogger("mlflow.sklearn").removeFilter(drop)
    return LoggedRun(run_id, str(info.model_uri), hashlib.sha256(scorer_json).hexdigest())
