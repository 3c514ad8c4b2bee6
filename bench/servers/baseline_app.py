"""The baseline of the serving benchmark: the smallest FastAPI wrapper around the sklearn
pipeline that an engineer would write first. No events, no validation beyond pydantic.

Run: SPAMOPS_BENCH_MODEL_URI=models:/spam-classifier@champion \
    uvicorn bench.servers.baseline_app:create --factory
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class Body(BaseModel):
    message: str


def create() -> FastAPI:
    import mlflow.sklearn

    pipeline: Any = mlflow.sklearn.load_model(os.environ["SPAMOPS_BENCH_MODEL_URI"])
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: Body) -> dict[str, Any]:
        p = float(pipeline.predict_proba([body.message])[0, 1])
        return {"label": "spam" if p >= 0.5 else "ham", "spam_probability": p}

    return app
