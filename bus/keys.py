"""Every Redis key name spamops uses, in one place (like arq's constants module)."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.catalogue import StreamName

__all__ = ["Keys"]


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix; tests use a unique prefix each, so they never collide."""

    prefix: str = "spamops:"

    def stream(self, name: StreamName | str) -> str:
        return f"{self.prefix}{name}"

    def stream_name(self, key: str | bytes) -> StreamName:
        """Inverse of `stream`: the catalogue name of a stream key."""
        text = key.decode() if isinstance(key, bytes) else key
        return StreamName(text.removeprefix(self.prefix))

    def all_streams(self) -> list[str]:
        return [self.stream(s) for s in StreamName]

    def dedupe(self, group: str, event_id: str) -> str:
        return f"{self.prefix}done:{group}:{event_id}"

    def last_error(self, group: str) -> str:
        """Hash entry id → last handler error, so a dead letter can say why."""
        return f"{self.prefix}errors:{group}"

    def heartbeat(self, group: str, consumer: str) -> str:
        return f"{self.prefix}heartbeat:{group}:{consumer}"

    def heartbeats(self) -> str:
        return f"{self.prefix}heartbeat:*"

    def lock(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"

    def ratelimit(self, principal: str) -> str:
        return f"{self.prefix}ratelimit:{principal}"

    def state(self, name: str) -> str:
        """Small pieces of consumer state (cooldowns, counters) kept in Redis."""
        return f"{self.prefix}state:{name}"
