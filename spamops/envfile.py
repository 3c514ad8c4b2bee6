"""`.env.example`, generated from the `Settings` model, so it lists every setting and
cannot go stale.

Each variable is written commented out, with its default and the documentation of its
field (the attribute docstring, and comments beside or above it in `spamops/settings.py`),
group by group. Copying the file to `.env` therefore changes nothing; uncomment what you
change. Secrets never show a default. A second part lists the variables the compose file
reads for itself (`STACK_*`, `POSTGRES_*`), which are not settings.

    python -m spamops.envfile              # print it
    spamops config env-example -o .env.example
    python -m spamops.envfile --check .env.example   # exit 1 if the file differs

`tests/deploy/test_envfile.py` checks that the committed `.env.example` is exactly this
text, and that every value in it, set in the environment, builds the default settings.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import json
import sys
import textwrap
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_settings import NoDecode

from spamops.settings import Settings

__all__ = [
    "STACK_VARIABLES",
    "EnvVar",
    "env_example",
    "main",
    "settings_variables",
    "variable_names",
]

PREFIX = "SPAMOPS_"
DELIMITER = "__"
WIDTH = 92


@dataclass(frozen=True)
class EnvVar:
    """One environment variable: its name, default as it would be written, and its doc."""

    name: str
    value: str | None
    """The default written as the environment takes it; None when unset by default."""
    doc: str = ""
    secret: bool = False
    above: str = ""
    """A comment that heads this variable and the ones after it (a sub-group)."""


@dataclass(frozen=True)
class _Section:
    title: str
    doc: str
    variables: list[EnvVar]


STACK_VARIABLES: tuple[EnvVar, ...] = (
    EnvVar(
        "COMPOSE_PROFILES",
        None,
        "Optional parts to start: `dashboard` (Streamlit, needs the API), `monitoring` "
        "(Prometheus with deploy/prometheus.yml and deploy/alerts.yml), comma-separated.",
    ),
    EnvVar(
        "STACK_IMAGE",
        "spamops:local",
        "The image every spamops service runs; `docker compose build` builds it.",
    ),
    EnvVar(
        "STACK_BIND",
        "127.0.0.1",
        "Host address the published ports listen on; 0.0.0.0 exposes them to the network "
        "(put TLS in front of the API first, see docs/security.md).",
    ),
    EnvVar(
        "STACK_API_PORT",
        "8000",
        "Host port of the API. A range (8000-8003) lets `--scale api=4` publish every replica.",
    ),
    EnvVar("STACK_DASHBOARD_PORT", "8501", "Host port of the dashboard (profile `dashboard`)."),
    EnvVar("STACK_MLFLOW_PORT", "5000", "Host port of the MLflow server and UI."),
    EnvVar("STACK_PROMETHEUS_PORT", "9090", "Host port of Prometheus (profile `monitoring`)."),
    EnvVar(
        "STACK_MLFLOW_ARTIFACTS",
        "/var/lib/mlflow/artifacts",
        "Where the MLflow server keeps artifacts (it serves them: clients need no credentials). "
        "Default: the `mlflow-artifacts` volume. Object storage: s3://bucket/path, with "
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and MLFLOW_S3_ENDPOINT_URL for MinIO) set "
        "here and boto3 built into the image (docs/deployment.md).",
    ),
    EnvVar(
        "STACK_MLFLOW_ALLOWED_HOSTS",
        "mlflow:5000,localhost:*,127.0.0.1:*",
        "Host headers the MLflow server accepts (its DNS-rebinding guard); add the name the UI "
        "is reached by.",
    ),
    EnvVar("STACK_MLFLOW_WORKERS", "2", "Worker processes of the MLflow server (uvicorn)."),
    EnvVar("POSTGRES_USER", "spamops", "PostgreSQL role of the store and of MLflow."),
    EnvVar(
        "POSTGRES_PASSWORD",
        None,
        "Required by the compose file. URL-safe characters only (it goes into database URLs), "
        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`.",
        secret=True,
    ),
    EnvVar(
        "POSTGRES_DB",
        "spamops",
        "The store's database; MLflow's is `mlflow` (created at the first start).",
    ),
)
"""Variables of the compose file that are not settings: images, host ports, PostgreSQL."""


# --- documentation of fields, read from the source of the settings classes -------------


@dataclass(frozen=True)
class _FieldDoc:
    above: str
    doc: str


def _comment_text(raw: str) -> str | None:
    text = raw.lstrip("#").strip()
    if not text or text.startswith(("noqa", "type:", "pragma")):
        return None
    return text


@cache
def _field_docs(cls: type) -> dict[str, _FieldDoc]:
    """name -> the comments above a field, and its docstring plus the comment beside it."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = _comment_text(token.string)
            if text is not None:
                comments[token.start[0]] = text
    lines = source.splitlines()
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    docs: dict[str, _FieldDoc] = {}
    body = node.body
    for index, statement in enumerate(body):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        above: list[str] = []
        line = statement.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            if line in comments:
                above.insert(0, comments[line])
            line -= 1
        parts = []
        span = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
        beside = [comments[n] for n in span if n in comments]
        following = body[index + 1] if index + 1 < len(body) else None
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            parts.append(inspect.cleandoc(following.value.value))
        parts += [c for c in beside if c]
        docs[statement.target.id] = _FieldDoc(" ".join(above), " ".join(parts))
    return docs


def _doc_of(model: type[BaseModel], name: str) -> _FieldDoc:
    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return _field_docs(cls).get(name, _FieldDoc("", ""))
    return _FieldDoc("", "")


# --- values --------------------------------------------------------------------------


