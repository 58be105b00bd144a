"""Access to the application state from a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from fastapi import Request

if TYPE_CHECKING:
    from symbiont.api.app import AppState


def state_of(request: Request) -> AppState:
    """Return the `AppState` the app was created with."""
    return cast("AppState", request.app.state.symbiont)
