"""Traffic with known drift: the scenarios the simulator, the tests and the drift
evaluation share.

Clean traffic is drawn from a labelled base pool (the held-out split of the corpus, which
no model was trained on). A scenario mixes in a drifted distribution with a share that
jumps to its full value at onset (`sudden`) or ramps up over `ramp_windows` (`gradual`):

| scenario | what changes |
|---|---|
| new_campaign | half the traffic becomes a new spam campaign with unseen vocabulary |
| format_shift | most messages gain URLs and numbers |
| length_shift | most messages become two or three messages long |
| spam_rate_shift | spam rises from the corpus's ~13% to 40% |
| subtle_campaign | the spam is replaced by a new campaign at the corpus's own spam rate |
| partial_onset | 20% of the traffic is a new campaign |

The campaign is synthetic (templates with seeded fillers) in the style of post-2020 SMS
scams ("hi mum", parcel customs fees, crypto signals, remote jobs): vocabulary the 2011
corpus does not contain, some of it ham-like, so a model trained on the corpus misses a
good share of it until it is retrained on labelled examples.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from schemas.common import Label

__all__ = [
    "SCENARIOS",
    "LabelledMessage",
    "Scenario",
    "campaign_messages",
    "scenario_windows",
]


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    text: str
    label: Label
    drifted: bool = False
    """Drawn from the scenario's drifted distribution (for evaluation, never sent)."""


_FILL: dict[str, tuple[str, ...]] = {
    "parent": ("mum", "mom", "dad", "mummy", "mama"),
    "place": ("toilet", "sink", "bath", "river", "taxi"),
    "bill": ("rent invoice", "phone bill", "deposit", "vet bill", "council tax"),
    "carrier": ("ParcelForce", "Evri", "DPD", "RoyalMail", "InPost", "DHL"),
    "coin": ("bitcoin", "ethereum", "solana", "dogecoin", "XRP"),
    "club": ("Apex", "Whale", "Moonshot", "Satoshi", "Quantum"),
    "site": ("LinkedIn", "Indeed", "Reed", "Glassdoor", "Monster"),
    "day": ("Friday", "midnight", "the weekend", "Monday", "tonight"),
    "name": ("Sophie", "Liam", "Ava", "Noah", "Mia", "Oscar", "Isla"),
    "tld": ("info", "top", "xyz", "live", "online"),
}

_TEMPLATES: tuple[str, ...] = (
    "Hi {parent} its me, I dropped my phone in the {place} so this is my new number. "
    "Can you help me pay a {bill} today? I will explain later x",
    "Hello {parent}, new number! Phone broke. I need to pay my {bill} before {day}, "
    "can you transfer it and I pay you back tomorrow? love you",
    "{carrier}: your parcel {code} is held due to unpaid customs of {amount}. "
    "Reschedule delivery at {carrier_l}-customs.{tld}/{code}",
    "{carrier} notice: we tried to deliver {code}. Confirm your address and settle the "
    "{amount} fee at track-{carrier_l}.{tld} within 24h",
    "{name} from the {club} crypto signals group here. Our {coin} signals made members "
    "{pct}% this week. Join the members app before {day}, places limited",
    "Your {coin} wallet has a pending withdrawal of {amount}. If this was not you, "
    "verify your seed phrase at {club_l}-wallet.{tld} now",
    "Hello, we saw your CV on {site}. Remote part-time role, {amount} per day, only 30 "
    "minutes needed. Reply YES and {name} from HR will message you on WhatsApp",
    "Hi this is {name}, recruiter at {site}. Flexible remote tasks paying {amount} daily, "
    "no experience needed. Add me on WhatsApp to start {day}",
)


def _campaign_message(rng: random.Random) -> str:
    fill = {k: rng.choice(v) for k, v in _FILL.items()}
    fill["carrier_l"] = fill["carrier"].lower()
    fill["club_l"] = fill["club"].lower()
    fill["code"] = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10**7, 10**8)}"
    fill["amount"] = (
        rng.choice(("£", "$", "€")) + f"{rng.randrange(1, 400)}.{rng.randrange(100):02d}"
    )
    fill["pct"] = str(rng.randrange(30, 400))
    return rng.choice(_TEMPLATES).format(**fill)


