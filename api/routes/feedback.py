"""`POST /feedback`: the ground truth for an earlier prediction."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import ServicesDep
from api.security.guard import allow
from schemas.api import FeedbackAccepted, FeedbackRequest
from schemas.events import FeedbackReceived
from schemas.traffic import Feedback

__all__ = ["router"]

router = APIRouter(tags=["feedback"], dependencies=[allow("feedback")])


@router.post("/feedback", status_code=status.HTTP_202_ACCEPTED, response_model=FeedbackAccepted)
async def feedback(body: FeedbackRequest, services: ServicesDep) -> FeedbackAccepted:
    """Record the true label of a prediction. Accepted at once; joined to the prediction by
    the consumers (a label for an unknown prediction id is kept and joined if it arrives)."""
    event = FeedbackReceived(
        source=services.settings.source("api"),
        correlation=body.prediction_id,  # the prediction's event id: one chain per message
        payload=Feedback(prediction_id=body.prediction_id, label=body.label, source="api"),
    )
    services.publisher.enqueue(event)
    return FeedbackAccepted(event_id=event.id, prediction_id=body.prediction_id, label=body.label)
