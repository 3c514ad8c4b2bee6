"""`spamops tokens`, `spamops keys`, `spamops users`: credentials for operators."""

from __future__ import annotations

from typing import Annotated

import typer

from spamops.cli.context import fail, settings_of

__all__ = ["register"]

RoleOption = Annotated[
    str, typer.Option("--role", help="predict, feedback, operator, auditor or admin.")
]


def _role(value: str) -> str:
    from api.security.principal import ROLES

    if value not in ROLES:
        raise typer.BadParameter(f"{value!r} is not a role; choose one of {', '.join(ROLES)}")
    return value


def register(app: typer.Typer) -> None:
    tokens = typer.Typer(help="JWT bearer tokens.", no_args_is_help=True)
    keys = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)
    users = typer.Typer(help="Log-in principals for POST /auth/token.", no_args_is_help=True)

    @tokens.command("issue")
    def issue(
        ctx: typer.Context,
        role: RoleOption,
        subject: Annotated[str, typer.Option(help="Who the token is for.")],
        ttl: Annotated[int | None, typer.Option(min=1, help="Seconds (default: setting).")] = None,
    ) -> None:
        """Print a signed token for SUBJECT with ROLE (needs the signing key)."""
        from api.security.principal import AuthError
        from api.security.tokens import issue_token

        try:
            typer.echo(issue_token(settings_of(ctx).auth, subject, _role(role), ttl))  # type: ignore[arg-type]
        except AuthError as exc:
            raise fail(exc.message) from None

    @keys.command("create")
    def create(
        ctx: typer.Context,
        role: RoleOption,
        name: Annotated[str, typer.Option(help="What the key is for, e.g. sms-gateway.")],
    ) -> None:
        """Create an API key and print it once; only its scrypt hash is stored."""
        from api.security.passwords import hash_secret
        from store.credentials import create_api_key
        from store.engine import create_store_engine
        from store.errors import StoreError
        from store.migrate import upgrade

        engine = create_store_engine(settings_of(ctx))
        try:
            upgrade(engine)
            record, plaintext = create_api_key(engine, name, _role(role), hash_secret)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        typer.echo(f"created key {record.key_id} ({record.name}, role {record.role}).")
        typer.echo("Store it now; it cannot be shown again:")
        typer.echo(plaintext)

    @keys.command("list")
    def list_keys(ctx: typer.Context) -> None:
        """Every API key: id, name, role, created, revoked (never the secret)."""
        from store.credentials import list_api_keys
        from store.engine import create_store_engine
        from store.errors import StoreError

        engine = create_store_engine(settings_of(ctx))
        try:
            records = list_api_keys(engine)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        for r in records:
            revoked = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
            typer.echo(f"{r.key_id}  {r.role:<9} {r.name:<30} {r.created_at:%Y-%m-%d}  {revoked}")

    @keys.command("revoke")
    def revoke(ctx: typer.Context, key_id: str) -> None:
        """Revoke KEY_ID; replicas stop accepting it within SPAMOPS_AUTH__API_KEY_CACHE_S."""
        from store.credentials import revoke_api_key
        from store.engine import create_store_engine
        from store.errors import StoreError

        engine = create_store_engine(settings_of(ctx))
        try:
            record = revoke_api_key(engine, key_id)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        typer.echo(f"revoked {record.key_id} ({record.name})")

    @users.command("hash-password")
    def hash_password(
        password: Annotated[
            str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
        ],
    ) -> None:
        """Print the scrypt hash for SPAMOPS_AUTH__USERS (the password is not echoed)."""
        from api.security.passwords import hash_secret

        typer.echo(hash_secret(password))

    app.add_typer(tokens, name="tokens")
    app.add_typer(keys, name="keys")
    app.add_typer(users, name="users")
