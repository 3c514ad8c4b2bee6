"""Every page, run by Streamlit's AppTest against the running API with the seeded history:
each shows the figures, versions, tokens and texts that history holds."""

from __future__ import annotations

import pytest

from tests.dashboard import seed
from tests.dashboard.conftest import PageOpener
from tests.dashboard.reading import chart, charts, deltas, grids, metrics, tables, text
from tests.dashboard.system import HAM, SPAM, Seeded


def test_overview_shows_traffic_models_drift_and_the_bus(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system)
    shown = metrics(at)
    assert shown["Predictions"] == "340" and shown["Spam rate"] == "30.0 %"  # 102 spam
    assert shown["Champion"] == "v2" and shown["Challenger"] == "v3"
    assert shown["Latest drift"] == "drifted" and deltas(at)["Latest drift"] == "score 0.41"
    assert shown["Bus"] == "ok"
    traffic = chart(at, "Predictions per minute").data
    assert traffic.loc[traffic["arm"] == "champion", "n"].sum() == 310
    assert traffic.loc[traffic["arm"] == "challenger", "n"].sum() == seed.BACKGROUND_CHALLENGER
    rates = chart(at, "Spam rate per minute").data["spam_rate"].dropna()
    assert (rates.min(), rates.max()) == (0.1, 0.5)  # the campaign grew from 1 to 5 in 10
    assert "102 of 340 predictions labelled spam; 30 answered by a challenger" in text(at)
    (bus,) = tables(at)
    predictions = bus[bus["stream"] == "predictions"].iloc[0]
    assert predictions["entries"] == "340" and predictions["group"] == "projector"
    assert predictions["lag"] == "0" and predictions["pending"] == "0"
    assert bus[bus["stream"] == "access"].iloc[0]["lag"] == "—"  # no group reads it
    assert "API ok" in text(at, sidebar=True) and "model v2" in text(at, sidebar=True)


