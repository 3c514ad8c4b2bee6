"""The dashboard's settings: only the `SPAMOPS_DASHBOARD__*` group, read from the environment.

The Streamlit process is a composition root of its own (`spamops dashboard` starts it as a
separate process), so it builds its settings itself, once per browser session. It reads
the dashboard group alone, not the whole `Settings`: a dashboard host needs the API's URL
and a token, not the JWT signing secret, the database or Redis, and it must not refuse to
start because those are unset.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from spamops.settings import ENVIRONMENT_CONFIG, DashboardSettings

__all__ = ["DashboardSettings", "load_dashboard_settings"]


class _DashboardEnvironment(BaseSettings):
    """`Settings`' environment conventions, restricted to the dashboard group."""

    model_config = ENVIRONMENT_CONFIG

    dashboard: DashboardSettings = DashboardSettings()


def load_dashboard_settings() -> DashboardSettings:
    """`SPAMOPS_DASHBOARD__API_URL`, `__TOKEN`, `__REFRESH_S`, ... (and `.env`)."""
    return _DashboardEnvironment().dashboard
