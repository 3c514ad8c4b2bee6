"""docs/deployment.md and docs/runbooks.md against the code: the runbook anchors that alerts
link to exist, every `spamops` command they cite exists with the options they give it, and
their links to other documents land on real headings."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from typer.main import get_command

from consumers.alerter.rules import runbook
from spamops.cli import app
from spamops.settings import AlertSettings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
CHECKED = [DOCS / "deployment.md", DOCS / "runbooks.md"]
RUNBOOKS = DOCS / "runbooks.md"


def anchors(path: Path) -> set[str]:
    """Heading anchors as GitHub renders them, plus explicit `<a id="...">`."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        found |= set(re.findall(r'<a id="([^"]+)"', line))
        heading = re.match(r"^#{1,6} (.+)$", line)
        if heading:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).lower()
            slug = "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_anchor_rules() -> None:
    sample = DOCS / "security.md"
    assert "anchoring-what-the-chain-cannot-prove-on-its-own" in anchors(sample)
    assert "no-such-heading" not in anchors(sample)


def test_every_alert_rule_links_to_a_runbook_section() -> None:
    rules = yaml.safe_load((REPO / "deploy" / "alerts.yml").read_text(encoding="utf-8"))
    have = anchors(RUNBOOKS)
    links = [
        rule["annotations"]["runbook"]
        for group in rules["groups"]
        for rule in group["rules"]
        if "runbook" in rule.get("annotations", {})
    ]
    assert links
    for link in links:
        path, _, anchor = link.partition("#")
        assert (REPO / path).resolve() == RUNBOOKS
        assert anchor in have, f"deploy/alerts.yml links to missing #{anchor}"


def test_the_alerts_spamops_sends_link_to_runbook_sections() -> None:
    """Sections named by the alert raiser and the retrainer, as their bodies render them."""
    have = anchors(RUNBOOKS)
    named = set()
    for source in (REPO / "consumers").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        named |= set(re.findall(r'runbook\(settings, "([^"]+)"\)', text))
        named |= set(re.findall(r"runbooks\.md, '([^']+)'", text))
    assert {"Drift alert", "A bad model promoted", "Dead-letter growth", "Retraining fails"} <= (
        named
    )
    for section in named:
        anchor = runbook(AlertSettings(), section).split("#", 1)[1].split(" ", 1)[0]
        assert anchor in have, f"an alert links to missing #{anchor} ({section!r})"


def test_the_runbook_sections_the_operators_expect() -> None:
    have = anchors(RUNBOOKS)
    for anchor in (
        "consumer-lag",
        "dead-letter-growth",
        "drift-alert",
        "bad-model-promoted",
        "redis-outage",
        "mlflow-outage",
        "no-predictions",
        "retraining-fails",
    ):
        assert anchor in have, anchor


def _cited_commands(path: Path) -> list[list[str]]:
    """`spamops ...` command lines in code blocks and inline code, as words."""
    text = path.read_text(encoding="utf-8")
    pieces: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            pieces.append(line.split("  #", 1)[0].split(";", 1)[0].split("|", 1)[0])
        else:
            pieces += re.findall(r"`([^`]+)`", line)
    # inline code broken over two lines
    pieces += [m.replace("\n", " ") for m in re.findall(r"`(spamops [^`]+)`", text)]
    commands = []
    for piece in pieces:
        for match in re.finditer(r"(?:^|[\s(=])spamops (?=[a-z][a-z-]*(?:\s|$))([^)]*)", piece):
            try:
                words = shlex.split(match.group(1).rstrip("\\ "))
            except ValueError:
                words = match.group(1).split()
            commands.append(words)
    return commands


def _check(words: list[str], root: Any) -> None:
    command, path = root, ["spamops"]
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        name = words.pop(0)
        assert name in command.commands, f"`{' '.join(path)} {name}` does not exist"
        command, path = command.commands[name], [*path, name]
    assert not hasattr(command, "commands"), f"`{' '.join(path)}` needs a subcommand"
    options = {opt for param in command.params for opt in param.opts}
    for word in words:
        if word.startswith("--"):
            option = word.split("=", 1)[0]
            assert option in options, f"`{' '.join(path)}` has no option {option}"


@pytest.mark.parametrize("doc", CHECKED, ids=lambda p: p.name)
def test_every_cited_spamops_command_exists(doc: Path) -> None:
    root = get_command(app)
    commands = _cited_commands(doc)
    assert len(commands) >= 10, "no commands found: the extraction broke"
    for words in commands:
        _check(list(words), root)


def test_command_check_can_fail() -> None:
    root = get_command(app)
    _check(["models", "rollback", "--reason", "x"], root)
    with pytest.raises(AssertionError, match="does not exist"):
        _check(["models", "undo"], root)
    with pytest.raises(AssertionError, match="no option --force"):
        _check(["models", "rollback", "--force"], root)
    with pytest.raises(AssertionError, match="needs a subcommand"):
        _check(["events"], root)


@pytest.mark.parametrize("doc", CHECKED, ids=lambda p: p.name)
def test_links_land_on_real_files_and_headings(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.name} links to missing {target}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{doc.name} links to missing {link}"
