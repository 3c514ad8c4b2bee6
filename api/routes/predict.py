"""`POST /predict` and `POST /predict/batch`."""

from __future__ import annotations

import time

import orjson
from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.errors import ApiError
from api.security.guard import allow
from schemas.api import BatchPredictRequest, BatchPredictResponse, PredictRequest, PredictResponse
from spamops.settings import ApiSettings

__all__ = ["check_message", "router"]

router = APIRouter(tags=["predict"], dependencies=[allow("predict")])

_ERRORS: dict[int | str, dict[str, object]] = {
    422: {"description": "Invalid input (empty, too long, wrong types, invalid JSON)."},
    503: {"description": "No model is loaded yet."},
}


def check_message(text: str, limits: ApiSettings, where: str = "message") -> None:
    if not text.strip():
        raise ApiError(422, f"{where} is empty or only whitespace; send the SMS text")
    if len(text) > limits.max_message_chars:
        raise ApiError(
            422,
            f"{where} has {len(text)} characters; the limit is {limits.max_message_chars} "
            "(SPAMOPS_API__MAX_MESSAGE_CHARS)",
        )


def _request_id(request: Request, given: str | None) -> str:
    """The body's request id, else the header's (or the generated one): the access log and
    the prediction event then carry the same id, which the audit trail joins on."""
    if given:
        request.state.request_id = given
        return given
    return str(request.state.request_id)


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post("/predict", response_model=PredictResponse, responses=_ERRORS)
async def predict(body: PredictRequest, services: ServicesDep, request: Request) -> Response:
    """Classify one message. Publishes `prediction.made`; never waits for monitoring."""
    started = time.perf_counter()
    check_message(body.message, services.settings.api)
    request_id = _request_id(request, body.request_id)
    return _json(services.predictor.predict(body.message, body.client_id, request_id, started))


@router.post("/predict/batch", response_model=BatchPredictResponse, responses=_ERRORS)
async def predict_batch(
    body: BatchPredictRequest, services: ServicesDep, request: Request
) -> Response:
    """Classify up to `max_batch` messages in one call; one `prediction.made` per message."""
    started = time.perf_counter()
    limits = services.settings.api
    if not body.messages:
        raise ApiError(422, "messages is empty; send at least one message")
    if len(body.messages) > limits.max_batch:
        raise ApiError(
            422,
            f"{len(body.messages)} messages in one batch; the limit is {limits.max_batch} "
            "(SPAMOPS_API__MAX_BATCH): split the batch",
        )
    for i, item in enumerate(body.messages):
        check_message(item.message, limits, f"messages.{i}.message")
    fallback = _request_id(request, None)
    items = [(m.message, m.client_id, m.request_id or fallback) for m in body.messages]
    return _json({"predictions": services.predictor.predict_batch(items, started)})
