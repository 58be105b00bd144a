"""``custom:NAME`` channels: classes registered by entry point or named in the config.

A package registers a channel in its ``pyproject.toml``::

    [project.entry-points."symbiont.delivery"]
    pager = "acme_pager.symbiont:PagerChannel"

or the daemon's config names one: ``[scheduler.delivery.custom_channels] pager =
"acme_pager.symbiont:PagerChannel"`` (the config wins over an entry point of the same
name). Jobs then list ``custom:pager``. The class is imported and built, with the
`DeliverySettings`, the first time a run is delivered to it, so a broken plug-in fails
its own deliveries (with the reason) and never the daemon's start.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery.base import Channel
from symbiont.delivery.settings import DeliverySettings

__all__ = ("ENTRY_POINT_GROUP", "CustomChannel", "custom_channels", "load_object")

ENTRY_POINT_GROUP = "symbiont.delivery"
"""The entry-point group custom channel classes are registered in."""


def load_object(reference: str) -> Any:
    """Import ``"pkg.module:Attr"`` (``Attr`` may be dotted) and return the object.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
        ValueError: *reference* is not of the form ``module:attribute``.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{reference!r} is not of the form 'pkg.module:Class'")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


class CustomChannel:
    """A ``custom:NAME`` channel: loads its class on first use and delegates to it.

    Args:
        name: ``NAME`` (without ``custom:``).
        target: ``"pkg.module:Class"`` or an entry point.
        settings: passed to the class's constructor.
    """

    def __init__(self, name: str, target: str | EntryPoint, settings: DeliverySettings) -> None:
        self.name = f"custom:{name}"
        self.target = target
        self._settings = settings
        self._channel: Channel | None = None

    @property
    def source(self) -> str:
        """Where the class comes from, for messages."""
        if isinstance(self.target, EntryPoint):
            return f"entry point {self.target.value!r} (group {ENTRY_POINT_GROUP!r})"
        return f"{self.target!r} ([scheduler.delivery.custom_channels])"

    @property
    def retry_attempts(self) -> int | None:
        """The loaded channel's own ``retry_attempts``, if it declares one."""
        try:
            own = getattr(self.load(), "retry_attempts", None)
        except DeliveryError:
            return 0
        return own if isinstance(own, int) else None

    def load(self) -> Channel:
        """Import and build the channel once.

        Raises:
            DeliveryError: the class cannot be imported or built, or has no ``deliver``.
        """
        if self._channel is not None:
            return self._channel
        try:
            factory = (
                self.target.load()
                if isinstance(self.target, EntryPoint)
                else load_object(self.target)
            )
        except Exception as exc:  # noqa: BLE001 - any import failure is reported, not raised
            raise self._failure(f"cannot import it: {type(exc).__name__}: {exc}") from None
        if not callable(factory):
            raise self._failure("it is not a class or factory")
        try:
            channel: Channel = factory(self._settings)
        except Exception as exc:  # noqa: BLE001 - a plug-in's constructor may fail any way
            raise self._failure(f"building it failed: {type(exc).__name__}: {exc}") from None
        if not inspect.iscoroutinefunction(getattr(channel, "deliver", None)):
            raise self._failure("it has no 'async def deliver(self, job, run, output)'")
        self._channel = channel
        return channel

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        await self.load().deliver(job, run, output)

    def _failure(self, problem: str) -> DeliveryError:
        return DeliveryError(self.name, f"custom channel from {self.source}: {problem}")


def custom_channels(
    settings: DeliverySettings, discovered: Mapping[str, EntryPoint] | None = None
) -> dict[str, CustomChannel]:
    """The ``custom:NAME`` channels from entry points and ``settings.custom_channels``.

    Args:
        settings: the delivery settings (its ``custom_channels`` win over entry points).
        discovered: entry points by name; the installed ``symbiont.delivery`` group when
            ``None``.

    Returns:
        Channels keyed by ``custom:NAME``; nothing is imported yet.
    """
    if discovered is None:
        discovered = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    targets: dict[str, str | EntryPoint] = {**discovered, **settings.custom_channels}
    return {
        f"custom:{name}": CustomChannel(name, target, settings)
        for name, target in sorted(targets.items())
    }
