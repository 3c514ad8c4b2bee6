"""Redis Streams bus: buffered publishing, consumer groups with reclaim and dead letters,
replay and tail."""

from bus.buffered import BufferedPublisher, PublisherStats
from bus.bus import Bus, RedisBus
from bus.consumer import Consumer, ConsumerCounters, Handler
from bus.deadletter import DeadLetters, StoredDeadLetter
from bus.embedded import EmbeddedRedis
from bus.errors import BusError, DeadLetterNotFoundError, EmbeddedRedisError, SpoolError
from bus.idempotency import DoneMarks
from bus.keys import Keys
from bus.publisher import Publisher, Record
from bus.replay import Page, StoredEvent
from bus.spool import Spool
from bus.stats import GroupStats, StreamStats

__all__ = [
    "BufferedPublisher",
    "Bus",
    "BusError",
    "Consumer",
    "ConsumerCounters",
    "DeadLetterNotFoundError",
    "DeadLetters",
    "DoneMarks",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "GroupStats",
    "Handler",
    "Keys",
    "Page",
    "Publisher",
    "PublisherStats",
    "Record",
    "RedisBus",
    "Spool",
    "SpoolError",
    "StoredDeadLetter",
    "StoredEvent",
    "StreamStats",
]
