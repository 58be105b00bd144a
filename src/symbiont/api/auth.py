"""Bearer API keys: several named keys, compared in constant time; the name is the actor."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from symbiont.api.app_state import state_of

ANONYMOUS = "anonymous"
"""The actor when the API has no keys (it then listens on loopback only)."""
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key of the daemon: `Authorization: Bearer <key>`.",
)
"""Declares the key in the OpenAPI document; `actor` does the checking itself."""


def match_key(keys: Mapping[str, str], presented: str) -> str | None:
    """Return the name of the key equal to *presented*, comparing every key in constant time."""
    found = None
    for name, key in keys.items():
        if hmac.compare_digest(key.encode(), presented.encode()):
            found = name
    return found


async def actor(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> str:
    """Authenticate the request; return the actor name, or raise 401."""
    keys = state_of(request).api_keys
    if not keys:
        return ANONYMOUS
    header = request.headers.get("authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "missing API key: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    name = match_key(keys, token.strip())
    if name is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return name


ActorDep = Annotated[str, Depends(actor)]
