"""The classifier and its lifecycle: data, preprocessing, training, registry, fast scoring."""

from ml.candidates import CandidateSpec, get_candidate, presets, search_grid
from ml.data import Corpus, DatasetFingerprint, load_corpus
from ml.errors import (
    CompileError,
    DatasetError,
    DatasetFetchError,
    MLError,
    ModelNotFoundError,
    NoPreviousChampionError,
    RegistryError,
    RegistryUnavailableError,
    TrainingError,
)
from ml.evaluation import Evaluation, MessagePrediction, evaluate
from ml.features import HASH_BUCKETS, message_shape, token_hashes
from ml.fetch import FetchResult, fetch_dataset
from ml.preprocessing import TextNormalizer
from ml.profile import ReferenceProfile, build_profile
from ml.protocols import ModelSource, ServingModel
from ml.registry import ModelRegistry, VersionInfo
from ml.scorer import FastScorer
from ml.scorer_spec import ScorerSpec
from ml.search import SearchResult, run_search
from ml.serving import LoadedModel
from ml.split import split_groups, text_key
from ml.training import TrainingResult, train_and_register

__all__ = [
    "HASH_BUCKETS",
    "CandidateSpec",
    "CompileError",
    "Corpus",
    "DatasetError",
    "DatasetFetchError",
    "DatasetFingerprint",
    "Evaluation",
    "FastScorer",
    "FetchResult",
    "LoadedModel",
    "MLError",
    "MessagePrediction",
    "ModelNotFoundError",
    "ModelRegistry",
    "ModelSource",
    "NoPreviousChampionError",
    "ReferenceProfile",
    "RegistryError",
    "RegistryUnavailableError",
    "ScorerSpec",
    "SearchResult",
    "ServingModel",
    "TextNormalizer",
    "TrainingError",
    "TrainingResult",
    "VersionInfo",
    "build_profile",
    "evaluate",
    "fetch_dataset",
    "get_candidate",
    "load_corpus",
    "message_shape",
    "presets",
    "run_search",
    "search_grid",
    "split_groups",
    "text_key",
    "token_hashes",
    "train_and_register",
]
