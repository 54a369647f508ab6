"""What every request shares: the settings, the one Cassandra session, the producer, the views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from cassandra.cluster import Cluster, Session
from fastapi import Depends, Request

from discorecs.app.api.events import EventSender
from discorecs.app.api.pipeline import Pipeline
from discorecs.app.api.reads import Reads
from discorecs.core.cassandra import connect
from discorecs.core.settings import Settings


@dataclass
class Services:
    """The process's connections, opened at startup and closed at shutdown."""

    settings: Settings
    cluster: Cluster
    session: Session
    reads: Reads
    sender: EventSender
    pipeline: Pipeline

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Connect to Cassandra, prepare every statement, start the producer."""
        cluster, session = connect(settings)
        try:
            reads = Reads.of(session, settings)
            sender = EventSender(settings)
        except Exception:
            cluster.shutdown()
            raise
        return cls(settings, cluster, session, reads, sender, Pipeline(settings, reads, sender))

    def close(self) -> None:
        """Flush the producer, close the consumer and the Cassandra session."""
        try:
            self.pipeline.close()
            self.sender.close()
        finally:
            self.cluster.shutdown()


def services(request: Request) -> Services:
    """The running app's :class:`Services` (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


Svc = Annotated[Services, Depends(services)]
"""A route parameter receiving the running app's :class:`Services`."""
