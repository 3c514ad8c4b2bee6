"""Before anything happened every page says what to do; without a model or a registry the
pages say so and show the rest; once traffic flows, the Live page picks up only what is
new, and the Audit page finds a prediction the moment it is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.errors import RegistryError
from tests.api.doubles import VersionInfo
from tests.dashboard.conftest import PageOpener
from tests.dashboard.reading import grids, metrics, text
from tests.dashboard.system import HAM, SPAM, DashboardRegistry, System, running_system

EMPTY_STATES = {
    "overview": "No predictions in the last hour — send traffic to POST /predict",
    "live": "No predictions on the bus yet — send traffic to POST /predict",
    "drift": "No drift windows yet — send traffic",
    "abtests": "No A/B tests yet",
    "decisions": "No decisions yet",
    "alerts": "No alerts raised",
    "audit": "Enter a prediction id",
}


@pytest.mark.parametrize("page", sorted(EMPTY_STATES))
def test_an_empty_page_says_what_to_do(page: str, empty: System, open_page: PageOpener) -> None:
    at = open_page(empty, page)
    assert not at.error
    assert EMPTY_STATES[page] in "\n".join(i.value for i in at.info)


def test_models_before_any_retraining(empty: System, open_page: PageOpener) -> None:
    at = open_page(empty, "models")
    assert metrics(at)["Champion"] == "v2"  # the registry has versions from the start
    assert "No comparison yet — one follows every retraining" in text(at)


def test_an_api_without_a_model_says_how_to_get_one(tmp_path: Path, open_page: PageOpener) -> None:
    with running_system(tmp_path, lambda: DashboardRegistry(champion=None)) as system:
        at = open_page(system)
    assert "No model is loaded: /predict answers 503" in at.error[0].value
    assert "spamops train" in at.error[0].value
    assert metrics(at)["Champion"] == "none"
    assert "API unavailable" in text(at, sidebar=True)


class _RegistryDown(DashboardRegistry):
    def versions(self) -> list[VersionInfo]:
        raise RegistryError("MLflow at http://mlflow:5000 is unreachable")


def test_a_registry_that_is_down_leaves_the_rest_of_the_page(
    tmp_path: Path, open_page: PageOpener
) -> None:
    with running_system(tmp_path, lambda: _RegistryDown(champion=2)) as system:
        overview, models = open_page(system), open_page(system, "models")
    for at in (overview, models):
        assert "Model versions unavailable" in at.warning[0].value
        assert "MLflow at http://mlflow:5000 is unreachable" in at.warning[0].value
    assert metrics(overview)["Predictions"] == "0" and metrics(overview)["Bus"] == "ok"
    assert "No comparison yet" in text(models)


def _predict(system: System, messages: tuple[str, ...]) -> list[str]:
    return [p["prediction_id"] for p in system.predict(list(messages))]


def test_live_adds_new_predictions_on_top_without_repeating_any(
    fresh: System, open_page: PageOpener
) -> None:
    _predict(fresh, HAM[:3])
    at = open_page(fresh, "live")
    (first,) = grids(at)
    assert list(first["message"]) == list(reversed(HAM[:3]))

    _predict(fresh, SPAM)
    at.run()
    (second,) = grids(at)
    assert list(second["message"]) == [*reversed(SPAM), *reversed(HAM[:3])]
    assert metrics(at)["Spam among them"] == "3 (50.0 %)"
    cursor = at.session_state["live_cursor"]

    at.run()  # nothing new: the same rows, the same cursor
    assert list(grids(at)[0]["message"]) == list(second["message"])
    assert at.session_state["live_cursor"] == cursor

    at.toggle[0].set_value(False).run()  # paused: says so, still shows the rows
    assert "paused" in text(at) and len(grids(at)[0]) == 6


def test_live_keeps_only_the_configured_number_of_rows(
    fresh: System, open_page: PageOpener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMOPS_DASHBOARD__LIVE_ROWS", "4")
    _predict(fresh, HAM)
    at = open_page(fresh, "live")
    (frame,) = grids(at)
    assert list(frame["message"]) == list(reversed(HAM))[:4]
    assert "The newest 4 predictions" in text(at)


def test_audit_finds_a_prediction_once_projected(fresh: System, open_page: PageOpener) -> None:
    (prediction_id,) = _predict(fresh, (SPAM[1],))
    path = f"/dashboard/audit/predictions/{prediction_id}"
    fresh.wait_until("projected", lambda c: c.get(path).status_code == 200)
    at = open_page(fresh, "audit", prediction_id=prediction_id)
    assert metrics(at)["Label"] == "spam" and metrics(at)["Feedback"] == "none"
    assert [t.value for t in at.text] == [SPAM[1]]
