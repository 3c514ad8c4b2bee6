"""`python -m ml.sync`: fetch a model version from MLflow into the local cache, print JSON.

The serving process runs this as a short-lived child instead of importing MLflow itself
(~1.3 s of import and ~150 MB of resident memory per API worker, and an HTTP client whose
retries could stall the event loop's threads). Input: the MLflow-related settings as JSON
on stdin; output: `{"version": N, "alias": ...}` on stdout, or an error and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

__all__ = ["main", "sync_settings"]


def sync_settings(settings: Any) -> bytes:
    """What the child needs of the parent's settings (no secrets)."""
    return orjson.dumps(
        {
            "env": settings.env,
            "data_dir": str(settings.data_dir),
            "mlflow_tracking_uri": settings.resolved_mlflow_uri,
            "model": settings.model.model_dump(mode="json"),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--alias", choices=["champion", "challenger"])
    target.add_argument("--version", type=int)
    args = parser.parse_args(argv)

    from ml.errors import MLError
    from ml.registry import ModelRegistry
    from spamops.settings import Settings

    settings = Settings(_env_file=None, **orjson.loads(sys.stdin.buffer.read()))
    registry = ModelRegistry(settings)
    try:
        if args.alias:
            model = registry.load(args.alias)
            degraded = model.degraded
        else:
            model = registry.load_version(args.version)
            degraded = False
    except MLError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    out = {"version": model.ref.version, "alias": args.alias, "degraded": degraded}
    sys.stdout.buffer.write(orjson.dumps(out) + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
