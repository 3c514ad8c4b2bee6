"""Loading the labelled corpus (`label<TAB>text` lines) with errors that name file and line.

A malformed corpus must fail loudly and precisely: a pandas traceback from deep inside
`read_csv` tells an operator nothing about which of 5,574 lines is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from ml.errors import DatasetError
from schemas.common import Label

__all__ = [
    "LABELS",
    "Corpus",
    "DatasetFingerprint",
    "content_sha256",
    "load_corpus",
    "parse_corpus",
]

LABELS: tuple[Label, ...] = get_args(Label)


class DatasetFingerprint(BaseModel):
    """What exactly a model was trained on: logged with every run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rows: int = Field(ge=0)
    spam: int = Field(ge=0)
    ham: int = Field(ge=0)

    @property
    def spam_rate(self) -> float:
        return self.spam / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class Corpus:
    """Messages and their labels, in file order, plus the checksum of the file they came from."""

    texts: tuple[str, ...]
    labels: tuple[Label, ...]
    sha256: str
    source: str

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def y(self) -> npt.NDArray[np.int64]:
        """Labels as 1 (spam) / 0 (ham)."""
        return np.fromiter((lab == "spam" for lab in self.labels), dtype=np.int64, count=len(self))

    def fingerprint(self) -> DatasetFingerprint:
        spam = sum(1 for lab in self.labels if lab == "spam")
        return DatasetFingerprint(
            sha256=self.sha256, rows=len(self), spam=spam, ham=len(self) - spam
        )


def content_sha256(texts: Sequence[str], labels: Sequence[Label]) -> str:
    """sha256 of labelled messages in the corpus' own line format (order-sensitive)."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DatasetError(
            f"{source}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); "
            "re-download it with `spamops data fetch` or convert the file to UTF-8"
        ) from None


def parse_corpus(raw: bytes, source: str) -> Corpus:
    """Parse the bytes of a corpus file; `source` names it in error messages."""
    text = _decode(raw, source)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise DatasetError(
            f"{source}: the file is empty; expected `label<TAB>text` lines "
            "(run `spamops data fetch` to get the corpus)"
        )
    texts: list[str] = []
    labels: list[Label] = []
    for number, line in enumerate(lines, start=1):
        columns = line.removesuffix("\r").split("\t")
        if len(columns) != 2:
            raise DatasetError(
                f"{source}:{number}: expected 2 tab-separated columns (label, text), "
                f"found {len(columns)}: {line[:60]!r}"
            )
        label, message = columns
        if label not in LABELS:
            raise DatasetError(
                f"{source}:{number}: unknown label {label[:20]!r} (expected 'ham' or 'spam')"
            )
        if not message.strip():
            raise DatasetError(f"{source}:{number}: empty message text")
        texts.append(message)
        labels.append(label)  # checked against LABELS above
    return Corpus(
        texts=tuple(texts),
        labels=tuple(labels),
        sha256=hashlib.sha256(raw).hexdigest(),
        source=source,
    )


def load_corpus(path: Path) -> Corpus:
    """Read and validate the corpus at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(
            f"{path}: no such file; run `spamops data fetch`, or set "
            "SPAMOPS_MODEL__DATASET_PATH to a copy of SMSSpamCollection"
        ) from None
    except IsADirectoryError:
        raise DatasetError(
            f"{path}: is a directory; point SPAMOPS_MODEL__DATASET_PATH at the "
            "SMSSpamCollection file inside it"
        ) from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}); check permissions") from None
    return parse_corpus(raw, str(path))
