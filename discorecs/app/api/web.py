"""The web app: one HTML page whose script draws the user and operations views (no CDN).

``/``, ``/ui/users/{id}`` and ``/ui/ops`` all serve the same page; its script reads the path
and calls the API. The page and its static files carry no data, so they need no API key: the
page asks for the key when the API answers 401 and sends it as ``X-API-Key``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PACKAGE = "discorecs.app.api"
STATIC = "static"

router = APIRouter(include_in_schema=False)


def page() -> str:
    """The page shell (``static/index.html``)."""
    return (files(PACKAGE) / STATIC / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    """The search page."""
    return HTMLResponse(page())


@router.get("/ui/{view:path}", response_class=HTMLResponse)
def view(view: str) -> HTMLResponse:
    """A user page (``/ui/users/{id}``) or the dashboard (``/ui/ops``)."""
    return HTMLResponse(page())


def static_files() -> StaticFiles:
    """The script, styles and icons, served from the package."""
    return StaticFiles(packages=[(PACKAGE, STATIC)])
