"""What `spamops up` prints once everything answers: where each part is and what to try.

A newcomer's first minute: the URLs, how to get a credential, and commands that show the
system doing something, in an order that tells its story (classify, look at the models,
drive drift, follow the agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spamops.settings import DEV_JWT_SECRET, Settings

__all__ = ["Urls", "banner"]


@dataclass(frozen=True)
class Urls:
    api: str
    dashboard: str | None
    mlflow: str | None
    redis: str
    embedded_redis: bool
    log: Path | None
    token_file: Path | None


def _secret_note(settings: Settings) -> str | None:
    auth = settings.auth
    if auth.jwt_algorithm == "HS256" and auth.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
        return (
            "Tokens are signed with the development JWT secret (SPAMOPS_ENV=development): anyone\n"
            "who has read the source can make one. Set SPAMOPS_AUTH__JWT_SECRET (and\n"
            "SPAMOPS_ENV=production) before this is reachable from anywhere but this machine."
        )
    return None


def banner(settings: Settings, urls: Urls, seconds: float, simulate: bool) -> str:
    redis = f"{urls.redis} (embedded, AOF under {settings.data_dir / 'redis'})"
    rows = [
        ("API", f"{urls.api}   (interactive docs: {urls.api}/docs)"),
        ("dashboard", urls.dashboard or "off"),
        ("MLflow UI", urls.mlflow or "off"),
        ("Redis", redis if urls.embedded_redis else urls.redis),
        ("combined log", str(urls.log) if urls.log else "terminal only"),
    ]
    lines = [
        "",
        f"spamops is up ({seconds:.1f} s). Ctrl-C stops every process.",
        "",
        *(f"  {name:<13} {value}" for name, value in rows),
        "",
    ]
    if urls.token_file is not None:
        lines += [
            f"A demo admin token (valid {settings.launcher.token_ttl_s // 3600} h) is printed",
            f"below and kept in {urls.token_file} (owner-only); the dashboard has its own",
            "operator token:",
            f"  export TOKEN=$(cat {urls.token_file})",
            "",
        ]
    if note := _secret_note(settings):
        lines += [note, ""]
    auth = '-H "Authorization: Bearer $TOKEN"'
    lines += [
        "Try:",
        f"  curl -s {urls.api}/predict {auth} -H 'content-type: application/json' \\",
        '       -d \'{"message": "WINNER!! Claim your £1000 prize now: call 09061701461"}\'',
        f"  curl -s {urls.api}/models {auth}",
        f"  curl -s {urls.api}/drift/latest {auth}",
        f"  curl -s -X POST {urls.api}/models/rollback {auth}     # after a promotion",
        f"  spamops simulate --url {urls.api} --scenario new_campaign --token $TOKEN",
        "  spamops events tail decisions          # follow the agent (another terminal)",
    ]
    if simulate:
        lines += [
            "",
            "Demo traffic starts now (lines prefixed `demo`): within about two minutes the",
            "dashboard shows predictions, a drift verdict, a decision, a retraining, a",
            "promotion and an alert. What the demo changes: docs/deployment.md.",
        ]
    else:
        lines += [
            "  spamops up --simulate                 # next time: the whole loop in 2 minutes"
        ]
    return "\n".join(lines)
