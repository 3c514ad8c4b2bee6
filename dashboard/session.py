"""One browser session's view of the API: its settings, credentials, client and sign-in.

Settings are read once per session; the HTTP connection pool is shared by every session of
the process (one per API URL). Credentials are per session: the token a user signs in with
lives in that session's state only, and wins over the configured one. A 401 or 403 is
remembered so that the sidebar offers its sign-in form, open, to sign in as someone else.
"""

from __future__ import annotations

import httpx
import streamlit as st

from dashboard.client import ApiClient, Credentials, DashboardError, NotAuthorisedError
from dashboard.settings import DashboardSettings, load_dashboard_settings

__all__ = [
    "auth_message",
    "client",
    "note_auth_problem",
    "settings",
    "sidebar",
]

_SETTINGS = "spamops_settings"
_BEARER = "spamops_bearer"
_USER = "spamops_user"
_AUTH_PROBLEM = "spamops_auth_problem"


def settings() -> DashboardSettings:
    state = st.session_state
    if _SETTINGS not in state:
        state[_SETTINGS] = load_dashboard_settings()
    found: DashboardSettings = state[_SETTINGS]
    return found


@st.cache_resource(show_spinner=False, on_release=lambda pool: pool.close())
def _pool(api_url: str, timeout_s: float) -> httpx.Client:
    """Keep-alive connections to the API, shared by every session of this process."""
    return httpx.Client(base_url=api_url, timeout=timeout_s, headers={"Accept": "application/json"})


def _credentials(config: DashboardSettings) -> Credentials:
    signed_in = st.session_state.get(_BEARER)
    if isinstance(signed_in, str) and signed_in:
        return Credentials(token=signed_in)
    return Credentials(
        token=config.token.get_secret_value() if config.token else None,
        api_key=config.api_key.get_secret_value() if config.api_key else None,
    )


def client() -> ApiClient:
    config = settings()
    return ApiClient(_pool(config.api_url, config.timeout_s), _credentials(config))


def auth_message(exc: NotAuthorisedError) -> str:
    """What a 401/403 means for this session, and what to do about it."""
    config = settings()
    if exc.status == 403:
        return (
            f"Signed in, but not allowed (403): {exc}. The dashboard needs a principal with "
            "the operator (or auditor) role."
        )
    if st.session_state.get(_BEARER):
        return f"Your sign-in is no longer accepted (401: {exc}): sign in again in the sidebar."
    if config.token or config.api_key:
        return (
            f"The API refused the configured credentials (401: {exc}). The token may have "
            "expired: set a fresh SPAMOPS_DASHBOARD__TOKEN, or sign in in the sidebar."
        )
    return (
        "The API needs credentials (401). Sign in in the sidebar, or start the dashboard "
        "with SPAMOPS_DASHBOARD__TOKEN set to a token with the operator role."
    )


def note_auth_problem(exc: NotAuthorisedError) -> None:
    st.session_state[_AUTH_PROBLEM] = exc.status
    if exc.status == 401:
        st.session_state.pop(_BEARER, None)  # an expired sign-in is of no further use
        st.session_state.pop(_USER, None)


def _sign_out() -> None:
    st.session_state.pop(_BEARER, None)
    st.session_state.pop(_USER, None)


def _sign_in_form(api: ApiClient, expanded: bool) -> None:
    with (
        st.expander("Sign in", expanded=expanded, icon=":material/login:"),
        st.form("sign-in", clear_on_submit=True, border=False),
    ):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        if not st.form_submit_button("Sign in"):
            return
        if not username or not password:
            st.error("Enter a username and a password.")
            return
        try:
            token = api.login(username, password)
        except DashboardError as exc:
            st.error(str(exc))
            return
        st.session_state[_BEARER] = token
        st.session_state[_USER] = username
        st.session_state.pop(_AUTH_PROBLEM, None)
        st.rerun()


def _status(api: ApiClient) -> None:
    try:
        ready = api.ready()
    except NotAuthorisedError as exc:
        note_auth_problem(exc)
        st.caption(f":red[API refused the credentials ({exc.status})]")
        return
    except DashboardError:
        st.caption(":red[API unreachable]")
        return
    if st.session_state.get(_AUTH_PROBLEM) == 401:  # accepted now (a 403 may still stand)
        st.session_state.pop(_AUTH_PROBLEM)
    model = ready.get("model") or {}
    serving = f"model v{model['version']}" if model.get("version") else "no model"
    colour = {"ok": "green", "degraded": "orange"}.get(ready.get("status", ""), "red")
    st.caption(f":{colour}[API {ready.get('status', '?')}] · {serving} · bus {ready.get('bus')}")


def sidebar() -> None:
    """The API the dashboard reads, its health, and who is signed in (or a sign-in form)."""
    api = client()
    with st.sidebar:
        st.divider()
        st.caption(f"API `{api.base_url}`")
        _status(api)
        user = st.session_state.get(_USER)
        if user:
            st.caption(f"Signed in as **{user}**")
            st.button("Sign out", on_click=_sign_out, icon=":material/logout:")
            return
        config = settings()
        refused = _AUTH_PROBLEM in st.session_state
        if (config.token or config.api_key) and not refused:
            st.caption("Using the configured credentials")
            return
        _sign_in_form(api, expanded=refused)
