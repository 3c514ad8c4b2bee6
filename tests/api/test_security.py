"""Authentication and authorisation: the role matrix, token attacks, API keys, limits."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.security.passwords import hash_secret, verify_secret
from api.security.principal import ROLES
from api.security.tokens import issue_token
from consumers.projector import Projector
from schemas.abtests import AbTestStart
from schemas.events import AbTestStarted
from spamops.settings import AuthSettings, Settings, UserConfig
from store.credentials import create_api_key, revoke_api_key
from store.engine import create_store_engine
from tests.api.doubles import MemoryRegistry
from tests.consumers.agent import builders as b

PUBLIC = {("GET", "/health"), ("POST", "/auth/token")}
ABTEST = "01938f5e-7c1a-7cc3-9a5e-3f0d5b8e1a43"

# route -> roles admitted (admin is always admitted), with a request that gives 200.
MATRIX: list[tuple[str, str, frozenset[str], dict[str, object] | None]] = [
    ("POST", "/predict", frozenset({"predict"}), {"message": "win a prize"}),
    ("POST", "/predict/batch", frozenset({"predict"}), {"messages": [{"message": "hi"}]}),
    (
        "POST",
        "/feedback",
        frozenset({"feedback"}),
        {"prediction_id": "01938f5e-7c1a-7cc3-9a5e-3f0d5b8e1a42", "label": "ham"},
    ),
    ("GET", "/models", frozenset({"operator", "auditor"}), None),
    ("POST", "/models/2/promote", frozenset({"operator"}), None),
    ("POST", "/models/rollback", frozenset({"operator"}), None),
    ("POST", "/retrain", frozenset({"operator"}), None),
    ("GET", "/events/predictions", frozenset({"operator", "auditor"}), None),
    ("GET", "/drift", frozenset({"operator", "auditor"}), None),
    ("GET", "/drift/latest", frozenset({"operator", "auditor"}), None),
    ("GET", "/performance", frozenset({"operator", "auditor"}), None),
    ("GET", "/retraining/history", frozenset({"operator", "auditor"}), None),
    ("GET", "/models/comparison", frozenset({"operator", "auditor"}), None),
    ("GET", "/models/history", frozenset({"operator", "auditor"}), None),
    ("GET", "/decisions", frozenset({"operator", "auditor"}), None),
    ("GET", "/alerts", frozenset({"operator", "auditor"}), None),
    ("GET", "/ready", frozenset(ROLES), None),
    ("GET", "/abtests", frozenset({"operator", "auditor"}), None),
    ("GET", "/metrics", frozenset({"operator", "auditor"}), None),
    ("GET", "/dashboard/traffic", frozenset({"operator", "auditor"}), None),
    ("GET", "/dashboard/predictions/latest", frozenset({"operator", "auditor"}), None),
    ("GET", "/dashboard/bus", frozenset({"operator", "auditor"}), None),
    # An unknown prediction: authorised callers get past the guard to a 404.
    ("GET", f"/dashboard/audit/predictions/{ABTEST}", frozenset({"operator", "auditor"}), None),
    ("GET", f"/abtests/{ABTEST}", frozenset({"operator", "auditor"}), None),
    # Authorised callers get past the guard to a domain answer: v1 is the champion (409),
    # and the test is not running in this API (404).
    ("POST", "/abtests", frozenset({"operator"}), {"challenger_version": 1}),
    ("POST", f"/abtests/{ABTEST}/stop", frozenset({"operator"}), None),
]
SUCCESS = {
    ("POST", "/feedback"): 202,
    ("POST", "/retrain"): 202,
    ("POST", "/abtests"): 409,
    ("POST", f"/abtests/{ABTEST}/stop"): 404,
    ("GET", f"/dashboard/audit/predictions/{ABTEST}"): 404,
}


@pytest.fixture
def secured(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    import asyncio

    async def seed() -> None:
        projector = Projector(settings)
        await projector.start()
        await projector.handle_batch(
            [
                b.drift(0.3),
                b.performance(0.95),
                b.compared(1, 2, "keep"),
                b.promoted(2, 1),
                _abtest_started(),
            ]
        )
        await projector.close()

    asyncio.run(seed())
    return settings


def _abtest_started() -> AbTestStarted:
    from uuid import UUID

    return AbTestStarted(
        source="t@h",
        payload=AbTestStart(
            abtest_id=UUID(ABTEST),
            champion=b.ref(1, "champion"),
            challenger=b.ref(2, "challenger"),
            started_by="test",
        ),
    )


@pytest.fixture
def anonymous(
    make_client: Callable[..., TestClient], secured: Settings, registry: MemoryRegistry
) -> TestClient:
    registry.history = [1] * 1000  # rollback always has somewhere to go
    client = make_client(secured)
    del client.headers["Authorization"]
    return client


def _call(client: TestClient, method: str, path: str, body: object, headers: dict[str, str]) -> int:
    return client.request(method, path, json=body, headers=headers).status_code


def _bearer(settings: Settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings.auth, f'u-{role}', role)}"}  # type: ignore[arg-type]


def _operations(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of the app, from its OpenAPI schema (the public view of routes)."""
    spec = client.get("/openapi.json").json()
    return {
        (method.upper(), path): op
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }


