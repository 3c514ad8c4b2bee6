"""Duplicate-aware stratified splits: identical texts never sit on both sides.

The corpus holds ~400 repeated messages (mostly spam templates). A plain random split puts
copies of the same text in train and test, and the held-out score then partly measures
memorisation. Rows are grouped by a hash of the whitespace- and case-normalised text, and
whole groups go to one side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Split", "group_folds", "split_groups", "text_key"]

Indices = npt.NDArray[np.intp]


def text_key(text: str) -> str:
    """Group key of a message: equal for texts that differ only in case or spacing."""
    return hashlib.sha256(" ".join(text.casefold().split()).encode()).hexdigest()


@dataclass(frozen=True)
class Split:
    """Row indices of the training and held-out sides of one corpus."""

    train: Indices
    test: Indices
    keys: tuple[str, ...]
    """`text_key` of every row, in corpus order."""

    @property
    def duplicate_rows(self) -> int:
        """Rows whose text already appeared earlier in the corpus."""
        return len(self.keys) - len(set(self.keys))

    def summary(self) -> dict[str, int]:
        return {
            "split_train_rows": len(self.train),
            "split_test_rows": len(self.test),
            "split_groups": len(set(self.keys)),
            "split_duplicate_rows": self.duplicate_rows,
        }


def _group_labels(keys: Sequence[str], y: npt.NDArray[np.int64]) -> dict[str, int]:
    """One label per group; a group with any spam row counts as spam for stratification."""
    labels: dict[str, int] = {}
    for key, label in zip(keys, y.tolist(), strict=True):
        labels[key] = max(labels.get(key, 0), int(label))
    return labels


def split_groups(
    texts: Sequence[str], y: npt.NDArray[np.int64], *, test_size: float, seed: int
) -> Split:
    """Stratified split of the distinct texts; every copy of a text follows its group."""
    from sklearn.model_selection import train_test_split

    keys = tuple(text_key(t) for t in texts)
    labels = _group_labels(keys, y)
    unique = sorted(labels)
    _, test_keys = train_test_split(
        unique, test_size=test_size, stratify=[labels[k] for k in unique], random_state=seed
    )
    held_out = set(test_keys)
    is_test = np.fromiter((k in held_out for k in keys), dtype=bool, count=len(keys))
    return Split(train=np.flatnonzero(~is_test), test=np.flatnonzero(is_test), keys=keys)


def group_folds(
    keys: Sequence[str], y: npt.NDArray[np.int64], *, n_splits: int, seed: int
) -> list[tuple[Indices, Indices]]:
    """Stratified K-fold over groups, for cross-validation inside the training side.

    Groups of each class are shuffled (seeded) and dealt, largest first, to the fold that
    has the fewest rows of that class so far. Same guarantees as sklearn's
    `StratifiedGroupKFold` (no group in two folds, class balance per fold) in milliseconds
    instead of ~0.7 s.
    """
    labels = _group_labels(keys, y)
    members: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        members.setdefault(key, []).append(row)
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for cls in (0, 1):
        groups = sorted(k for k, lab in labels.items() if lab == cls)
        order = rng.permutation(len(groups))
        shuffled = sorted((groups[i] for i in order), key=lambda k: -len(members[k]))
        sizes = [0] * n_splits
        for key in shuffled:
            target = min(range(n_splits), key=sizes.__getitem__)
            fold_of[key] = target
            sizes[target] += len(members[key])
    fold = np.fromiter((fold_of[k] for k in keys), dtype=np.intp, count=len(keys))
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(n_splits)]
