"""The system the dashboard reads, running for real in this process: the API under uvicorn
(in-memory model registry, fakeredis) and the projector consumer writing the SQL store, each
in a thread with its own event loop, as `spamops serve` and `spamops consume projector` run.

Traffic goes through `POST /predict`; the other events are published on the bus, and the
projector takes everything into the store, so every page reads what a deployment would.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fakeredis import FakeAsyncRedis, FakeServer
from pydantic import SecretStr

from api.app import create_app
from api.security.passwords import hash_secret
from api.security.tokens import issue_token
from bus.bus import RedisBus
from consumers.projector import Projector
from consumers.runner import as_bus_consumer
from schemas.events import Event
from spamops.settings import AuthSettings, Settings, UserConfig
from tests.api.doubles import MemoryRegistry, VersionInfo
from tests.conftest import FAST_BUS
from tests.dashboard import seed
from tests.live_server import serve_in_thread

USER, PASSWORD = "ops", "correct horse battery staple"

SPAM = (
    "WIN a FREE prize now, claim it today",
    "Claim your free prize: you WIN a car",
    "You win! Claim the prize before midnight",
)
HAM = (
    "See you at 7 for dinner?",
    "Can you pick up milk on the way home",
    "The meeting moved to Thursday morning",
    "Happy birthday, have a great day",
    "Running late, start without me",
    "Did you get the tickets for Saturday",
    "Call me when you land",
)


def traffic(rounds: int = 4) -> list[str]:
    """`rounds` × 10 messages, 3 in 10 of them spam to the test model: a 30 % spam rate."""
    return [m for _ in range(rounds) for m in (*SPAM, *HAM)]


class DashboardRegistry(MemoryRegistry):
    """Versions 1-3: v2 is the champion, v3 the challenger, each with its own metrics."""

    def versions(self) -> list[VersionInfo]:
        created = datetime.now(UTC) - timedelta(days=3)
        out = []
        for v in sorted(self.versions_available, reverse=True):
            aliases = ["champion"] if v == self.champion else ["challenger"] if v == 3 else []
            out.append(
                VersionInfo(
                    "spam-classifier",
                    v,
                    aliases,
                    created + timedelta(days=v),
                    f"run-v{v}",
                    {"accuracy": 0.96 + v / 100, "mcc": 0.85 + v / 50, "ham_fpr": 0.003},
                )
            )
        return out


def registry() -> DashboardRegistry:
    return DashboardRegistry(versions_available=[1, 2, 3], champion=2)


@dataclass
class System:
    url: str
    settings: Settings
    server: FakeServer

    def bearer(self, role: str = "operator") -> str:
        return issue_token(self.settings.auth, f"dashboard-test-{role}", role)  # type: ignore[arg-type]

    def http(self, role: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.bearer(role)}"}, timeout=10
        )

    def predict(self, messages: list[str]) -> list[dict[str, Any]]:
        """One `POST /predict` per message, as an SMS gateway sends them."""
        with self.http("predict") as client:
            answers = []
            for i, message in enumerate(messages):
                response = client.post(
                    "/predict", json={"message": message, "client_id": f"gw-{i % 3}"}
                )
                response.raise_for_status()
                answers.append(response.json())
            return answers

    def publish(self, events: list[Event]) -> None:
        async def run() -> None:
            bus = RedisBus(FakeAsyncRedis(server=self.server), self.settings, component="seed")
            try:
                await bus.publish_many(events)
            finally:
                await bus.close()

        asyncio.run(run())

    def wait_until(
        self, what: str, check: Callable[[httpx.Client], bool], timeout: float = 15
    ) -> None:
        deadline = time.monotonic() + timeout
        with self.http() as client:
            while not check(client):
                if time.monotonic() > deadline:
                    raise AssertionError(f"the system did not reach: {what}")
                time.sleep(0.05)


@contextmanager
def _projector(settings: Settings, server: FakeServer) -> Iterator[None]:
    """`spamops consume projector` in a thread: the store follows the streams."""
    ready, errors = threading.Event(), []
    control: dict[str, Any] = {}

    async def main() -> None:
        bus = RedisBus(FakeAsyncRedis(server=server), settings, component="projector")
        projector = Projector(settings)
        await projector.start()
        consumer = as_bus_consumer(projector, bus, "dashboard-test")
        control["loop"], control["consumer"] = asyncio.get_running_loop(), consumer
        ready.set()
        try:
            await consumer.run()
        finally:
            await projector.close()
            await bus.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="projector", daemon=True)
    thread.start()
    assert ready.wait(20) and not errors, errors
    try:
        yield
    finally:
        control["loop"].call_soon_threadsafe(control["consumer"].stop)
        thread.join(10)
    assert not errors, errors


def settings_for(root: Path) -> Settings:
    return Settings(
        _env_file=None,
        env="test",
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'store.db'}",
        stream_prefix=f"dashboard-{uuid.uuid4().hex[:8]}:",
        instance="test",
        bus=FAST_BUS,
        auth=AuthSettings(
            jwt_secret=SecretStr(secrets.token_urlsafe(48)),
            users={USER: UserConfig(password_hash=hash_secret(PASSWORD), role="operator")},
        ),
    )


@contextmanager
def running_system(
    root: Path, models: Callable[[], DashboardRegistry] = registry
) -> Iterator[System]:
    settings = settings_for(root)
    server = FakeServer()
    app = create_app(settings, redis=lambda: FakeAsyncRedis(server=server), registry=models)
    with _projector(settings, server), serve_in_thread(app) as url:
        yield System(url=url, settings=settings, server=server)


def _count(path: str, n: int) -> Callable[[httpx.Client], bool]:
    def check(client: httpx.Client) -> bool:
        body = client.get(path).json()
        found = body["predictions"] if isinstance(body, dict) else len(body)
        return bool(found >= n)

    return check


@dataclass(frozen=True)
class Seeded:
    system: System
    predictions: list[dict[str, Any]]
    misclassified: dict[str, Any]


def seed_system(system: System) -> Seeded:
    """Half an hour of background traffic on the bus, 40 predictions through the API, then
    the rest of the history; returns once the projector has written all of it."""
    background = seed.background_traffic(datetime.now(UTC))
    system.publish(list(background))
    predictions = system.predict(traffic())
    misclassified = next(p for p in predictions if p["label"] == "spam")
    history = seed.history(uuid.UUID(misclassified["prediction_id"]))
    system.publish(history.events)
    total = len(background) + len(predictions)
    system.wait_until(f"{total} predictions projected", _count("/dashboard/traffic", total))
    system.wait_until("4 drift windows", _count("/drift", len(seed.DRIFT_SCORES)))
    system.wait_until("2 alerts", _count("/alerts", 2))
    system.wait_until("2 A/B tests", _count("/abtests", 2))
    system.wait_until("2 decisions", _count("/decisions", 2))
    audit = f"/dashboard/audit/predictions/{misclassified['prediction_id']}"
    system.wait_until(
        "the correction joined",
        lambda c: (
            c.get(audit).status_code == 200
            and c.get(audit).json()["prediction"]["feedback_label"] == "ham"
        ),
    )
    return Seeded(system=system, predictions=predictions, misclassified=misclassified)
