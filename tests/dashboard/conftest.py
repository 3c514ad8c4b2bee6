"""Fixtures of the dashboard tests: a running, seeded system (shared by the session, read
only), an empty one, and Streamlit's `AppTest` pointed at either through the environment,
as `spamops dashboard` points the real app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.system import Seeded, System, running_system, seed_system

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
ENV = ("SPAMOPS_DASHBOARD__API_URL", "SPAMOPS_DASHBOARD__TOKEN", "SPAMOPS_DASHBOARD__API_KEY")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """40 predictions and a history of every other event type, projected into the store.
    Tests must not change it (those that add traffic use `fresh`)."""
    with running_system(tmp_path_factory.mktemp("seeded")) as system:
        yield seed_system(system)


@pytest.fixture(scope="session")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The system before any traffic: a model is registered, nothing has happened yet."""
    with running_system(tmp_path_factory.mktemp("empty")) as system:
        yield system


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[System]:
    """A system of this test's own, for tests that send traffic."""
    with running_system(tmp_path) as system:
        yield system


PageOpener = Callable[..., AppTest]


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> PageOpener:
    """`open_page(system, "drift", token=..., **query)`: the app on that page, run once.
    `token` True: an operator's token of that system; False: none; a string: that one."""

    def open_(
        system: System | str,
        page: str | None = None,
        *,
        token: str | bool = True,
        **query: str,
    ) -> AppTest:
        for name in ENV:
            monkeypatch.delenv(name, raising=False)
        url = system if isinstance(system, str) else system.url
        monkeypatch.setenv("SPAMOPS_DASHBOARD__API_URL", url)
        if token is True and isinstance(system, System):
            monkeypatch.setenv("SPAMOPS_DASHBOARD__TOKEN", system.bearer("operator"))
        elif isinstance(token, str):
            monkeypatch.setenv("SPAMOPS_DASHBOARD__TOKEN", token)
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.run()
        if page is not None:
            at.switch_page(f"views/{page}.py")
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_
