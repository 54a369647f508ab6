"""The optional API key: with ``api.key`` set, data routes need the ``X-API-Key`` header."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

HEADER = "X-API-Key"
api_key_header = APIKeyHeader(name=HEADER, auto_error=False, description="The API key.")


def require_key(request: Request, given: str | None = Security(api_key_header)) -> None:
    """Let the request through when no key is configured or the header carries it.

    Raises:
        HTTPException: 401 when a key is configured and the header is missing or wrong.

    """
    expected: str | None = request.app.state.settings.api.key
    if expected is None:
        return
    if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"missing or wrong {HEADER} header",
            headers={"WWW-Authenticate": HEADER},
        )
