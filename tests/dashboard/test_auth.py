"""Credentials: a configured token, the sign-in form, and what the pages say on 401 and 403
(or when there is no API at all): always the cause and the fix, never a traceback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from bus.embedded import free_port
from tests.dashboard.conftest import PageOpener
from tests.dashboard.reading import metrics, text
from tests.dashboard.system import PASSWORD, USER, Seeded


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    username_field, password_field = at.sidebar.text_input
    username_field.input(username)
    password_field.input(password)
    at.sidebar.form_submit_button[0].click()
    return at.run()


def test_without_credentials_the_page_says_how_to_sign_in_and_the_form_works(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "drift", token=False)
    assert "The API needs credentials (401)" in at.error[0].value
    assert "SPAMOPS_DASHBOARD__TOKEN" in at.error[0].value
    assert "refused the credentials (401)" in text(at, sidebar=True)
    assert [f.label for f in at.sidebar.text_input] == ["Username", "Password"]

    _sign_in(at, USER, "not the password")
    assert [e.value for e in at.sidebar.error] == ["wrong username or password"]

    _sign_in(at, USER, PASSWORD)
    assert "score 0.41" in at.error[0].value and "(401)" not in text(at)
    assert f"Signed in as **{USER}**" in text(at, sidebar=True)
    assert not at.sidebar.text_input  # the password field is gone with the form

    at.switch_page("views/overview.py").run()
    assert metrics(at)["Spam rate"] == "30.0 %"  # the sign-in holds across pages

    at.sidebar.button[0].click().run()  # sign out
    assert "The API needs credentials (401)" in at.error[0].value


def test_a_refused_configured_token_is_explained(seeded: Seeded, open_page: PageOpener) -> None:
    at = open_page(seeded.system, "drift", token="not-a-jwt")
    message = at.error[0].value
    assert "refused the configured credentials (401" in message
    assert "set a fresh SPAMOPS_DASHBOARD__TOKEN, or sign in" in message
    assert "not-a-jwt" not in text(at) + text(at, sidebar=True)  # never echo a credential
    assert at.sidebar.text_input  # the sign-in form is offered as the alternative


def test_a_role_without_access_is_a_403_message(seeded: Seeded, open_page: PageOpener) -> None:
    at = open_page(seeded.system, "models", token=seeded.system.bearer("predict"))
    message = at.error[0].value
    assert message.startswith("Signed in, but not allowed (403)")
    assert "operator" in message


def test_an_api_that_is_down_is_named_with_the_fix(open_page: PageOpener) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for page in ("overview", "live", "models", "audit"):
        at = open_page(url, page, prediction_id="0190a000-0000-7000-8000-0000000000ab")
        assert f"cannot reach the API at {url}" in at.error[0].value
        assert "spamops serve" in at.error[0].value
        assert "API unreachable" in text(at, sidebar=True)