def test_live_lists_the_newest_predictions_with_audit_links(
    seeded: Seeded, open_page: PageOpener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMOPS_DASHBOARD__LIVE_ROWS", "40")  # the API's 40, not the backlog
    at = open_page(seeded.system, "live")
    shown = metrics(at)
    assert shown["On screen"] == "40" and shown["Spam among them"] == "12 (30.0 %)"
    (frame,) = grids(at)
    assert set(frame["message"]) == {*SPAM, *HAM}
    assert frame["time"].is_monotonic_decreasing  # newest first
    assert set(frame["model"]) == {"v2"} and set(frame["variant"]) == {"champion"}
    spam = frame[frame["label"] == "spam"]
    assert len(spam) == 12 and (spam["spam_probability"] >= 0.5).all()
    target = seeded.misclassified["prediction_id"]
    assert f"audit?prediction_id={target}" in set(frame["audit"])


def test_drift_shows_each_statistic_with_its_threshold_and_the_drifting_tokens(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "drift")
    assert "score 0.41" in at.error[0].value and "vocabulary_js" in at.error[0].value
    assert "4 windows, 1 drifted" in text(at)
    for name in seed.STATISTICS:
        series = chart(at, name).data.drop_duplicates("window_id")
        assert len(series) == len(seed.DRIFT_SCORES)
    js = chart(at, "vocabulary_js").data.drop_duplicates("window_id").sort_values("ended_at")
    assert list(js["value"]) == list(seed.DRIFT_SCORES)
    assert set(js["threshold"]) == {0.12} and list(js["drifted"]) == [False] * 3 + [True]
    tokens = chart(at, "Top drifting tokens").data
    assert set(tokens["token"]) == set(seed.DRIFT_TOKENS)
    (statistics,) = tables(at)
    js_row = statistics.set_index("statistic").loc["vocabulary_js"]
    assert (js_row["value"], js_row["threshold"], js_row["drifted"]) == ("0.4100", "0.1200", "yes")
    assert [t.value for t in at.text] == [seed.DRIFT_EXAMPLE]

    at.selectbox[0].select_index(3).run()  # the oldest window: clean
    assert "no drifting tokens" in text(at) and not at.text
    assert tables(at)[0].set_index("statistic").loc["vocabulary_js", "value"] == "0.0400"


def test_models_shows_versions_comparison_aliases_retraining_and_quality(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "models")
    shown = metrics(at)
    assert (shown["Champion"], shown["Challenger"], shown["Versions"]) == ("v2", "v3", "3")
    versions, comparison = tables(at)
    assert list(versions["version"]) == ["v3", "v2", "v1"]
    assert list(versions["aliases"]) == ["challenger", "champion", "—"]
    assert list(versions["mcc"]) == ["0.9100", "0.8900", "0.8700"]
    assert shown["Decision"] == "keep" and shown["McNemar p"] == "0.2100"
    assert (shown["Only champion right"], shown["Only challenger right"]) == ("4", "9")
    mcc = comparison.set_index("metric").loc["mcc"]
    assert (mcc["champion v2"], mcc["challenger v3"], mcc["Δ"]) == ("0.9000", "0.9100", "+0.0100")
    assert seed.COMPARISON_REASON in text(at)
    assert len(chart(at, "Champion vs challenger").data) == 2 * len(comparison)

    at.session_state["section"] = "Alias history"
    at.run()
    (_, aliases) = tables(at)
    assert list(aliases["to"]) == ["v3", "v2"] and list(aliases["alias"]) == [
        "challenger",
        "champion",
    ]
    assert seed.PROMOTION_REASON in set(aliases["reason"])

    at.session_state["section"] = "Retraining"
    at.run()
    (_, runs) = tables(at)
    run = runs.iloc[0]
    assert (run["reason"], run["status"], run["challenger"], run["decision"]) == (
        "drift",
        "kept",
        "v3",
        "keep",
    )
    assert run["McNemar p"] == "0.2100"

    at.session_state["section"] = "Live quality"
    at.run()
    quality = chart(at, "Quality on labelled live traffic").data
    accuracy = quality[quality["metric"] == "accuracy"].sort_values("ended_at")
    assert list(accuracy["value"]) == [0.97, 0.95] and set(accuracy["model"]) == {"v2"}


def test_abtests_show_arms_p_values_and_the_winner(seeded: Seeded, open_page: PageOpener) -> None:
    at = open_page(seeded.system, "abtests")
    assert "2 tests, 1 running" in text(at)
    assert str(seed.ABTEST_ID) in text(at) and str(seed.CONCLUDED_ABTEST_ID) in text(at)
    shown = metrics(at)
    assert shown["p-value (always valid)"] == "0.3100" and shown["Planned samples"] == "4,000"
    assert shown["Winner"] == "challenger" and shown["Effect (challenger − champion)"] == "-1.50 %"
    running, concluded = tables(at)
    assert list(running["n"]) == ["1,200", "300"] and list(running["errors"]) == ["48", "7"]
    assert list(running["error_rate"]) == ["4.00%", "2.50%"]
    assert list(concluded["arm"]) == ["champion v2", "challenger v3"]
    assert list(concluded["n"]) == ["8,000", "2,000"]
    assert [list(c.data["error_rate"]) for c in charts(at)] == [[0.04, 0.025]] * 2


def test_decisions_show_the_rationale_and_filter_by_action(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "decisions")
    latest = at.info[0].value
    assert "Latest: wait" in latest and "blocked by cooldown" in latest
    assert seed.BLOCKED_RATIONALE in latest
    (frame,) = grids(at)
    assert list(frame["action"]) == ["wait", "retrain"]
    assert list(frame["confidence"]) == [0.6, 0.92]
    assert seed.RATIONALE in text(at) and "ollama:llama3.1" in text(at)
    assert "Blocked by the guard: cooldown" in text(at)
    counts = chart(at, "Decisions per action").data
    assert dict(zip(counts["action"], counts["count"], strict=True)) == {"wait": 1, "retrain": 1}

    at.selectbox[0].select("retrain").run()
    (frame,) = grids(at)
    assert list(frame["action"]) == ["retrain"]
    at.selectbox[0].select("promote").run()
    assert "No 'promote' decisions." in text(at) and not grids(at)


def test_alerts_show_severity_and_delivery_per_channel(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "alerts")
    assert seed.FAILED_ALERT_TITLE in at.warning[0].value
    shown = metrics(at)
    assert (shown["Critical"], shown["Warning"], shown["Info"]) == ("1", "1", "0")
    assert shown["Delivery failed"] == "1"
    (frame,) = grids(at)
    assert list(frame["title"]) == [seed.FAILED_ALERT_TITLE, seed.ALERT_TITLE]
    assert list(frame["delivery"]) == ["failed", "delivered"]
    assert list(frame["channels"]) == ["email failed", "slack ok"]
    assert "email: failed: SMTP timeout after 3 attempt(s)" in text(at)

    at.segmented_control[0].set_value("critical").run()
    (frame,) = grids(at)
    assert list(frame["title"]) == [seed.ALERT_TITLE]


def test_audit_explains_a_prediction(seeded: Seeded, open_page: PageOpener) -> None:
    target = seeded.misclassified
    at = open_page(seeded.system, "audit", prediction_id=target["prediction_id"])
    shown = metrics(at)
    assert (shown["Label"], shown["Model (champion)"], shown["Feedback"]) == ("spam", "v2", "ham")
    assert shown["P(spam)"] == f"{target['spam_probability']:.3f}"
    assert "Misclassified: labelled ham" in at.warning[0].value
    assert [t.value for t in at.text] == [SPAM[0]]
    (table,) = at.table
    fields = dict(zip(table.value["field"], table.value["value"], strict=True))
    assert fields["prediction event"] == target["prediction_id"]
    assert fields["client id"] == "gw-0"
    provenance = text(at)
    assert "run `run-v2`" in provenance and "4,557 messages" in provenance
    assert "promoted to champion by **retrainer**" in provenance
    assert seed.PROMOTION_REASON in provenance


def test_audit_asks_for_an_id_and_says_when_it_is_wrong_or_unknown(
    seeded: Seeded, open_page: PageOpener
) -> None:
    at = open_page(seeded.system, "audit")
    assert "Enter a prediction id" in text(at) and not at.metric
    at.text_input[0].set_value("not-an-id").run()
    assert "'not-an-id' is not a prediction id" in at.error[0].value
    at.text_input[0].set_value(str(seed.ABTEST_ID)).run()
    assert f"No prediction {seed.ABTEST_ID} in the store" in at.warning[0].value
