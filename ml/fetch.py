"""`spamops data fetch`: download the UCI archive, extract the corpus, verify its sha256.

The checksum is the contract: a corpus that does not verify is never written, so every
model's dataset fingerprint means the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from ml.errors import DatasetFetchError
from spamops.settings import Settings

__all__ = ["FetchResult", "fetch_dataset", "file_sha256"]

MEMBER = "SMSSpamCollection"


@dataclass(frozen=True)
class FetchResult:
    path: Path
    sha256: str
    downloaded: bool
    """False when a verified copy was already in place."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _by_hand(dest: Path, expected: str) -> str:
    return (
        f"put a copy of {MEMBER} (sha256 {expected}) at {dest} by hand: take it from the "
        "archive on another machine, or from ../shared/data/sms_spam_collection beside a "
        "checkout, or set SPAMOPS_MODEL__DATASET_PATH to where a copy is"
    )


def _download(url: str, timeout_s: float, dest: Path, expected: str) -> bytes:
    try:
        response = httpx.get(url, timeout=timeout_s, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise DatasetFetchError(
            f"downloading {url} failed with HTTP {exc.response.status_code}; "
            f"set SPAMOPS_MODEL__DATA_URL to a working mirror, or {_by_hand(dest, expected)}"
        ) from None
    except httpx.HTTPError as exc:
        raise DatasetFetchError(
            f"cannot reach {url} ({type(exc).__name__}: {exc}); this machine looks offline. "
            f"To continue without network, {_by_hand(dest, expected)}"
        ) from None
    return response.content


def _extract(archive: bytes, url: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = [n for n in zf.namelist() if n.rsplit("/", 1)[-1] == MEMBER]
            if not names:
                raise DatasetFetchError(
                    f"the archive from {url} has no {MEMBER} file (members: {zf.namelist()[:5]}); "
                    "check SPAMOPS_MODEL__DATA_URL"
                )
            return zf.read(names[0])
    except zipfile.BadZipFile:
        raise DatasetFetchError(
            f"{url} did not return a zip archive ({len(archive)} bytes); "
            "check SPAMOPS_MODEL__DATA_URL"
        ) from None


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(dest)


def fetch_dataset(settings: Settings, *, force: bool = False) -> FetchResult:
    """Make sure a verified corpus is at `settings.dataset_path`, downloading it if needed."""
    dest = settings.dataset_path
    expected = settings.model.dataset_sha256
    if dest.exists() and not force:
        actual = file_sha256(dest)
        if actual == expected:
            return FetchResult(dest, actual, downloaded=False)
    archive = _download(settings.model.data_url, settings.model.download_timeout_s, dest, expected)
    corpus = _extract(archive, settings.model.data_url)
    actual = hashlib.sha256(corpus).hexdigest()
    if actual != expected:
        raise DatasetFetchError(
            f"{MEMBER} from {settings.model.data_url} has sha256 {actual}, expected {expected}; "
            f"the file was not written. Check the URL, or {_by_hand(dest, expected)}"
        )
    _write_atomically(dest, corpus)
    return FetchResult(dest, actual, downloaded=True)
