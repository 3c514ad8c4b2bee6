"""The HTTP client's failure modes, the dashboard's settings, the pure helpers, and the
`spamops dashboard` command line (the browser tests run the command for real)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import httpx
import pytest
from typer.testing import CliRunner

from dashboard import frames
from dashboard.client import (
    ApiClient,
    ApiStatusError,
    ApiUnreachableError,
    Credentials,
    LoginUnavailableError,
    NotAuthorisedError,
)
from dashboard.settings import load_dashboard_settings
from dashboard.views.live import merge
from spamops.cli import app
from spamops.cli.dashboard_commands import streamlit_command

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, credentials: Credentials | None = None) -> ApiClient:
    http = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(handler))
    return ApiClient(http, credentials)


def test_credentials_are_sent_and_never_printed() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json=[])

    _client(handler, Credentials(token="t0k3n", api_key="k3y")).decisions()
    _client(handler, Credentials(api_key="k3y")).alerts()
    _client(handler).drift()
    assert seen[0]["authorization"] == "Bearer t0k3n" and "x-api-key" not in seen[0]
    assert seen[1]["x-api-key"] == "k3y" and "authorization" not in seen[1]
    assert "authorization" not in seen[2] and "x-api-key" not in seen[2]
    shown = repr(Credentials(token="t0k3n", api_key="k3y"))
    assert "t0k3n" not in shown and "k3y" not in shown


def test_statuses_become_errors_that_carry_the_apis_explanation() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        status = int(request.url.params["status"])
        return httpx.Response(status, json={"error": f"because {status}"})

    api = _client(handler)
    with pytest.raises(NotAuthorisedError, match="because 401") as refused:
        api.get("/x", status=401)
    assert refused.value.status == 401
    with pytest.raises(NotAuthorisedError, match="because 403"):
        api.get("/x", status=403)
    with pytest.raises(ApiStatusError, match="answered 503 on /x: because 503"):
        api.get("/x", status=503)
    assert api.get_or_none("/x", status=404) is None
    with pytest.raises(ApiStatusError):
        api.get_or_none("/x", status=500)


def test_ready_503_is_an_answer_and_a_non_json_error_still_reads() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ready":
            return httpx.Response(503, json={"status": "unavailable", "model": None})
        return httpx.Response(502, text="<html>bad gateway</html>")

    api = _client(handler)
    assert api.ready()["status"] == "unavailable"
    with pytest.raises(ApiStatusError, match="answered 502 on /models: Bad Gateway"):
        api.models()


def test_login_outcomes() -> None:
    answers = {
        "ok": httpx.Response(200, json={"access_token": "jwt", "token_type": "bearer"}),
        "missing": httpx.Response(404, json={"error": "no route"}),
        "wrong": httpx.Response(401, json={"error": "wrong username or password"}),
        "empty": httpx.Response(200, json={}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/auth/token" and request.method == "POST"
        return answers[json.loads(request.content)["username"]]

    def login(username: str) -> str:
        return _client(handler).login(username, "pw")

    assert login("ok") == "jwt"
    with pytest.raises(LoginUnavailableError, match="SPAMOPS_DASHBOARD__TOKEN"):
        login("missing")
    with pytest.raises(NotAuthorisedError, match="wrong username or password"):
        login("wrong")
    with pytest.raises(ApiStatusError, match="no access_token"):
        login("empty")


def test_an_unreachable_api_names_the_url_and_the_fix() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ApiUnreachableError, match=r"cannot reach the API at http://api\.test"):
        _client(handler).bus()


def test_settings_come_from_the_dashboard_group_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMOPS_DASHBOARD__API_URL", "http://api:9000")
    monkeypatch.setenv("SPAMOPS_DASHBOARD__TOKEN", "s3cret")
    monkeypatch.setenv("SPAMOPS_DASHBOARD__REFRESH_S", "5")
    monkeypatch.setenv("SPAMOPS_ENV", "production")  # the API's secrets are not its concern
    monkeypatch.delenv("SPAMOPS_AUTH__JWT_SECRET", raising=False)
    config = load_dashboard_settings()
    assert config.api_url == "http://api:9000" and config.refresh_s == 5
    assert config.token is not None and config.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(config)


def test_live_merge_puts_new_rows_on_top_once() -> None:
    def rows(*ids: str) -> list[dict[str, str]]:
        return [{"entry_id": i} for i in ids]

    assert merge(rows("2", "1"), rows("4", "3", "2"), keep=3) == rows("4", "3", "2")
    assert merge([], [], keep=5) == []


def test_frames_of_empty_answers_have_their_columns() -> None:
    assert list(frames.decisions_frame([]).columns)[:2] == ["time", "action"]
    assert frames.alerts_frame([]).empty and "severity" in frames.alerts_frame([]).columns
    assert frames.drift_statistics_frame([]).empty
    assert list(frames.tokens_frame({}).columns) == [
        "token",
        "reference_share",
        "window_share",
        "weight",
    ]


def test_the_command_serves_headless_without_telemetry_on_the_configured_port() -> None:
    command = streamlit_command("10.0.0.7", 8600)
    assert command[:3] == [sys.executable, "-m", "dashboard.server"]
    for flag in (
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.port=8600",
        "--server.address=10.0.0.7",
        "--runner.magicEnabled=false",
    ):
        assert flag in command


def test_the_command_hands_over_to_streamlit_with_the_api_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(
        "spamops.cli.dashboard_commands.os.execve",
        lambda path, argv, env: calls.append((path, argv, env)),
    )
    env = {"SPAMOPS_ENV": "development", "SPAMOPS_DASHBOARD__PORT": "8700"}
    result = CliRunner().invoke(app, ["dashboard", "--api-url", "http://api:1"], env=env)
    assert result.exit_code == 0, result.output
    ((path, argv, child_env),) = calls
    assert path == sys.executable and "--server.port=8700" in argv
    assert child_env["SPAMOPS_DASHBOARD__API_URL"] == "http://api:1"