def campaign_messages(n: int, seed: int) -> list[LabelledMessage]:
    """`n` messages of the new campaign (all spam). Different seeds give unseen variants."""
    rng = random.Random(seed)
    return [LabelledMessage(_campaign_message(rng), "spam", drifted=True) for _ in range(n)]


def _with_format(msg: LabelledMessage, rng: random.Random) -> LabelledMessage:
    extra = (
        f" www.{rng.choice(('info', 'deal', 'go', 'my'))}{rng.randrange(1000)}."
        f"{rng.choice(_FILL['tld'])}/{rng.randrange(10**5)} ref {rng.randrange(10**9)}"
    )
    return LabelledMessage(msg.text + extra, msg.label, drifted=True)


Mixer = Callable[[random.Random, "Pools"], LabelledMessage]


@dataclass(frozen=True)
class Pools:
    ham: Sequence[LabelledMessage]
    spam: Sequence[LabelledMessage]
    spam_rate: float

    def clean(self, rng: random.Random) -> LabelledMessage:
        return rng.choice(self.spam if rng.random() < self.spam_rate else self.ham)


@dataclass(frozen=True)
class Scenario:
    name: str
    share: float
    """Share of traffic drawn from `drifted` once the onset is complete."""
    drifted: Mixer
    kind: Literal["sudden", "gradual"] = "sudden"
    ramp_windows: int = 5

    def gradual(self) -> Scenario:
        return Scenario(
            f"{self.name}_gradual", self.share, self.drifted, "gradual", self.ramp_windows
        )


def _campaign(rng: random.Random, pools: Pools) -> LabelledMessage:
    return LabelledMessage(_campaign_message(rng), "spam", drifted=True)


def _subtle(rng: random.Random, pools: Pools) -> LabelledMessage:
    if rng.random() < pools.spam_rate:
        return _campaign(rng, pools)
    return rng.choice(pools.ham)


def _long(rng: random.Random, pools: Pools) -> LabelledMessage:
    parts = [pools.clean(rng) for _ in range(rng.choice((2, 3)))]
    label: Label = "spam" if any(p.label == "spam" for p in parts) else "ham"
    return LabelledMessage(" ".join(p.text for p in parts), label, drifted=True)


def _spammy(rng: random.Random, pools: Pools) -> LabelledMessage:
    if rng.random() < 0.40:
        return LabelledMessage(rng.choice(pools.spam).text, "spam", drifted=True)
    return LabelledMessage(rng.choice(pools.ham).text, "ham", drifted=True)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("new_campaign", 0.5, _campaign),
        Scenario("format_shift", 0.7, lambda rng, pools: _with_format(pools.clean(rng), rng)),
        Scenario("length_shift", 0.7, _long),
        Scenario("spam_rate_shift", 1.0, _spammy),
        Scenario("subtle_campaign", 1.0, _subtle),
        Scenario("partial_onset", 0.2, _campaign),
    )
}


def scenario_windows(
    base: Sequence[LabelledMessage],
    scenario: Scenario | None,
    *,
    windows: int,
    window_size: int,
    onset: int,
    seed: int,
) -> Iterator[list[LabelledMessage]]:
    """`windows` windows of traffic; drift (if any) starts at window index `onset`."""
    rng = random.Random(seed)
    ham = [m for m in base if m.label == "ham"]
    spam = [m for m in base if m.label == "spam"]
    pools = Pools(ham, spam, len(spam) / max(len(base), 1))
    for w in range(windows):
        progress = 0.0
        if scenario is not None and w >= onset:
            ramp = scenario.ramp_windows if scenario.kind == "gradual" else 1
            progress = min(1.0, (w - onset + 1) / ramp)
        share = scenario.share * progress if scenario is not None else 0.0
        window = []
        for _ in range(window_size):
            if scenario is not None and rng.random() < share:
                window.append(scenario.drifted(rng, pools))
            else:
                window.append(pools.clean(rng))
        yield window
