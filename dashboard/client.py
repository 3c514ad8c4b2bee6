"""The dashboard's only way into the system: the HTTP API, with the dashboard's credentials.

Plain `httpx`, no Streamlit, so it can be tested and reused on its own. Every failure is one
of a few `DashboardError`s whose message says what happened and what to do; a page shows
that message instead of a traceback. Nothing here logs a credential or a response body
(bodies may carry message texts).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "ApiClient",
    "ApiStatusError",
    "ApiUnreachableError",
    "Credentials",
    "DashboardError",
    "LoginUnavailableError",
    "NotAuthorisedError",
]

log = logging.getLogger(__name__)

JSON = Any


class DashboardError(Exception):
    """Root of the dashboard's errors; the message is shown to the operator as is."""


class ApiUnreachableError(DashboardError):
    """No answer from the API: it is down, or `SPAMOPS_DASHBOARD__API_URL` is wrong."""


class NotAuthorisedError(DashboardError):
    """The API refused the credentials (401) or their role (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LoginUnavailableError(DashboardError):
    """The API has no `POST /auth/token`: sign in with a configured token instead."""


class ApiStatusError(DashboardError):
    """Any other error status; carries the API's own explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Credentials:
    """A bearer token (JWT) or an API key; the token wins when both are given."""

    token: str | None = None
    api_key: str | None = None

    @property
    def present(self) -> bool:
        return bool(self.token or self.api_key)

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.api_key:
            return {"X-API-Key": self.api_key}
        return {}

    def __repr__(self) -> str:  # never print a secret, even in a debugger or a traceback
        hidden = ("***" if self.token else None, "***" if self.api_key else None)
        return f"Credentials(token={hidden[0]}, api_key={hidden[1]})"


def _explanation(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.reason_phrase or f"HTTP {response.status_code}"


class ApiClient:
    """Typed reads of the API routes the dashboard shows, on a shared connection pool."""

    def __init__(self, http: httpx.Client, credentials: Credentials | None = None) -> None:
        self.http = http
        self.credentials = credentials or Credentials()

    @property
    def base_url(self) -> str:
        return str(self.http.base_url).rstrip("/")

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, headers=self.credentials.headers(), **kwargs)
        except httpx.HTTPError as exc:
            log.warning("API %s %s failed: %s", method, path, type(exc).__name__)
            raise ApiUnreachableError(
                f"cannot reach the API at {self.base_url} ({type(exc).__name__}): start it "
                "with `spamops serve`, or point SPAMOPS_DASHBOARD__API_URL at it"
            ) from None

    def _check(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        message = _explanation(response)
        log.warning("API %s %s answered %d", response.request.method, path, status)
        if status in (401, 403):
            raise NotAuthorisedError(status, message)
        raise ApiStatusError(status, f"the API answered {status} on {path}: {message}")

    def get(self, path: str, **params: Any) -> JSON:
        """GET `path`; parameters whose value is None are left out."""
        query = {k: v for k, v in params.items() if v is not None}
        response = self._send("GET", path, params=query)
        self._check(response, path)
        return response.json()

    def get_or_none(self, path: str, **params: Any) -> JSON | None:
        """GET `path`, or None when the API says there is nothing there yet (404)."""
        try:
            return self.get(path, **params)
        except ApiStatusError as exc:
            if exc.status == 404:
                return None
            raise

    def login(self, username: str, password: str) -> str:
        """Exchange a username and password for a bearer token at `POST /auth/token`."""
        response = self._send(
            "POST", "/auth/token", json={"username": username, "password": password}
        )
        if response.status_code in (404, 405):
            raise LoginUnavailableError(
                "this API offers no sign-in (POST /auth/token answered "
                f"{response.status_code}): set SPAMOPS_DASHBOARD__TOKEN instead"
            )
        if response.status_code in (401, 403):
            raise NotAuthorisedError(response.status_code, "wrong username or password")
        self._check(response, "/auth/token")
        token = response.json().get("access_token")
        if not isinstance(token, str) or not token:
            raise ApiStatusError(response.status_code, "POST /auth/token returned no access_token")
        return token

    # The routes, one method each -------------------------------------------------------

    def ready(self) -> JSON:
        """`/ready`; a 503 is an answer here (no model loaded), not an error."""
        response = self._send("GET", "/ready")
        if response.status_code == 503:
            return response.json()
        self._check(response, "/ready")
        return response.json()

    def traffic(self, minutes: int = 60) -> JSON:
        return self.get("/dashboard/traffic", minutes=minutes)

    def bus(self) -> JSON:
        return self.get("/dashboard/bus")

    def latest_predictions(self, limit: int, after: str | None = None) -> JSON:
        return self.get("/dashboard/predictions/latest", limit=limit, after=after)

    def abtests(self) -> JSON:
        return self.get("/abtests")

    def audit(self, prediction_id: uuid.UUID) -> JSON | None:
        return self.get_or_none(f"/dashboard/audit/predictions/{prediction_id}")

    def models(self) -> JSON:
        return self.get("/models")

    def comparison(self) -> JSON | None:
        return self.get_or_none("/models/comparison")

    def alias_history(self) -> JSON:
        return self.get("/models/history")

    def retraining_history(self) -> JSON:
        return self.get("/retraining/history")

    def performance(self) -> JSON:
        return self.get("/performance")

    def drift(self, limit: int = 500) -> JSON:
        return self.get("/drift", limit=limit)

    def latest_drift(self) -> JSON | None:
        return self.get_or_none("/drift/latest")

    def decisions(self, action: str | None = None, limit: int = 200) -> JSON:
        return self.get("/decisions", action=action, limit=limit)

    def alerts(self, severity: str | None = None, limit: int = 200) -> JSON:
        return self.get("/alerts", severity=severity, limit=limit)