def test_every_route_is_guarded_or_deliberately_public(anonymous: TestClient) -> None:
    operations = _operations(anonymous)
    assert len(operations) > 20
    for (method, path), op in operations.items():
        if (method, path) in PUBLIC:
            assert "security" not in op, f"{method} {path} is meant to be public"
            continue
        schemes = {name for requirement in op.get("security", []) for name in requirement}
        assert schemes == {"HTTPBearer", "APIKeyHeader"}, f"{method} {path} has no guard"
    tested = {
        (
            m,
            p.replace("/2/", "/{version}/")
            .replace(f"predictions/{ABTEST}", "predictions/{prediction_id}")
            .replace(ABTEST, "{abtest_id}"),
        )
        for m, p, _, _ in MATRIX
    }
    untested = (
        set(operations)
        - PUBLIC
        - tested
        - {("GET", "/events/{stream}/live"), ("GET", "/events/{stream}")}
    )
    assert not untested, f"add these routes to the role matrix: {sorted(untested)}"


@pytest.mark.parametrize(
    ("method", "path", "allowed", "body"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_role_matrix(
    anonymous: TestClient,
    secured: Settings,
    method: str,
    path: str,
    allowed: frozenset[str],
    body: dict[str, object] | None,
) -> None:
    ok = SUCCESS.get((method, path), 200)
    for role in ROLES:
        expected = ok if role in allowed or role == "admin" else 403
        got = _call(anonymous, method, path, body, _bearer(secured, role))
        assert got == expected, (role, got)
    auth = secured.auth
    now = int(time.time())
    claims = {
        "sub": "u",
        "role": "admin",
        "iss": auth.issuer,
        "aud": auth.audience,
        "iat": now - 7200,
    }
    secret = auth.jwt_secret.get_secret_value()
    kid = jwt.get_unverified_header(issue_token(auth, "u", "admin"))["kid"]
    expired = jwt.encode(claims | {"exp": now - 3600}, secret, "HS256", headers={"kid": kid})
    wrong_aud = jwt.encode(
        claims | {"exp": now + 600, "aud": "elsewhere"}, secret, "HS256", headers={"kid": kid}
    )
    good = issue_token(auth, "u", "admin")
    head, _payload, sig = good.split(".")
    tampered_payload = (
        base64.urlsafe_b64encode(
            json.dumps(
                {**jwt.decode(good, options={"verify_signature": False}), "sub": "mallory"}
            ).encode()
        )
        .decode()
        .rstrip("=")
    )
    tampered = f"{head}.{tampered_payload}.{sig}"
    none_alg = jwt.encode(claims | {"exp": now + 600}, "", "none", headers={"kid": kid})
    for name, headers in [
        ("none", {}),
        ("expired", {"Authorization": f"Bearer {expired}"}),
        ("audience", {"Authorization": f"Bearer {wrong_aud}"}),
        ("tampered", {"Authorization": f"Bearer {tampered}"}),
        ("alg none", {"Authorization": f"Bearer {none_alg}"}),
        ("garbage key", {"X-API-Key": "spk_nope_nope"}),
    ]:
        assert _call(anonymous, method, path, body, headers) == 401, name


def test_algorithm_confusion_is_rejected(anonymous: TestClient, secured: Settings) -> None:
    """An RS256 public key passed off as an HMAC secret must not verify."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "admin",
            "iss": "spamops",
            "aud": "spamops-api",
            "iat": now,
            "exp": now + 60,
        },
        key,
        "RS256",
        headers={"kid": "whatever"},
    )
    r = anonymous.get("/ready", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "unknown key" in r.json()["error"]
    assert public_pem  # the attacker's material exists; the API never accepts its algorithm


def test_api_keys_create_use_revoke(anonymous: TestClient, secured: Settings) -> None:
    engine = create_store_engine(secured)
    record, plaintext = create_api_key(engine, "gateway", "predict", hash_secret)
    assert record.secret_hash.startswith("scrypt$") and plaintext not in record.secret_hash
    headers = {"X-API-Key": plaintext}
    assert anonymous.post("/predict", json={"message": "hi"}, headers=headers).status_code == 200
    assert anonymous.get("/models", headers=headers).status_code == 403
    wrong = plaintext[:-2] + ("AA" if not plaintext.endswith("AA") else "BB")
    assert anonymous.get("/ready", headers={"X-API-Key": wrong}).status_code == 401
    revoke_api_key(engine, record.key_id)
    services = anonymous.app.state.services  # type: ignore[attr-defined]
    services.auth.api_keys._cache.clear()  # as if api_key_cache_s had passed
    r = anonymous.post("/predict", json={"message": "hi"}, headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["error"]


def test_login_for_configured_users(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    auth = AuthSettings(
        jwt_secret=SecretStr("s" * 40),
        users={"ops": UserConfig(password_hash=hash_secret("hunter22"), role="operator")},
    )
    client = make_client(make_settings(auth=auth))
    del client.headers["Authorization"]
    r = client.post("/auth/token", json={"username": "ops", "password": "hunter22"})
    assert r.status_code == 200 and r.json()["role"] == "operator"
    token = r.json()["access_token"]
    assert client.get("/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for user, password in [("ops", "wrong"), ("nobody", "hunter22")]:
        r = client.post("/auth/token", json={"username": user, "password": password})
        assert r.status_code == 401 and r.json()["error"] == "wrong username or password"


def test_rate_limit_is_a_429_with_retry_after(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    auth = AuthSettings(
        jwt_secret=SecretStr("s" * 40), rate_limit_per_s=1, rate_limit_burst=5, rate_limit_lease=2
    )
    client = make_client(make_settings(auth=auth))
    statuses = [client.post("/predict", json={"message": "hi"}).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and 429 in statuses[5:]
    r = client.post("/predict", json={"message": "hi"})
    assert r.status_code == 429 and r.headers["retry-after"] and "rate limit" in r.json()["error"]


def test_security_headers_and_request_id(anonymous: TestClient, secured: Settings) -> None:
    r = anonymous.post("/predict", json={"message": "hi"}, headers=_bearer(secured, "predict"))
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-request-id"]
    r = anonymous.get("/health", headers={"X-Request-ID": "abc"})
    assert r.headers["x-request-id"] == "abc" and "access-control-allow-origin" not in r.headers


def test_passwords() -> None:
    stored = hash_secret("correct horse")
    assert verify_secret("correct horse", stored) and not verify_secret("wrong", stored)
    assert not verify_secret("x", "bcrypt$nope") and not verify_secret("x", "scrypt$bad")


def test_refuses_default_secret_outside_development() -> None:
    with pytest.raises(ValueError, match="SPAMOPS_AUTH__JWT_SECRET"):
        Settings(_env_file=None, env="production", auth=AuthSettings())
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(_env_file=None, env="production", auth=AuthSettings(jwt_secret=SecretStr("short")))
    assert Settings(_env_file=None, env="development", auth=AuthSettings()).env == "development"


def test_every_call_is_an_access_event_without_texts_or_credentials(
    anonymous: TestClient, secured: Settings, fake_server: object
) -> None:
    from tests.api.test_predict import _wait_events

    headers = _bearer(secured, "predict")
    anonymous.post(
        "/predict", json={"message": "my secret text", "request_id": "r-42"}, headers=headers
    )
    anonymous.get("/models", headers=headers)
    anonymous.get("/ready")
    events = _wait_events(fake_server, secured, "access", 3)  # type: ignore[arg-type]
    by_route = {e.payload.route: e.payload for e in events}  # type: ignore[attr-defined]
    predict = by_route["/predict"]
    assert (predict.principal, predict.role, predict.status) == ("u-predict", "predict", 200)
    assert predict.request_id == "r-42" and predict.method == "POST" and predict.latency_ms > 0
    assert by_route["/models"].status == 403 and by_route["/ready"].principal == "anonymous"
    wire = b"".join(e.to_json() for e in events)  # type: ignore[attr-defined]
    assert b"my secret text" not in wire and b"Bearer" not in wire
