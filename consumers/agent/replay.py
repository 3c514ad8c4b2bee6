"""Re-deciding recorded decisions: would today's rule policy decide them the same way?

For every `decision.made` in a range, the situation is rebuilt by folding, in arrival order,
every event the agent learns from up to the decision's trigger (the decision's correlation
id), then the rule policy and the hard guards decide again at the decision's time. A
decision whose inputs are no longer in the streams (trimmed, or older than the history read)
is reported as incomplete rather than guessed at.

`history` is also how the agent rebuilds what it knows at start: one time-ordered merge of
its streams in arrival order, so the situation does not depend on which stream is read first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from bus.bus import RedisBus
from bus.replay import StoredEvent
from consumers.agent.deliberation import deliberate
from consumers.agent.guards import Guards
from consumers.agent.rules import RulePolicy
from consumers.agent.situation import FOLDED_TYPES, TRIGGER_TYPES, Situation, fold
from schemas.catalogue import stream_for
from schemas.decisions import Decision
from schemas.events import DecisionMade, Event
from spamops.settings import Settings

__all__ = ["Replayed", "history", "replay_decisions"]

Status = Literal["same", "differs", "incomplete"]


def _arrival(item: StoredEvent) -> tuple[int, UUID]:
    """Redis' millisecond of arrival; within one, creation order (ids are UUIDv7)."""
    return int(item.entry_id.partition("-")[0]), item.event.id


async def history(bus: RedisBus, since: datetime, until: datetime | None = None) -> list[Event]:
    """Every event the agent folds, from all its streams, in the order they reached Redis.

    Stream entry ids carry the Redis server's clock, one clock for every stream, so they
    order events as the agent received them, even when producers' clocks disagree or a
    spool re-published old events late.
    """
    items: list[StoredEvent] = []
    for stream in sorted({stream_for(t) for t in FOLDED_TYPES}):
        async for item in bus.replay(stream, since=since, until=until, types=FOLDED_TYPES):
            items.append(item)
    return [item.event for item in sorted(items, key=_arrival)]


@dataclass(frozen=True)
class Replayed:
    decision: DecisionMade
    trigger_type: str | None
    again: Decision | None
    """What the rule policy decides now; None when the inputs are missing."""
    missing: tuple[UUID, ...] = ()

    @property
    def recorded(self) -> Decision:
        return self.decision.payload

    @property
    def status(self) -> Status:
        if self.again is None:
            return "incomplete"
        same = (self.again.action, self.again.target_version) == (
            self.recorded.action,
            self.recorded.target_version,
        )
        return "same" if same else "differs"


async def replay_decisions(
    events: Iterable[Event],
    settings: Settings,
    *,
    since: datetime,
    until: datetime | None = None,
) -> list[Replayed]:
    """Re-decide every decision in [since, until] of `events` (as `history` orders them)."""
    policy, guards = RulePolicy(settings), Guards(settings)
    state: Situation | None = None
    at_trigger: dict[UUID, Situation] = {}
    seen: set[UUID] = set()
    results: list[Replayed] = []
    for event in events:
        if event.id in seen:
            continue
        if (
            isinstance(event, DecisionMade)
            and event.occurred_at >= since
            and (until is None or event.occurred_at <= until)
        ):
            before = at_trigger.get(event.correlation)
            missing = tuple(i for i in event.payload.input_event_ids if i not in seen)
            if before is None or missing:
                results.append(Replayed(event, None, None, missing or (event.correlation,)))
            else:
                s = before.model_copy(update={"now": event.occurred_at})
                again = await deliberate(policy, guards, s)
                results.append(Replayed(event, s.trigger_type, again))
        seen.add(event.id)
        state = fold(state or Situation(now=event.occurred_at), event)
        if event.type in TRIGGER_TYPES:
            at_trigger[event.id] = state
    return results
