"""`spamops up`: the whole system on this machine, supervised, until Ctrl-C or SIGTERM.

Order: claim the data directory → Redis (embedded unless `SPAMOPS_REDIS_URL` is set) →
prepare (corpus, `store upgrade`, a champion) → consumers, API, scheduler, dashboard,
MLflow UI → wait until each answers its readiness check → print where everything is →
with `--simulate`, the demo traffic. A signal at any point stops whatever has started, in
order, and nothing is left running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from spamops.launcher import plan
from spamops.launcher.banner import Urls, banner
from spamops.launcher.output import LogSink, use_colour
from spamops.launcher.prepare import PrepareError, prepare
from spamops.launcher.specs import Backoff, ProcessSpec
from spamops.launcher.state import LauncherBusyError, LauncherState
from spamops.launcher.supervisor import Supervisor
from spamops.settings import Settings

__all__ = ["StackError", "UpOptions", "run_stack"]


SECOND_SIGNAL_AFTER_S = 1.0
"""A stop signal this long after the first kills instead of waiting for a clean stop."""


class StackError(RuntimeError):
    """The stack could not start; the message says what to change."""


@dataclass(frozen=True)
class UpOptions:
    simulate: bool = False
    dashboard: bool = True
    mlflow_ui: bool = True


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_ports(ports: plan.Ports, options: UpOptions, remote_mlflow: bool) -> None:
    wanted = [("API", ports.api, "SPAMOPS_API__PORT")]
    if options.dashboard:
        wanted.append(("dashboard", ports.dashboard, "SPAMOPS_DASHBOARD__PORT"))
    if options.mlflow_ui and not remote_mlflow:
        wanted.append(("MLflow UI", ports.mlflow, "SPAMOPS_LAUNCHER__MLFLOW_PORT"))
    for what, port, variable in wanted:
        if not _port_free(ports.host, port):
            raise StackError(
                f"port {port} for the {what} is in use (another `spamops up`?); stop that, or "
                f"set {variable} to a free port"
            )


class Stack:
    def __init__(self, settings: Settings, options: UpOptions, sink: LogSink) -> None:
        self.settings = settings
        self.options = options
        self.sink = sink
        self.state = LauncherState(settings)
        launcher = settings.launcher
        self.supervisor = Supervisor(
            sink,
            Backoff(
                launcher.restart_backoff_s,
                launcher.restart_backoff_max_s,
                launcher.stable_after_s,
            ),
            launcher.stop_timeout_s,
            on_spawn=self.state.record,
        )
        self.ports = plan.Ports(settings.api.port, settings.dashboard.port, launcher.mlflow_port)
        self.env = dict(os.environ) | {
            "SPAMOPS_DATA_DIR": str(settings.data_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.setdefault("SPAMOPS_LOG_FORMAT", "text")
        if options.simulate:
            for name, value in plan.DEMO_SETTINGS.items():
                self.env.setdefault(name, value)
        self.redis_url = settings.redis_url or ""
        self.token: str | None = None

    async def _step(self, name: str, argv: Sequence[str]) -> int:
        spec = ProcessSpec(name, tuple(argv), self.env, restart="never", tier=5)
        return await self.supervisor.run_once(spec)

    async def _redis(self) -> None:
        if self.settings.redis_url:
            from spamops.launcher.health import redis_ping

            if not await redis_ping(self.settings.redis_url):
                raise StackError(f"SPAMOPS_REDIS_URL={self.settings.redis_url} does not answer")
            self.sink.say(f"using Redis at {self.settings.redis_url}")
            return
        port = self.settings.launcher.redis_port or _free_port()
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        url = self.redis_url
        self.supervisor.start(
            plan.redis_spec(
                self.settings, port, self.env, lambda pid: self.state.write_redis(pid, url)
            )
        )
        if await self.supervisor.wait_ready(["redis"], timeout_s=30):
            raise StackError("the embedded redis-server did not answer within 30 s (see above)")
        self.env["SPAMOPS_REDIS_URL"] = url

    def _tokens(self) -> tuple[str | None, str | None]:
        """A demo admin token and the dashboard's operator token (None: cannot sign here)."""
        from api.security.principal import AuthError
        from api.security.tokens import issue_token

        auth, ttl = self.settings.auth, self.settings.launcher.token_ttl_s
        try:
            return issue_token(auth, "demo", "admin", ttl), issue_token(
                auth, "dashboard", "operator", ttl
            )
        except (AuthError, OSError, ValueError) as exc:
            self.sink.say(f"no demo token: {exc}")
            return None, None

    def _start_services(self, dashboard_token: str | None) -> None:
        remote_mlflow = self.settings.resolved_mlflow_uri.startswith(("http://", "https://"))
        specs = [
            *plan.consumer_specs(self.settings, self.redis_url, self.env),
            *plan.service_specs(self.ports, self.env),
        ]
        if self.options.dashboard:
            specs.append(plan.dashboard_spec(self.ports, self.env, dashboard_token))
        if self.options.mlflow_ui and not remote_mlflow:
            specs.append(plan.mlflow_ui_spec(self.settings, self.ports, self.env))
        for spec in specs:
            self.supervisor.start(spec)

    async def start(self) -> None:
        started = time.monotonic()
        leftovers = self.state.claim()
        if leftovers:
            self.sink.say(f"stopped {leftovers} processes left by a launcher that was killed")
        remote_mlflow = self.settings.resolved_mlflow_uri.startswith(("http://", "https://"))
        _check_ports(self.ports, self.options, remote_mlflow)
        await self._redis()
        await prepare(self.settings, self._step, self.sink.say)
        admin, operator = self._tokens()
        self.token = admin
        self._start_services(operator)
        missing = await self.supervisor.wait_ready(timeout_s=self.settings.launcher.ready_timeout_s)
        if missing:
            self.sink.say(
                f"not ready after the timeout: {', '.join(missing)} (see their lines above)"
            )
        token_file = self.state.write_token(admin) if admin else None
        urls = Urls(
            api=self.ports.api_url,
            dashboard=self.ports.dashboard_url if self.options.dashboard else None,
            mlflow=(
                self.settings.resolved_mlflow_uri
                if remote_mlflow
                else self.ports.mlflow_url
                if self.options.mlflow_ui
                else None
            ),
            redis=self.redis_url,
            embedded_redis=not self.settings.redis_url,
            log=self.sink.path,
            token_file=token_file,
        )
        text = banner(self.settings, urls, time.monotonic() - started, self.options.simulate)
        self.sink.say(text)
        if admin:  # on the terminal only: the log file never holds a credential
            print(f"\n    export TOKEN={admin}\n", flush=True)
        if self.options.simulate and admin:
            spec = plan.demo_spec(self.ports, self.env, admin, self.settings.dataset_path)
            self.supervisor.start(spec)

    async def stop(self) -> None:
        self.sink.say("stopping: traffic first, then consumers (they drain), then Redis")
        await self.supervisor.stop()
        self.state.release()
        self.sink.say("stopped; nothing is left running")


