"""The dashboard's entry point: `streamlit run dashboard/app.py` (`spamops dashboard` does it).

Streamlit runs this script on every interaction: it declares the pages, runs the chosen
one, then draws the sidebar (the API, its health and the sign-in), after the page so that
a 401 the page just met opens the sign-in form in the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import streamlit as st

from dashboard import session

__all__ = ["PAGES", "PageSpec", "main"]


class PageSpec(NamedTuple):
    script: str
    title: str
    icon: str
    url_path: str


# Every page, in menu order; the first is the default (`/`). (Comments, not docstrings:
# Streamlit would print a bare string in a script.)
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", "overview"),
    PageSpec("live.py", "Live", ":material/stream:", "live"),
    PageSpec("drift.py", "Drift", ":material/trending_up:", "drift"),
    PageSpec("models.py", "Models", ":material/model_training:", "models"),
    PageSpec("abtests.py", "A/B tests", ":material/science:", "abtests"),
    PageSpec("decisions.py", "Decisions", ":material/gavel:", "decisions"),
    PageSpec("alerts.py", "Alerts", ":material/notifications:", "alerts"),
    PageSpec("audit.py", "Audit", ":material/manage_search:", "audit"),
)


def main() -> None:
    st.set_page_config(page_title="spamops", page_icon=":material/sms:", layout="wide")
    folder = Path(__file__).resolve().parent / "views"
    page = st.navigation(
        [
            st.Page(
                folder / p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=i == 0
            )
            for i, p in enumerate(PAGES)
        ]
    )
    page.run()
    session.sidebar()


if __name__ == "__main__":
    main()
