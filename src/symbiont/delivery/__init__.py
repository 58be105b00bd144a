"""Delivery routing: sends each finished run's output to the channels its job names.

``build_router(settings)`` gives a `DefaultDeliveryRouter` with the built-in channels
(``stdout``, ``log_file``, ``webhook``, ``slack``, ``email``) and the ``custom:NAME``
ones; ``await router.deliver_all(job, run, output)`` delivers to every channel of the job
(as its ``deliver_on`` allows) and returns one `DeliveryResult` per channel.
"""

from __future__ import annotations

from symbiont.core.errors import DeliveryError
from symbiont.core.models import DeliveryResult
from symbiont.delivery.base import Channel, DeliveryRouter
from symbiont.delivery.build import build_router
from symbiont.delivery.custom import CustomChannel
from symbiont.delivery.email import EmailChannel
from symbiont.delivery.logfile import LogFileChannel
from symbiont.delivery.router import DefaultDeliveryRouter
from symbiont.delivery.settings import (
    DeliverySettings,
    EmailSettings,
    LogFileSettings,
    RetrySettings,
    SlackSettings,
    WebhookSettings,
)
from symbiont.delivery.slack import SlackChannel
from symbiont.delivery.stdout import StdoutChannel
from symbiont.delivery.webhook import WebhookChannel

__all__ = (
    "Channel",
    "CustomChannel",
    "DefaultDeliveryRouter",
    "DeliveryError",
    "DeliveryResult",
    "DeliveryRouter",
    "DeliverySettings",
    "EmailChannel",
    "EmailSettings",
    "LogFileChannel",
    "LogFileSettings",
    "RetrySettings",
    "SlackChannel",
    "SlackSettings",
    "StdoutChannel",
    "WebhookChannel",
    "WebhookSettings",
    "build_router",
)