async def _serve(stack: Stack) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    first_signal: list[float] = []

    def on_signal() -> None:
        # A terminal's Ctrl-C or `timeout` may deliver the same stop twice at once: only a
        # signal a moment after the first means "stop waiting, kill everything".
        now = time.monotonic()
        if first_signal and now - first_signal[0] > SECOND_SIGNAL_AFTER_S:
            stack.sink.say("second signal: killing every process now")
            stack.supervisor.kill_all()
        first_signal[:1] = first_signal[:1] or [now]
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    starting = asyncio.create_task(stack.start())
    waiting = asyncio.create_task(stop.wait())
    code = 0
    try:
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            error = starting.exception()
            if error is not None:
                if not isinstance(error, StackError | PrepareError | LauncherBusyError):
                    raise error
                stack.sink.say(f"error: {error}")
                code = 1
            else:
                await waiting
        else:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
    finally:
        waiting.cancel()
        await stack.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return code


def run_stack(settings: Settings, options: UpOptions) -> int:
    """Run until signalled; the exit code (0 after a clean stop)."""
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = settings.launcher.log_file or settings.data_dir / "logs" / "up.log"
    sink = LogSink(sys.stdout, log, use_colour(settings.launcher.colour, sys.stdout))
    try:
        return asyncio.run(_serve(Stack(settings, options, sink)))
    finally:
        sink.close()
