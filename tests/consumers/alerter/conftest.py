"""Receivers for alerter tests: HTTP (Slack, webhook) and SMTP servers on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.consumers.alerter.receivers import HttpReceiver, SmtpReceiver, self_signed


@pytest.fixture
def receivers() -> Iterator[Callable[..., HttpReceiver]]:
    """Start as many HTTP receivers as a test needs; all stop afterwards."""
    with ExitStack() as stack:

        def make(**kw: Any) -> HttpReceiver:
            return stack.enter_context(HttpReceiver(**kw))

        yield make


@pytest.fixture
def http_receiver(receivers: Callable[..., HttpReceiver]) -> HttpReceiver:
    return receivers()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as server:
        yield server


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)
