"""`spamops tokens|keys|users`: issue, create, list, revoke, hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.security.passwords import verify_secret
from api.security.tokens import TokenVerifier
from spamops.cli import app
from spamops.settings import Settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SPAMOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SPAMOPS_DATA_DIR": str(tmp_path),
    }


def test_tokens_issue_verifies(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        ["tokens", "issue", "--role", "auditor", "--subject", "prometheus", "--ttl", "600"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    principal = TokenVerifier(Settings(_env_file=None).auth).verify(result.stdout.strip())
    assert (principal.subject, principal.role) == ("prometheus", "auditor")
    bad = CliRunner().invoke(app, ["tokens", "issue", "--role", "boss", "--subject", "x"], env=env)
    assert bad.exit_code == 2 and "not a role" in bad.output


def test_keys_create_list_revoke(env: dict[str, str]) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["keys", "create", "--role", "predict", "--name", "gateway"], env=env
    )
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[-1]
    key_id = plaintext.split("_")[1]
    assert plaintext.startswith("spk_")
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert key_id in listed.stdout and "active" in listed.stdout
    assert plaintext not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", key_id], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert "revoked 20" in runner.invoke(app, ["keys", "list"], env=env).stdout
    missing = runner.invoke(app, ["keys", "revoke", "nope"], env=env)
    assert missing.exit_code == 1 and "no API key" in missing.stderr


def test_users_hash_password(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["users", "hash-password"], input="s3cret\ns3cret\n", env=env)
    assert result.exit_code == 0
    stored = result.stdout.strip().splitlines()[-1]
    assert verify_secret("s3cret", stored) and "s3cret" not in stored
