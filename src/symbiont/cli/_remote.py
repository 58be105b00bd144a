"""`RemoteBackend`: the CLI's job commands against a daemon's HTTP API (``--url``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Self

import httpx

from symbiont.cli._backend import Json
from symbiont.core.errors import (
    ConflictError,
    JobNotFound,
    NotAllowed,
    StoreUnavailable,
    SymbiontError,
    ValidationError,
)


class RemoteError(SymbiontError):
    """The daemon answered with an error this CLI has no better type for."""


class RemoteBackend:
    """`Backend` over HTTP: the same JSON the local backend produces."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self._url = url

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, api_key: str | None) -> AsyncIterator[Self]:
        """Connect to the daemon at *url* with *api_key*."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=30) as http:
            yield cls(http, url)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(self._url, f"cannot reach the daemon: {exc}") from None
        if response.is_success:
            return response.json()
        _raise(response, path)
        return None

    async def list_jobs(
        self, status: str | None, agent: str | None, prefix: str | None, limit: int
    ) -> list[Json]:
        params = {"status": status, "agent_id": agent, "name_prefix": prefix, "limit": limit}
        clean = {k: v for k, v in params.items() if v is not None}
        result: list[Json] = await self._call("GET", "/api/v1/schedule", params=clean)
        return result

    async def get_job(self, ref: str) -> Json:
        result: Json = await self._call("GET", f"/api/v1/schedule/{ref}")
        return result

    async def create_job(self, fields: Mapping[str, Any]) -> Json:
        result: Json = await self._call("POST", "/api/v1/schedule", json=dict(fields))
        return result

    async def delete_job(self, ref: str) -> Json:
        result: Json = await self._call("DELETE", f"/api/v1/schedule/{ref}")
        return result

    async def change(self, ref: str, action: str) -> Json:
        result: Json = await self._call("POST", f"/api/v1/schedule/{ref}/{action}")
        return result

    async def run_now(self, ref: str, text: str | None) -> Json:
        result: Json = await self._call("POST", f"/api/v1/schedule/{ref}/run", json={"input": text})
        return result

    async def history(self, ref: str, status: str | None, limit: int) -> list[Json]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        result: list[Json] = await self._call(
            "GET", f"/api/v1/schedule/{ref}/history", params=params
        )
        return result

    async def next_runs(self, ref: str, count: int) -> list[str]:
        body = await self._call("GET", f"/api/v1/schedule/{ref}/next_run", params={"count": count})
        return list(body["next_runs"])

    async def audit(self, kind: str | None, since: datetime | None, limit: int) -> list[Json]:
        params: dict[str, Any] = {"limit": limit}
        if kind:
            params["type"] = kind
        if since:
            params["since"] = since.isoformat()
        result: list[Json] = await self._call("GET", "/api/v1/audit", params=params)
        return result

    async def verify_audit(self) -> Json:
        result: Json = await self._call("GET", "/api/v1/audit/verify")
        return result

    async def backfill(self, ref: str, start: datetime, end: datetime, dry_run: bool) -> Json:
        del ref, start, end, dry_run
        raise RemoteError("backfill runs on the local store only (use --db), not through --url")


_NOT_FOUND, _UNAUTHORIZED, _FORBIDDEN, _CONFLICT = 404, 401, 403, 409


def _raise(response: httpx.Response, path: str) -> None:
    try:
        message = str(response.json().get("error", response.text))
    except ValueError:
        message = response.text or response.reason_phrase
    status = response.status_code
    if status == _NOT_FOUND:
        raise JobNotFound(path.removeprefix("/api/v1/schedule/").split("/")[0])
    if status == _UNAUTHORIZED:
        raise RemoteError(f"the daemon refused the API key: {message}")
    if status == _FORBIDDEN:
        raise NotAllowed("this API key", f"call {path}", ())
    if status == _CONFLICT:
        raise ConflictError(message)
    if 400 <= status < 500:  # noqa: PLR2004 - the client-error range
        raise ValidationError([("request", message)])
    raise RemoteError(f"the daemon answered {status}: {message}")
