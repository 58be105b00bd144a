"""`build_router`: the delivery router with every built-in channel and the custom ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TextIO

from symbiont.core.clock import Clock, SystemClock
from symbiont.delivery.base import Channel
from symbiont.delivery.custom import custom_channels
from symbiont.delivery.email import EmailChannel
from symbiont.delivery.logfile import LogFileChannel
from symbiont.delivery.router import DefaultDeliveryRouter
from symbiont.delivery.settings import DeliverySettings
from symbiont.delivery.slack import SlackChannel
from symbiont.delivery.stdout import StdoutChannel
from symbiont.delivery.webhook import WebhookChannel

__all__ = ("build_router",)


def build_router(
    settings: DeliverySettings,
    environ: Mapping[str, str] | None = None,
    extra: Mapping[str, Channel] | None = None,
    *,
    clock: Clock | None = None,
    stdout: TextIO | None = None,
) -> DefaultDeliveryRouter:
    """Build the router: ``stdout log_file webhook slack email`` plus ``custom:NAME``.

    Custom channels come from the ``symbiont.delivery`` entry points and
    ``settings.custom_channels``; they are imported on first use. Nothing is contacted here.

    Args:
        settings: the delivery settings.
        environ: the variables templates resolve against; replaces ``settings.environ``
            when given.
        extra: more channels by name (tests, embedders); they win over the others.
        clock: stamps log lines and webhook timestamps, and paces retries.
        stdout: the stream of the ``stdout`` channel (``sys.stdout`` by default).

    Returns:
        A `DefaultDeliveryRouter` over all those channels.
    """
    if environ is not None:
        settings = dataclasses.replace(settings, environ=dict(environ))
    clock = clock or SystemClock()
    channels: dict[str, Channel] = {
        "stdout": StdoutChannel(settings, stream=stdout),
        "log_file": LogFileChannel(settings, clock=clock),
        "webhook": WebhookChannel(settings, clock=clock),
        "slack": SlackChannel(settings),
        "email": EmailChannel(settings, clock=clock),
    }
    channels.update(custom_channels(settings))
    channels.update(extra or {})
    return DefaultDeliveryRouter(channels, settings, clock=clock)
