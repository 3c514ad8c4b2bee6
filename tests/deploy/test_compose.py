"""docker-compose.yml, the Dockerfile and deploy/prometheus.yml, checked against the code.

No Docker engine runs where these tests run, so nothing here starts a container. What can
be checked without one is checked against the code that the containers run: the consumer
registry, the CLI's commands and options, the health probe's roles, the settings model,
the dependencies pyproject.toml declares, and the Prometheus scrape targets.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import re
import shlex
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel
from typer.main import get_command

from consumers.runner import CONSUMER_FACTORIES
from spamops.cli import app
from spamops.envfile import variable_names
from spamops.launcher import health
from spamops.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PROMETHEUS = REPO / "deploy" / "prometheus.yml"
LOCK = REPO / "requirements.lock"

ONE_SHOT = {"init"}
"""Services that run to completion: nothing to probe while they run; what depends on them
waits for their exit code (`service_completed_successfully`), not for a health status."""

IMAGE_VARIABLE = "${STACK_IMAGE"
HEALTH = ("python", "-m", "spamops.launcher.health")
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - what Docker publishes on without an address


# --- loading --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(raw: str) -> dict[str, Any]:
    data = yaml.safe_load(raw)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict) and found
    return found


_VARIABLE = re.compile(
    r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?])([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}"
)


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}` and `$$`,
    innermost first, with `env` (default: nothing set, so defaults apply)."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        name, modifier = match.group(1), match.group(2) or ""
        value = env.get(name)
        if modifier.startswith((":-", "-")):
            default = modifier.split("-", 1)[1]
            unset = value is None or (modifier.startswith(":") and value == "")
            return default if unset else str(value)
        if modifier.startswith((":?", "?")):
            return value if value else f"<{name}>"
        return value or ""

    previous = None
    while previous != text:
        previous, text = text, _VARIABLE.sub(one, text)
    return text.replace("$$", "$")


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    words = shlex.split(command) if isinstance(command, str) else list(command)
    return [interpolate(str(w)) for w in words]


def healthcheck_of(service: dict[str, Any]) -> list[str]:
    test = service.get("healthcheck", {}).get("test", [])
    return [str(w) for w in ([test] if isinstance(test, str) else test)]


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {}) or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def is_ours(service: dict[str, Any]) -> bool:
    """Runs the spamops image (the Dockerfile), not a third-party one."""
    return str(service.get("image", "")).startswith(IMAGE_VARIABLE) and "build" in service


def cli() -> Any:
    """The CLI as click sees it (typer's own vendored click: duck-typed here)."""
    group = get_command(app)
    assert hasattr(group, "commands")
    return group


# --- consumers ------------------------------------------------------------------------


def test_every_consumer_has_its_own_scalable_service(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in CONSUMER_FACTORIES:
        assert name in services, f"consumer {name!r} has no service in docker-compose.yml"
        service = services[name]
        assert command_of(service) == ["consume", name], name
        # `--scale` needs replicas that differ: no fixed name, no host port.
        assert "container_name" not in service, name
        assert "ports" not in service, f"{name}: a published port breaks --scale"
        assert "hostname" not in service, f"{name}: replicas would share a member name"
        replicas = service.get("deploy", {}).get("replicas", 1)
        assert replicas == 1, name


def test_only_known_consumers_are_started(services: dict[str, dict[str, Any]]) -> None:
    consumed = []
    for name, service in services.items():
        command = command_of(service)
        if is_ours(service) and command[:1] == ["consume"]:
            names = [w for w in command[1:] if not w.startswith("-")]
            # The health probe finds a consumer by `<hostname>-*`: the default member name.
            assert "--member" not in command, f"{name}: the health check would not find it"
            unknown = set(names) - set(CONSUMER_FACTORIES)
            assert not unknown, f"{name} runs unknown consumers {unknown}"
            consumed += names
    assert sorted(consumed) == sorted(CONSUMER_FACTORIES), "each consumer exactly once"


def test_the_agent_runs_as_one_replica(raw: str, services: dict[str, dict[str, Any]]) -> None:
    agent = services["agent"]
    assert agent.get("deploy", {}).get("replicas", 1) == 1
    block = raw[raw.index("\n  agent:") : raw.index("\n  retrainer:")]
    assert "EXACTLY ONE REPLICA" in block, "say so where an operator would scale it"


# --- health ---------------------------------------------------------------------------


def _health_roles() -> set[str]:
    """The roles `python -m spamops.launcher.health` accepts (from its own parser)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        health.main(["no-such-role"])
    match = re.search(r"choose from (.*?)\)", err.getvalue())
    assert match, err.getvalue()
    return {word.strip(" '\"") for word in match.group(1).split(",")}


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOT:
            assert check.get("disable") is True, f"{name}: say that it has no probe"
            assert str(service.get("restart")) == "no", f"{name} must not be restarted"
            continue
        assert not check.get("disable"), name
        test = healthcheck_of(service)
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name}: healthcheck without {key}"


def test_health_probes_run_the_role_of_their_service(
    services: dict[str, dict[str, Any]],
) -> None:
    roles = _health_roles()
    assert {"api", "consumer", "scheduler", "dashboard", "mlflow"} <= roles
    probed = 0
    for name, service in services.items():
        test = healthcheck_of(service)
        if tuple(test[1:4]) != HEALTH:
            continue
        probed += 1
        role = test[4]
        assert role in roles, f"{name}: unknown health role {role!r}"
        entrypoint = [str(w) for w in service.get("entrypoint", ["spamops"])]
        # The same mapping the image's `auto` health check applies to its main command.
        assert health.role_of([*entrypoint, *command_of(service)]) == role, name
    assert probed >= len(CONSUMER_FACTORIES) + 3  # consumers, api, scheduler, mlflow...


def test_third_party_services_have_their_own_probes(
    services: dict[str, dict[str, Any]],
) -> None:
    assert healthcheck_of(services["redis"])[1:] == ["redis-cli ping | grep -q PONG"]
    assert "pg_isready" in " ".join(healthcheck_of(services["postgres"]))
    assert "/-/ready" in " ".join(healthcheck_of(services["prometheus"]))


# --- commands -------------------------------------------------------------------------


def test_every_command_is_a_real_cli_command(services: dict[str, dict[str, Any]]) -> None:
    group = cli()
    checked = 0
    for name, service in services.items():
        if not is_ours(service):
            continue
        command = command_of(service)
        if "entrypoint" in service:
            entry = [str(w) for w in service["entrypoint"]]
            assert entry == ["mlflow"], f"{name}: unexpected entrypoint {entry}"
            scripts = metadata.entry_points(group="console_scripts", name="mlflow")
            assert scripts, "the image's venv has no mlflow command"
            assert command[0] == "server", name
            continue
        assert command, f"{name}: the image's default command only prints help"
        sub = group.commands.get(command[0])
        assert sub is not None, f"{name}: `spamops {command[0]}` does not exist"
        # Parse the arguments as the CLI would (unknown options and values fail here).
        sub.make_context(command[0], list(command[1:]))
        checked += 1
    assert checked >= len(CONSUMER_FACTORIES) + 3


def test_the_mlflow_server_uses_postgresql_and_serves_artifacts(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    command = command_of(services["mlflow"])
    backend = command[command.index("--backend-store-uri") + 1]
    assert backend.startswith("postgresql+psycopg://") and backend.endswith("@postgres:5432/mlflow")
    metadata.version("psycopg")  # the driver that URL names is installed
    assert "--serve-artifacts" in command and "--artifacts-destination" in command
    assert services["mlflow"]["ports"], "the UI is published"
    created = compose["configs"]["postgres-init"]["content"]
    assert "CREATE DATABASE mlflow" in created
    mounts = [c["target"] for c in services["postgres"]["configs"]]
    assert any(m.startswith("/docker-entrypoint-initdb.d/") for m in mounts)


def test_redis_persists_every_second_and_never_evicts(
    services: dict[str, dict[str, Any]],
) -> None:
    command = command_of(services["redis"])
    pairs = dict(zip(command[1::2], command[2::2], strict=False))
    assert pairs["--appendonly"] == "yes"
    assert pairs["--appendfsync"] == "everysec"
    assert pairs["--maxmemory-policy"] == "noeviction"
    volumes = services["redis"]["volumes"]
    assert any(str(v).endswith(":/data") for v in volumes)


def test_spooling_services_have_a_spool_of_their_own(
    services: dict[str, dict[str, Any]],
) -> None:
    """Replicas must not share a spool file: each gets an anonymous volume."""
    for name in ("api", "scheduler"):
        service = services[name]
        spool = environment_of(service)["SPAMOPS_BUS__SPOOL_FILE"]
        folder = str(Path(spool).parent)
        assert folder in [str(v) for v in service["volumes"]], name  # anonymous: no source
        assert not any(str(v).endswith(f":{folder}") for v in service["volumes"]), name


# --- configuration ------------------------------------------------------------------------


def _settings_field(name: str) -> bool:
    """Is `SPAMOPS_A__B` a leaf field of `Settings` (a.b)?"""
    model: type[BaseModel] = Settings
    parts = name.removeprefix("SPAMOPS_").lower().split("__")
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        is_group = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if index == len(parts) - 1:
            return not is_group
        if not is_group:
            return False
        assert isinstance(annotation, type)
        model = annotation
    return False


def _env_example_names() -> set[str]:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_settings_lookup_can_fail() -> None:
    assert _settings_field("SPAMOPS_BUS__BATCH_SIZE")
    assert _settings_field("SPAMOPS_RETENTION__FEEDBACK__MAX_AGE")
    assert not _settings_field("SPAMOPS_BUS")  # a group, not a value
    assert not _settings_field("SPAMOPS_BUS__NO_SUCH")
    assert not _settings_field("SPAMOPS_API__HOST__X")


def test_every_variable_is_documented_and_real(
    raw: str, services: dict[str, dict[str, Any]]
) -> None:
    documented = _env_example_names()
    assert documented == variable_names(), ".env.example is stale (see test_envfile)"
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", raw))
    assert used, "the compose file interpolates nothing?"
    missing = used - documented
    assert not missing, f"not in .env.example: {sorted(missing)}"
    for name, service in services.items():
        for key in environment_of(service):
            if key.startswith("SPAMOPS_"):
                assert _settings_field(key), f"{name}: {key} is not a setting"
                assert key in documented, f"{name}: {key} not in .env.example"
    for name in used:
        if name.startswith("SPAMOPS_"):
            assert _settings_field(name), f"${{{name}}} is not a setting"


def test_services_read_the_env_file_and_production_defaults(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if not is_ours(service):
            continue
        assert service.get("env_file") in (".env", [".env"]), name
        env = environment_of(service)
        if name == "mlflow":
            continue
        assert interpolate(env["SPAMOPS_ENV"]) == "production", name
        assert interpolate(env["SPAMOPS_REDIS_URL"]) == "redis://redis:6379/0", name
        assert interpolate(env["SPAMOPS_MLFLOW_TRACKING_URI"]) == "http://mlflow:5000", name
        url = interpolate(env["SPAMOPS_DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"})
        assert url == "postgresql+psycopg://spamops:pw@postgres:5432/spamops", name


def test_interpolation_follows_compose_rules() -> None:
    assert interpolate("${A:-x}") == "x"
    assert interpolate("${A:-x}", {"A": ""}) == "x"
    assert interpolate("${A-x}", {"A": ""}) == ""
    assert interpolate("${A:-${B:-y}}") == "y"
    assert interpolate("${A:?boom}") == "<A>"
    assert interpolate("$${A}") == "${A}"


# --- ports and dependencies ---------------------------------------------------------------


def _published(spec: Any) -> Iterator[tuple[str, int, int]]:
    """(host address, first host port, last host port) of one `ports` entry."""
    if isinstance(spec, dict):
        host, published = spec.get("host_ip", ANY_ADDRESS), str(spec.get("published", ""))
    else:
        text = interpolate(str(spec))
        parts = text.rsplit(":", 2)
        if len(parts) < 2:
            return  # container port only: Docker picks a free host port
        host = parts[0] if len(parts) == 3 else ANY_ADDRESS
        published = parts[-2]
    if not published:
        return
    first, _, last = published.partition("-")
    ipaddress.ip_address(host)  # a real address, not an unresolved variable
    yield host, int(first), int(last or first)


def test_published_host_ports_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    taken: list[tuple[str, int, int, str]] = []
    for name, service in services.items():
        for spec in service.get("ports", []):
            for host, first, last in _published(spec):
                for other_host, other_first, other_last, other in taken:
                    same_host = ANY_ADDRESS in (host, other_host) or host == other_host
                    overlap = first <= other_last and other_first <= last
                    assert not (same_host and overlap), f"{name} and {other} both publish {first}"
                taken.append((host, first, last, name))
    assert {t[3] for t in taken} >= {"api", "mlflow"}
    assert all(host == "127.0.0.1" for host, *_ in taken), "published on loopback by default"


def test_container_ports_are_where_the_processes_listen(
    services: dict[str, dict[str, Any]],
) -> None:
    api = environment_of(services["api"])
    assert interpolate(str(services["api"]["ports"][0])).endswith(f":{api['SPAMOPS_API__PORT']}")
    assert api["SPAMOPS_API__HOST"] == ANY_ADDRESS
    dash = environment_of(services["dashboard"])
    assert interpolate(str(services["dashboard"]["ports"][0])).endswith(
        f":{dash['SPAMOPS_DASHBOARD__PORT']}"
    )
    assert dash["SPAMOPS_DASHBOARD__API_URL"] == f"http://api:{api['SPAMOPS_API__PORT']}"
    command = command_of(services["mlflow"])
    port = command[command.index("--port") + 1]
    assert interpolate(str(services["mlflow"]["ports"][0])).endswith(f":{port}")
    # the health probe asks MLflow on 5000 (spamops/launcher/health.py)
    assert port == "5000"


def test_dependencies_exist_and_wait_for_the_right_thing(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: use the long form with conditions"
        for target, rule in depends.items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if target in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, target)
            else:
                assert condition == "service_healthy", (name, target)
                assert not services[target].get("healthcheck", {}).get("disable"), target
            # a service that always starts cannot wait for one behind a profile
            if not service.get("profiles"):
                assert not services[target].get("profiles"), (name, target)
    for name, service in services.items():
        if is_ours(service) and name not in ONE_SHOT and name not in ("mlflow", "dashboard"):
            assert "init" in service.get("depends_on", {}), f"{name} must wait for init"


def test_optional_parts_are_profiles(services: dict[str, dict[str, Any]]) -> None:
    assert services["dashboard"].get("profiles") == ["dashboard"]
    assert services["prometheus"].get("profiles") == ["monitoring"]
    core = {"redis", "postgres", "mlflow", "init", "api", "scheduler", *CONSUMER_FACTORIES}
    for name in core:
        assert not services[name].get("profiles"), f"{name} is not optional"


# --- Prometheus ---------------------------------------------------------------------------


def test_prometheus_scrapes_the_services_that_exist(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets: dict[str, tuple[set[str], int]] = {}
    for name, job in jobs.items():
        names: set[str] = set()
        ports = set()
        for sd in job.get("dns_sd_configs", []):
            names |= set(sd["names"])
            ports.add(int(sd["port"]))
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                names.add(host)
                ports.add(int(port))
        assert len(ports) == 1, name
        targets[name] = (names, ports.pop())
    consumers, port = targets["spamops-consumers"]
    assert consumers == set(CONSUMER_FACTORIES)
    for consumer in consumers:
        metrics = environment_of(services[consumer]).get("SPAMOPS_METRICS_PORT")
        assert metrics is not None and int(metrics) == port, consumer
    api, api_port = targets["spamops-api"]
    assert api == {"api"}
    assert api_port == int(environment_of(services["api"])["SPAMOPS_API__PORT"])
    assert "scheduler" not in {n for names, _ in targets.values() for n in names}, (
        "the scheduler serves no /metrics"
    )
    secret = jobs["spamops-api"]["authorization"]["credentials_file"]
    mounts = [str(v) for v in services["prometheus"]["volumes"]]
    assert any(secret.startswith(m.split(":")[1] + "/") for m in mounts if m.count(":") >= 1)
    for rules in config["rule_files"]:
        source = next(m.split(":")[0] for m in mounts if m.split(":")[1] == rules)
        assert (REPO / source).is_file(), source
    source = next(m.split(":")[0] for m in mounts if m.endswith("/prometheus.yml:ro"))
    assert (REPO / source).resolve() == PROMETHEUS


# --- Dockerfile ---------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    args: dict[str, str] = {}
    name = ""
    for word, rest in _instructions():
        if word == "ARG" and not stages:  # before the first FROM: a global build argument
            key, _, value = rest.partition("=")
            args[key] = value
            continue
        if word == "FROM":
            image, _, alias = rest.partition(" AS ")
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), image)
            name = alias.strip() or f"stage{len(stages)}"
            stages[name] = [("FROM", image.strip())]
            continue
        stages[name].append((word, rest))
    return stages


def test_the_image_is_multi_stage_slim_and_unprivileged() -> None:
    stages = _stages()
    assert len(stages) >= 2, "multi-stage: build tools stay out of the runtime image"
    final = list(stages.values())[-1]
    assert final[0][1].startswith("python:3.11-slim")
    assert any(w == "COPY" and r.startswith("--from=builder") for w, r in final)
    users = [r for w, r in final if w == "USER"]
    assert users, "the runtime stage must switch user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), "runs as root"
    # nothing after USER may need root
    after = [w for w, _ in final[[w for w, _ in final].index("USER") :]]
    assert "RUN" not in after


def test_the_image_has_a_healthcheck_and_the_spamops_entrypoint() -> None:
    final = list(_stages().values())[-1]
    checks = [r for w, r in final if w == "HEALTHCHECK"]
    assert len(checks) == 1
    cmd = checks[0].split(" CMD ", 1)[1]
    words = yaml.safe_load(cmd)  # the JSON (exec) form
    assert tuple(words[:3]) == HEALTH and words[3] in _health_roles()
    entry = [r for w, r in final if w == "ENTRYPOINT"]
    assert entry and yaml.safe_load(entry[-1]) == ["spamops"]


def test_the_image_installs_the_pinned_dependencies_and_every_package() -> None:
    builder = _stages()["builder"]
    runs = " ".join(r for w, r in builder if w == "RUN")
    assert "-r /tmp/requirements.lock" in runs
    assert "-c /tmp/requirements.lock" in runs and "--no-index" in runs
    assert "pip check" in runs
    copied = {r.split()[0] for w, r in builder if w == "COPY" and not r.startswith("--")}
    assert "requirements.lock" in copied
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in packages:
        package = pattern.rstrip("*")
        assert package in copied, f"the Dockerfile does not copy package {package}/"
    assert {"pyproject.toml", "README.md"} <= {
        word for w, r in builder if w == "COPY" for word in r.split()[:-1]
    }


def test_dockerignore_keeps_data_and_secrets_out() -> None:
    lines = set((REPO / ".dockerignore").read_text(encoding="utf-8").split())
    for required in ("data", ".venv", "mlruns", "mlartifacts", ".env", ".git", "deploy/secrets"):
        assert required in lines, required


# --- the lock file --------------------------------------------------------------------------


def _lock(path: Path = LOCK) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def _extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What `name[extra]` adds, from the installed distribution's metadata."""
    found = []
    for raw in metadata.requires(requirement.name) or []:
        dependency = Requirement(raw)
        if dependency.marker is None:
            continue
        for extra in requirement.extras:
            if dependency.marker.evaluate({"extra": extra}) and not dependency.marker.evaluate(
                {"extra": ""}
            ):
                found.append(dependency)
    return found


def test_the_lock_pins_every_declared_dependency() -> None:
    pins = _lock()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for raw in pyproject["project"]["dependencies"]:
        requirement = Requirement(raw)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, pyproject.toml wants {requirement}"
        )
        for extra in _extra_requirements(requirement):
            assert canonicalize_name(extra.name) in pins, f"{extra.name} ({requirement})"
    needed = {  # what the pinned packages themselves require
        canonicalize_name(Requirement(raw).name)
        for pinned in pins
        for raw in metadata.requires(pinned) or []
    }
    for raw in pyproject["project"]["optional-dependencies"]["dev"]:
        name = canonicalize_name(Requirement(raw).name)
        if name not in needed:
            assert name not in pins, f"dev tool {name} does not belong in the image"
    assert "spamops" not in pins


def test_lock_parsing_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "requirements.lock"
    broken.write_text("# header\nnumpy==2.0.0\nscipy\n")
    with pytest.raises(AssertionError, match="not pinned: scipy"):
        _lock(broken)
