"""``POST /users/{id}/events``: an add, remove, view, play or want, produced to Kafka."""

from __future__ import annotations

from fastapi import APIRouter, status

from discorecs.app.api.context import Svc
from discorecs.app.api.errors import not_found
from discorecs.app.api.events import build_event
from discorecs.app.api.models import EventAccepted, EventIn, UserId

router = APIRouter(tags=["events"])


@router.post(
    "/users/{user_id}/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        404: {"description": "Unknown user or release."},
        422: {"description": "Invalid body or event, with the reason."},
        503: {"description": "Kafka did not acknowledge the event, with the reason."},
    },
)
def post_event(user_id: UserId, body: EventIn, svc: Svc) -> EventAccepted:
    """Record an event: validated by the event schema, acknowledged by Kafka, then 202.

    The stream applies it to Cassandra within seconds (an add shows in
    ``/users/{id}/recommendations?fresh=true`` once it did).
    """
    event = build_event(body.kind, user_id, body.release_id)
    if svc.reads.known(user_id) is None:
        raise not_found(f"unknown user {user_id}")
    if svc.reads.release(body.release_id) is None:
        raise not_found(f"unknown release {body.release_id}")
    svc.sender.send(event, key=user_id)
    return EventAccepted(
        event_id=event.event_id,
        topic=svc.settings.topic(event.topic_kind),
        kind=body.kind,
        event_time=event.event_time,
    )
