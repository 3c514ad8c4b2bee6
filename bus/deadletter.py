"""The dead-letter stream: entries no handler could take, kept verbatim with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from bus.codec import decode_fields, fields_as_text
from bus.errors import DeadLetterNotFoundError
from bus.keys import Keys
from bus.publisher import Publisher
from bus.replies import entries, text
from schemas.catalogue import StreamName
from schemas.errors import EventDecodeError
from schemas.events import EventDeadLettered
from schemas.operations import DeadLetter

__all__ = ["DeadLetters", "StoredDeadLetter"]


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    entry_id: str
    event: EventDeadLettered


class DeadLetters:
    def __init__(self, redis: Redis, keys: Keys, publisher: Publisher, source: str) -> None:
        self.redis = redis
        self.keys = keys
        self.publisher = publisher
        self.source = source
        self.stream = keys.stream(StreamName.DEADLETTER)

    async def send(
        self,
        *,
        stream: str,
        entry_id: str,
        fields: Mapping[bytes, bytes] | Mapping[str, str],
        group: str,
        consumer: str,
        deliveries: int,
        error: str,
    ) -> None:
        """Move an entry to `deadletter` and ack it, in one MULTI: never both or neither lost."""
        event = EventDeadLettered(
            source=self.source,
            payload=DeadLetter(
                stream=str(self.keys.stream_name(stream)),
                entry_id=entry_id,
                group=group,
                consumer=consumer,
                deliveries=deliveries,
                error=error[:4000],
                fields=fields_as_text(fields),
            ),
        )
        record = self.publisher.encode(event)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(record.stream, record.fields)  # type: ignore[arg-type]
            pipe.xack(stream, group, entry_id)
            pipe.hdel(self.keys.last_error(group), f"{stream}|{entry_id}")
            await pipe.execute()

    async def list(self, limit: int = 50) -> list[StoredDeadLetter]:
        """Newest first."""
        out: list[StoredDeadLetter] = []
        for entry_id, fields in entries(await self.redis.xrevrange(self.stream, count=limit)):
            try:
                event = decode_fields(fields)
            except EventDecodeError:
                continue
            if isinstance(event, EventDeadLettered):
                out.append(StoredDeadLetter(entry_id, event))
        return out

    async def requeue(self, entry_id: str) -> str:
        """Put the original entry back on its stream and remove the dead letter."""
        rows = entries(await self.redis.xrange(self.stream, min=entry_id, max=entry_id, count=1))
        if not rows:
            raise DeadLetterNotFoundError(f"no dead letter with id {entry_id} in {self.stream}")
        event = decode_fields(rows[0][1])
        if not isinstance(event, EventDeadLettered):
            raise DeadLetterNotFoundError(f"entry {entry_id} of {self.stream} is not a dead letter")
        target = self.keys.stream(event.payload.stream)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(target, dict(event.payload.fields))  # type: ignore[arg-type]
            pipe.xdel(self.stream, entry_id)
            new_id, _ = await pipe.execute()
        return text(new_id)
