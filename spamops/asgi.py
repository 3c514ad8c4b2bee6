"""The API's composition root: settings from the environment, Redis, the model registry.

`python -m spamops.asgi` (what `spamops serve` and the launcher run) starts uvicorn with
`create` as the app factory; uvicorn calls it in every worker process, so nothing is built
at import time. This module is also the fast way in: it does not import the CLI.
"""

from __future__ import annotations

import argparse
import os
import shutil

from fastapi import FastAPI

from api.app import create_app
from bus.connection import connect
from ml.isolated_registry import IsolatedRegistry
from spamops.logs import configure_logging
from spamops.runtime import redis_url
from spamops.settings import Settings, load_settings

__all__ = ["build_app", "create", "serve"]


def build_app(settings: Settings) -> FastAPI:
    return create_app(
        settings,
        redis=lambda: connect(redis_url(settings), settings.bus),
        registry=lambda: IsolatedRegistry(settings),
    )


def create() -> FastAPI:
    return build_app(load_settings())


def serve(host: str, port: int, workers: int = 1, settings: Settings | None = None) -> None:
    """Serve until SIGTERM/Ctrl-C (uvloop, httptools, no access log: every call is an
    `access.recorded` event instead)."""
    import uvicorn

    settings = settings or load_settings()
    configure_logging("api", settings.log_level, settings.log_format)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers are separate processes: Prometheus samples go to shared files (api.metrics).
        directory = settings.data_dir / "prometheus" / f"api-{os.getpid()}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    uvicorn.run(
        "spamops.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON formatter configured above
        timeout_graceful_shutdown=10,
    )


def main(argv: list[str] | None = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Serve the spamops HTTP API.")
    parser.add_argument("--host", default=settings.api.host)
    parser.add_argument("--port", type=int, default=settings.api.port)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers, settings)


if __name__ == "__main__":
    main()
