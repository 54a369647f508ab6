"""Click options backed by :class:`~discorecs.core.settings.Settings`: one name, one default."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from discorecs.core.settings import env_name, setting_default


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses NaN and infinities (a range lets NaN in)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, or a usage error naming the option."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def finite_option(
    *decls: str, default: float | None, zero: bool = False, **kwargs: Any
) -> Callable[[Any], Any]:
    """A click option taking a finite number above 0 (or from 0 with ``zero``): a rate, seconds.

    Args:
        *decls: The option's names.
        default: Its default (None: not given).
        zero: Whether 0 is allowed.
        **kwargs: Passed to :func:`click.option` (``help``, ``show_envvar`` …).

    """
    return click.option(
        *decls,
        type=FiniteRange(min=0.0, min_open=not zero),
        default=default,
        show_default=default is not None,
        **kwargs,
    )


def setting_option(*decls: str, setting: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option whose default and environment variable are those of a setting.

    ``--max-offsets`` backed by ``"streaming.max_offsets"`` reads
    ``DISCORECS_STREAMING_MAX_OFFSETS``, the variable :class:`Settings` reads, and defaults to
    the setting's own default, so the CLI and the settings can never disagree.

    Args:
        *decls: The option's names.
        setting: ``"group.field"`` of the setting.
        **kwargs: Passed to :func:`click.option` (``help`` …).

    """
    return click.option(
        *decls,
        default=setting_default(setting),
        envvar=env_name(setting),
        show_default=True,
        show_envvar=True,
        **kwargs,
    )


def count_option(*decls: str, default: int, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option taking a whole number of at least 1 (users, seeds, releases …).

    Args:
        *decls: The option's names.
        default: Its default.
        **kwargs: Passed to :func:`click.option` (``help``, ``show_envvar`` …).

    """
    return click.option(
        *decls, type=click.IntRange(min=1), default=default, show_default=True, **kwargs
    )


def share_option(*decls: str, default: float, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option taking a share between 0 and 1.

    Args:
        *decls: The option's names.
        default: Its default.
        **kwargs: Passed to :func:`click.option` (``help``, ``show_envvar`` …).

    """
    return click.option(
        *decls, type=click.FloatRange(0.0, 1.0), default=default, show_default=True, **kwargs
    )
