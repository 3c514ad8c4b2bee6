"""`python -m dashboard.server [streamlit flags]`: `streamlit run dashboard/app.py`, warmed up.

Streamlit imports a page's modules when the first browser session runs it, so after a
restart the first visitor would wait for pandas, pyarrow, Altair and the Vega-Lite schema
to load (about 1.5 s here), on top of the page itself. This entry point imports them and
builds one chart before it starts the server, in the same process that will run the pages;
the health check answers only once that is done, so a ready dashboard is a fast one.
`spamops dashboard` runs it; `streamlit run dashboard/app.py` still works, just colder.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["APP", "main", "warm_up"]

APP = Path(__file__).resolve().parent / "app.py"


def warm_up() -> None:
    """Import what every page imports, and serialise one chart (loads Altair's schema)."""
    import pandas as pd

    from dashboard import charts, frames, session, ui  # noqa: F401 - imported for their cost
    from dashboard.views import (  # noqa: F401
        abtests,
        alerts,
        audit,
        decisions,
        drift,
        live,
        models,
        overview,
    )

    sample = pd.DataFrame({"kind": ["a"], "count": [1]})
    charts.counts_chart(sample, category="kind", title="warm-up").to_dict()


def main(flags: list[str]) -> None:
    warm_up()
    from streamlit.web import cli

    cli.main(args=["run", str(APP), *flags], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
