"""The Streamlit dashboard: eight pages over the HTTP API (never Redis, SQL or MLflow).

Run it with `spamops dashboard`; see docs/dashboard.md.
"""

from dashboard.client import (
    ApiClient,
    ApiStatusError,
    ApiUnreachableError,
    Credentials,
    DashboardError,
    LoginUnavailableError,
    NotAuthorisedError,
)

__all__ = [
    "ApiClient",
    "ApiStatusError",
    "ApiUnreachableError",
    "Credentials",
    "DashboardError",
    "LoginUnavailableError",
    "NotAuthorisedError",
]
