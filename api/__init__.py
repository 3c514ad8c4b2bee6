"""The FastAPI service: /predict and friends."""

from api.app import create_app

__all__ = ["create_app"]
