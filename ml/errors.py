"""Errors of the ml package. Every message says what went wrong and how to fix it."""

from __future__ import annotations

__all__ = [
    "CompileError",
    "DatasetError",
    "DatasetFetchError",
    "MLError",
    "ModelNotFoundError",
    "NoPreviousChampionError",
    "RegistryError",
    "RegistryUnavailableError",
    "TrainingError",
]


class MLError(Exception):
    """Root of every error raised by `ml`."""


class DatasetError(MLError):
    """The corpus file is missing or malformed.

    Cause: a wrong path, a truncated download, or a file that is not `label<TAB>text` lines in
    UTF-8. Fix: run `spamops data fetch`, or point `SPAMOPS_MODEL__DATASET_PATH` at a good copy.
    """


class DatasetFetchError(MLError):
    """The corpus could not be downloaded or did not verify.

    Cause: no network, a moved URL, or a checksum mismatch. Fix: the message says where to put
    a copy of `SMSSpamCollection` by hand.
    """


class TrainingError(MLError):
    """Training could not run (bad extra data, an unknown candidate, no classes)."""


class CompileError(MLError):
    """A fitted pipeline cannot be compiled into the fast JSON scorer.

    Cause: a step the scorer does not implement (e.g. isotonic calibration, stop words).
    Fix: use one of the candidates in `ml.candidates`, which all compile.
    """


class RegistryError(MLError):
    """An MLflow registry operation failed (unknown version, bad alias move)."""


class ModelNotFoundError(RegistryError):
    """No registered model version matches the alias or version asked for.

    Fix: train one with `spamops train`, or list versions with `spamops models list`.
    """


class NoPreviousChampionError(RegistryError):
    """Rollback asked for, but `champion` has no earlier version to go back to.

    Fix: promote a specific version with `spamops models promote VERSION` instead.
    """


class RegistryUnavailableError(RegistryError):
    """MLflow is unreachable and the local model cache has no copy to fall back to.

    Fix: start or reach the MLflow server (`SPAMOPS_MLFLOW_TRACKING_URI`), or load once while
    it is reachable so that the model is cached under `SPAMOPS_MODEL__CACHE_DIR`.
    """