def _mentions(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    return any(_mentions(arg, kind) for arg in get_args(annotation))


def _group_model(annotation: Any) -> type[BaseModel] | None:
    """The settings group a field holds (a model), or None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _written(value: Any, field: FieldInfo) -> str | None:
    """A default as the environment gives it to pydantic-settings."""
    if value is None:
        return None
    if any(isinstance(m, NoDecode) or m is NoDecode for m in field.metadata):
        return ",".join(str(v) for v in value)  # a comma-separated list (split by a validator)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path | int | float):
        return str(value)
    if isinstance(value, timedelta):
        return str(TypeAdapter(timedelta).dump_python(value, mode="json"))  # ISO 8601: P90D
    return json.dumps(TypeAdapter(Any).dump_python(value, mode="json"), separators=(",", ":"))


def _walk(model: type[BaseModel], instance: BaseModel | None, prefix: str) -> Iterator[EnvVar]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        doc = _doc_of(model, name)
        if instance is not None:
            default = getattr(instance, name)
        elif field.default_factory is None:
            default = field.default
        else:
            default = None
        group = _group_model(annotation)
        if group is not None:
            yield from _walk(group, default, f"{prefix}{name.upper()}{DELIMITER}")
            continue
        secret = _mentions(annotation, SecretStr)
        text = doc.doc
        if field.default_factory is not None and instance is None:
            factory = getattr(field.default_factory, "__name__", "a function")
            text = f"{text} Default: computed at start by `{factory}()`.".strip()
        value = None if secret and default else _written(default, field)
        if secret:
            hidden = " (its default is not shown)" if default and value is None else ""
            text = f"{text} A secret{hidden}: keep it out of logs and version control.".strip()
        yield EnvVar(f"{prefix}{name.upper()}", value, text, secret, doc.above)


def settings_variables(model: type[BaseModel] = Settings) -> list[EnvVar]:
    """Every leaf setting as `SPAMOPS_...` variables, nested groups joined by `__`."""
    return list(_walk(model, None, PREFIX))


def variable_names() -> set[str]:
    """Every variable `.env.example` documents: the settings and the compose file's own."""
    return {v.name for v in settings_variables()} | {v.name for v in STACK_VARIABLES}


# --- rendering -----------------------------------------------------------------------


def _sections() -> list[_Section]:
    top: list[EnvVar] = []
    groups: dict[str, _Section] = {}
    variables = settings_variables()
    for name, field in Settings.model_fields.items():
        group = _group_model(field.annotation)
        if group is None:
            continue
        doc = inspect.cleandoc(group.__doc__ or "")
        groups[f"{PREFIX}{name.upper()}{DELIMITER}"] = _Section(name, doc, [])
    for variable in variables:
        for group_prefix, section in groups.items():
            if variable.name.startswith(group_prefix):
                section.variables.append(variable)
                break
        else:
            top.append(variable)
    general = _Section("general", inspect.cleandoc(Settings.__doc__ or ""), top)
    return [general, *groups.values()]


def _comment(text: str, indent: str = "# ") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        flat = " ".join(paragraph.split())
        if flat:
            lines += textwrap.wrap(
                flat, WIDTH - len(indent), break_long_words=False, break_on_hyphens=False
            )
    return [f"{indent}{line}".rstrip() for line in lines]


def _quote(value: str) -> str:
    """Values with spaces or quotes are single-quoted (docker compose and python-dotenv take
    single quotes literally)."""
    if value and (any(c.isspace() for c in value) or "#" in value) and "'" not in value:
        return f"'{value}'"
    return value


def _variable(variable: EnvVar) -> list[str]:
    lines = []
    if variable.above:
        lines += ["", *_comment(variable.above, "## ")]
    if variable.doc:
        lines += ["", *_comment(variable.doc, "#   ")]
    lines.append(f"# {variable.name}={_quote(variable.value or '')}")
    return lines


def _banner(title: str, doc: str) -> list[str]:
    rule = "# " + "-" * (WIDTH - 2)
    head = f"{title}: {doc}" if doc else title
    return ["", rule, *_comment(head), rule]


HEADER = """\
# Every setting of spamops, as environment variables (generated: do not edit by hand).
#
# Regenerate with `spamops config env-example -o .env.example`; a test fails when it is stale.
# Copy it to `.env` (docker compose and `spamops` both read `.env` in the working folder),
# then uncomment and set what you change. Everything is commented out: copied as it is,
# the file changes nothing. Values: booleans true/false, lists and mappings as JSON,
# durations as ISO 8601 (P90D), nested groups joined by a double underscore.
#
# Production needs at least SPAMOPS_ENV=production, SPAMOPS_AUTH__JWT_SECRET (>= 32 bytes)
# and, for docker compose, POSTGRES_PASSWORD. Keep `.env` out of version control (it holds
# secrets) and readable by its owner only: chmod 600 .env. See docs/deployment.md."""


def env_example() -> str:
    """The text of `.env.example`."""
    lines = HEADER.splitlines()
    for section in _sections():
        lines += _banner(section.title, section.doc)
        for variable in section.variables:
            lines += _variable(variable)
    lines += _banner(
        "docker compose",
        "Variables of docker-compose.yml itself (not settings). The compose file also sets "
        "the wiring between its services (SPAMOPS_REDIS_URL, SPAMOPS_DATABASE_URL, "
        "SPAMOPS_MLFLOW_TRACKING_URI, hosts and ports inside the network) unless set here.",
    )
    for variable in STACK_VARIABLES:
        lines += _variable(variable)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write .env.example from the Settings model.")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--check", type=Path, help="exit 1 if this file differs")
    args = parser.parse_args(argv)
    text = env_example()
    if args.check is not None:
        current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
        if current != text:
            print(f"{args.check} is stale: python -m spamops.envfile -o {args.check}")
            return 1
        print(f"{args.check} is up to date")
        return 0
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(settings_variables())} settings)")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
