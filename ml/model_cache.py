"""The local, per-version copy of served models: what keeps the API up when MLflow is down.

Layout: `<cache_dir>/<registered name>/v<version>/{scorer.json,profile.json,meta.json}` and
`aliases.json` (the last alias -> version mapping seen in the registry). A version's files
never change once registered, so a cached copy is valid forever; its sha256 is checked
against the one recorded at registration on every load. Writes go to a temporary directory
that is renamed into place, so a crash never leaves a half-written version behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ml.errors import RegistryError
from ml.profile import ReferenceProfile
from ml.scorer_spec import ScorerSpec
from schemas.common import ClassificationMetrics
from schemas.envelope import utcnow

__all__ = ["CachedVersion", "ModelCache", "VersionMeta"]


class VersionMeta(BaseModel):
    """What the registry knows about a version, kept beside its files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(ge=1)
    run_id: str
    threshold: float = Field(gt=0, lt=1)
    scorer_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    metrics: ClassificationMetrics | None = None
    created_at: AwareDatetime | None = None
    cached_at: AwareDatetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class CachedVersion:
    meta: VersionMeta
    scorer: ScorerSpec
    profile: ReferenceProfile


class ModelCache:
    def __init__(self, root: Path, name: str) -> None:
        self.root = root / name
        self.name = name

    def path(self, version: int) -> Path:
        return self.root / f"v{version}"

    def has(self, version: int) -> bool:
        return (self.path(version) / "meta.json").is_file()

    def store(self, meta: VersionMeta, scorer_json: bytes, profile_json: bytes) -> None:
        """Write a version atomically; the scorer must match `meta.scorer_sha256`."""
        actual = hashlib.sha256(scorer_json).hexdigest()
        if actual != meta.scorer_sha256:
            raise RegistryError(
                f"{self.name} v{meta.version}: downloaded scorer.json has sha256 {actual}, the "
                f"registry recorded {meta.scorer_sha256}; the artifact store was modified or "
                "the download is corrupt. Re-register the model from its run."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".v{meta.version}-", dir=self.root))
        try:
            (tmp / "scorer.json").write_bytes(scorer_json)
            (tmp / "profile.json").write_bytes(profile_json)
            (tmp / "meta.json").write_bytes(orjson.dumps(meta.model_dump(mode="json")))
            with contextlib.suppress(FileExistsError, OSError):
                tmp.rename(self.path(meta.version))  # another process may have won the race
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def load(self, version: int) -> CachedVersion:
        directory = self.path(version)
        try:
            meta = VersionMeta.model_validate_json((directory / "meta.json").read_bytes())
            scorer_json = (directory / "scorer.json").read_bytes()
            profile_json = (directory / "profile.json").read_bytes()
        except (OSError, ValueError) as exc:
            raise RegistryError(
                f"cached {self.name} v{version} at {directory} is unreadable ({exc}); "
                "delete that directory and load again while MLflow is reachable"
            ) from None
        if hashlib.sha256(scorer_json).hexdigest() != meta.scorer_sha256:
            raise RegistryError(
                f"cached {self.name} v{version} at {directory} does not match its checksum; "
                "delete that directory and load again while MLflow is reachable"
            )
        return CachedVersion(
            meta=meta,
            scorer=ScorerSpec.from_json(scorer_json),
            profile=ReferenceProfile.from_json(profile_json),
        )

    def remember_alias(self, alias: str, version: int) -> None:
        aliases = self.aliases()
        if aliases.get(alias) == version:
            return
        aliases[alias] = version
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".aliases-{utcnow().timestamp()}.json"
        tmp.write_bytes(orjson.dumps(aliases))
        tmp.replace(self.root / "aliases.json")

    def aliases(self) -> dict[str, int]:
        try:
            raw = orjson.loads((self.root / "aliases.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def versions(self) -> list[int]:
        if not self.root.is_dir():
            return []
        out = []
        for child in self.root.iterdir():
            if (
                child.name.startswith("v")
                and child.name[1:].isdigit()
                and self.has(int(child.name[1:]))
            ):
                out.append(int(child.name[1:]))
        return sorted(out)

    @staticmethod
    def created(timestamp_ms: int | None) -> datetime | None:
        from datetime import UTC

        return datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms else None
