"""Reading what an `AppTest` run put on the page: metrics, text, tables and chart data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

_TEXT_KINDS = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")


def metrics(at: AppTest) -> dict[str, str]:
    """Metric label → shown value (the last one wins if a label repeats)."""
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.proto.delta for m in at.metric}


def text(at: AppTest, *, sidebar: bool = False) -> str:
    """Every piece of text of the main area (or the sidebar), one per line."""
    root = at.sidebar if sidebar else at.main
    parts: list[str] = []
    for kind in (*_TEXT_KINDS, "text"):
        parts += [str(getattr(e, "value", "")) for e in root.get(kind)]
    parts += [e.label for e in root.expander]
    return "\n".join(parts)


def grids(at: AppTest) -> list[pd.DataFrame]:
    """The interactive tables (`st.dataframe`), with their raw values."""
    return [df.value for df in at.main.dataframe]


def tables(at: AppTest) -> list[pd.DataFrame]:
    """The static tables (`st.table`), as shown: every cell is text."""
    return [t.value for t in at.main.table]


@dataclass(frozen=True)
class Chart:
    spec: dict[str, Any]
    data: pd.DataFrame
    """Every dataset of the chart, concatenated (Altair names them by content hash)."""

    @property
    def title(self) -> str:
        title = self.spec.get("title") or next(
            (layer["title"] for layer in self.spec.get("layer", []) if "title" in layer), ""
        )
        return title if isinstance(title, str) else str(title.get("text", ""))


def charts(at: AppTest) -> list[Chart]:
    out = []
    for element in at.main.get("vega_lite_chart"):
        proto = element.proto
        frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets]
        out.append(Chart(json.loads(proto.spec), pd.concat(frames) if frames else pd.DataFrame()))
    return out


def chart(at: AppTest, title: str) -> Chart:
    found = [c for c in charts(at) if c.title == title]
    assert found, f"no chart titled {title!r}; there are {[c.title for c in charts(at)]}"
    return found[0]
