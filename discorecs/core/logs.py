"""Structured logging: one ``key=value`` line per event, on stderr."""

from __future__ import annotations

import logging
import sys
from typing import Any

_CONFIGURED = False


class KeyValueFormatter(logging.Formatter):
    """Formats ``log(event, **fields)`` records as ``ts level logger event k=v ...``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as a single line."""
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            record.name,
            record.getMessage(),
        ]
        parts += [f"{key}={_render(value)}" for key, value in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _render(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def configure(level: int = logging.INFO) -> None:
    """Send discorecs logs to stderr in key=value form (idempotent)."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("discorecs")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    _CONFIGURED = True


class StructuredLogger:
    """A logger taking an event name and keyword fields: ``log.info("loaded", rows=3)``."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(f"discorecs.{name}")

    def _log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, event, extra={"fields": fields})

    def debug(self, event: str, **fields: Any) -> None:
        """Log at DEBUG."""
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        """Log at INFO."""
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Log at WARNING."""
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        """Log at ERROR."""
        self._log(logging.ERROR, event, fields)


def get_logger(name: str) -> StructuredLogger:
    """Return the structured logger ``discorecs.<name>``."""
    return StructuredLogger(name)
