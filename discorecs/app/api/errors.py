"""Error answers: a status and a one-line ``detail``, never a traceback.

Bad input is a 4xx saying what is wrong; a service that is down (Cassandra, Kafka) is a 503
saying which; anything else is logged and answered with a bare 500, the last resort.
"""

from __future__ import annotations

from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from confluent_kafka import KafkaException
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from discorecs.app.api.events import InvalidEvent, KafkaUnavailable
from discorecs.core.logs import get_logger

log = get_logger("api")
MAX_DETAIL = 300


def one_line(text: str) -> str:
    """The first line of ``text``, at most :data:`MAX_DETAIL` characters."""
    first = (text.strip().splitlines() or [""])[0]
    return first if len(first) <= MAX_DETAIL else first[: MAX_DETAIL - 1] + "…"


def not_found(what: str) -> HTTPException:
    """A 404 with a one-line reason."""
    return HTTPException(status.HTTP_404_NOT_FOUND, what)


def validation_reason(error: RequestValidationError) -> str:
    """Pydantic's errors as ``where: what`` pairs on one line.

    A body that is not JSON says so with the decoder's offset (from 0) and reason: FastAPI puts
    the offset where a field name would be.
    """
    parts = []
    for item in error.errors():
        loc = item.get("loc", ())
        if item.get("type") == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int):
            reason = item.get("ctx", {}).get("error", "")
            parts.append(f"{loc[0]}: not JSON at offset {loc[1]} ({reason})")
            continue
        where = ".".join(str(p) for p in loc)
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return one_line("; ".join(parts) or "invalid request")


def _answer(code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": one_line(detail)}, status_code=code)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return _answer(status.HTTP_422_UNPROCESSABLE_CONTENT, validation_reason(error))

    @app.exception_handler(InvalidEvent)
    async def invalid_event(_: Request, error: InvalidEvent) -> JSONResponse:
        return _answer(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid event: {error}")

    @app.exception_handler(KafkaUnavailable)
    async def kafka_unavailable(_: Request, error: KafkaUnavailable) -> JSONResponse:
        return _answer(status.HTTP_503_SERVICE_UNAVAILABLE, str(error))

    @app.exception_handler(KafkaException)
    async def kafka_error(_: Request, error: KafkaException) -> JSONResponse:
        return _answer(status.HTTP_503_SERVICE_UNAVAILABLE, f"kafka unavailable: {error}")

    async def cassandra_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("cassandra_unavailable", path=request.url.path, error=one_line(str(error)))
        return _answer(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"cassandra unavailable: {type(error).__name__}",
        )

    for kind in (NoHostAvailable, OperationTimedOut, RequestExecutionException):
        app.add_exception_handler(kind, cassandra_unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error(
            "unhandled_error",
            path=request.url.path,
            error=type(error).__name__,
            message=one_line(str(error)),
        )
        return _answer(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal error (logged)")
