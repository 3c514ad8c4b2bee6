from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from fakeredis import FakeAsyncRedis, FakeServer

from api.app import create_app
from api.security.tokens import issue_token
from producers.scenarios import campaign_messages
from producers.simulate import SimulationPlan, base_pool, catch_rate, simulate
from spamops.settings import Settings
from tests.api.doubles import MemoryRegistry
from tests.live_server import serve_in_thread


def test_base_pool_is_the_held_out_split(dataset_path: Path) -> None:
    pool = base_pool(dataset_path)
    assert 1000 < len(pool) < 1200
    spam = sum(m.label == "spam" for m in pool) / len(pool)
    assert 0.11 < spam < 0.16 and not any(m.drifted for m in pool)


def test_simulation_drives_predictions_and_feedback(settings: Settings) -> None:
    server = FakeServer()
    app = create_app(
        settings, redis=lambda: FakeAsyncRedis(server=server), registry=lambda: MemoryRegistry()
    )
    base = campaign_messages(5, seed=9)  # any labelled pool will do
    plan = SimulationPlan(
        url="",
        messages=60,
        rate_per_s=400,
        scenario="new_campaign",
        onset_window=1,
        window_size=20,
        feedback_share=0.5,
        feedback_delay_s=0.05,
    )
    token = issue_token(settings.auth, "simulator", "admin")
    with serve_in_thread(app) as url:
        report = asyncio.run(simulate(dataclasses.replace(plan, url=url, token=token), base))
        rate, version = asyncio.run(catch_rate(url, campaign_messages(30, seed=4), token))
    assert report.sent == 60 and report.errors == 0
    assert 10 < report.feedback_sent < 50 and report.feedback_errors == 0
    assert report.drifted_spam[1] > 0 and report.catch_rate(1) is not None
    assert 0 <= rate <= 1 and version == 1
