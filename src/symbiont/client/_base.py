"""What both clients share, without I/O: settings, requests, retry decisions, parsing.

Each API call is described by a :class:`Call` (method, path, query, JSON body and the parser
of its answer). The twin clients only send calls and sleep between attempts; everything they
decide is decided here, so both behave the same (httpx keeps ``BaseClient`` for this reason).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx

from symbiont.client.errors import (
    AuthError,
    ClientError,
    ConflictError,
    ConnectionError,  # noqa: A004 - the SDK's own error, re-raised under this name
    ForbiddenError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from symbiont.client.models import (
    AuditEvent,
    AuditVerification,
    Health,
    Job,
    JobFields,
    NextRun,
    Run,
)

_T = TypeVar("_T")
DEFAULT_URL = "http://127.0.0.1:8080"
"""Where the daemon listens when neither ``base_url`` nor ``SYMBI_URL`` says otherwise."""
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_DELAY_S = 10.0
# Failures before the request left the client: safe to retry any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after it may have reached the daemon: retried only when repeating is harmless.
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)
_BY_STATUS: dict[int, type[ClientError]] = {
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """The settings of one client, resolved from arguments and the environment."""

    base_url: str
    """The daemon's root URL, without ``/api/v1``."""
    api_key: str | None
    timeout_s: float
    retries: int
    """Extra attempts after the first one, for failures a retry may cure."""
    backoff_s: float
    """Delay before the first retry; it doubles each time, up to 10 s."""

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        api_key: str | None,
        environ: Mapping[str, str],
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float,
    ) -> ClientConfig:
        """Fill unset arguments from ``SYMBI_URL`` / ``SYMBI_API_KEY`` and check them.

        Raises:
            ValueError: the URL is not ``http(s)://...``, or a number is negative.
        """
        url = (base_url or environ.get("SYMBI_URL") or DEFAULT_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {url!r};"
                f" for example {DEFAULT_URL!r}"
            )
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError(
                f"timeout must be > 0 and retries, backoff >= 0; got timeout={timeout_s},"
                f" retries={retries}, backoff={backoff_s}"
            )
        key = api_key if api_key is not None else environ.get("SYMBI_API_KEY")
        return cls(
            base_url=url,
            api_key=key or None,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
        )

    @property
    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        headers = {"Accept": "application/json", "User-Agent": "symbiont-python-sdk"}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def timeout_for(self, call: Call[Any]) -> float:
        """The timeout of *call*: the client's, or longer when the call waits on purpose."""
        if call.timeout_s is None:
            return self.timeout_s
        return max(self.timeout_s, call.timeout_s)

    def delay_after_error(
        self, call: Call[Any], exc: httpx.RequestError, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying after *exc*, or ``None`` to give up."""
        retry = isinstance(exc, _NOT_SENT) or (call.idempotent and isinstance(exc, _MAYBE_SENT))
        return self._backoff(attempt) if retry and attempt <= self.retries else None

    def delay_after_response(
        self, call: Call[Any], response: httpx.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying after *response*, or ``None`` to keep it."""
        retry = call.idempotent and response.status_code in _RETRY_STATUSES
        if not retry or attempt > self.retries:
            return None
        after = response.headers.get("retry-after", "")
        if after.isdigit():
            return min(float(after), _MAX_DELAY_S)
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_s * 2.0 ** (attempt - 1), _MAX_DELAY_S)


class Send(Protocol):
    """How the sync client's namespaces send a call: ``send(call) -> result``."""

    def __call__(self, call: Call[_T], /) -> _T:
        """Send *call*, retrying as configured; return its result or raise `ClientError`."""
        ...


class AsyncSend(Protocol):
    """How the async client's namespaces send a call: ``await send(call) -> result``."""

    async def __call__(self, call: Call[_T], /) -> _T:
        """Send *call*, retrying as configured; return its result or raise `ClientError`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Generic[_T]):
    """One API call: the request to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[Any], _T]
    """Builds the result from the decoded JSON body."""
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    timeout_s: float | None = None
    """A longer timeout for calls that wait on the daemon (``run_now(wait=True)``)."""

    @property
    def idempotent(self) -> bool:
        """Whether sending the call twice has the same effect as once."""
        return self.method in _IDEMPOTENT


def build_request(
    http: httpx.Client | httpx.AsyncClient, call: Call[Any], config: ClientConfig
) -> httpx.Request:
    """The HTTP request of *call* (headers and base URL come from *http*)."""
    return http.build_request(
        call.method,
        call.path,
        params=call.params,
        json=call.json,
        timeout=config.timeout_for(call),
    )


def handle(call: Call[_T], response: httpx.Response) -> _T:
    """Read *response* to *call*: the parsed result, or the matching typed error.

    Raises:
        ClientError: the daemon answered with an error, or with JSON the client cannot read.
    """
    if response.is_success:
        try:
            return call.parse(response.json())
        except (ValueError, TypeError, KeyError) as exc:
            raise ClientError(
                f"unexpected response body: {exc}; is {response.url} a symbiont daemon?",
                status=response.status_code,
                code="BAD_RESPONSE",
                method=call.method,
                url=str(response.url),
            ) from exc
    raise error_for(call, response)


def error_for(call: Call[Any], response: httpx.Response) -> ClientError:
    """The typed error for an error *response* (``{"error", "code", "details"}`` body)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        message = str(body.get("error") or response.reason_phrase)
        code = str(body.get("code") or "ERROR")
        details = body.get("details")
    else:
        message = response.text[:200] or response.reason_phrase
        code, details = "ERROR", None
    where = {"method": call.method, "url": str(response.url)}
    if status in {400, 422}:
        problems = tuple(
            (str(p.get("field", "")), str(p.get("problem", "")))
            for p in (details if isinstance(details, list) else ())
            if isinstance(p, Mapping)
        )
        return ValidationError(
            message, problems=problems, status=status, code=code, details=details, **where
        )
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ClientError)  # noqa: PLR2004
    error = kind(message, status=status, code=code, details=details, **where)
    error.retryable = status in _RETRY_STATUSES
    return error


def connection_error(
    call: Call[Any], request: httpx.Request, exc: httpx.RequestError, attempts: int
) -> ConnectionError:
    """The error raised when the daemon could not be reached (or stopped answering)."""
    code = "TIMEOUT" if isinstance(exc, httpx.TimeoutException) else "CONNECTION_FAILED"
    origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return ConnectionError(
        f"cannot reach the symbiont daemon at {origin} ({tries}):"
        f" {str(exc) or type(exc).__name__}; is `symbi up` running there? (base_url / SYMBI_URL)",
        attempts=attempts,
        code=code,
        method=call.method,
        url=str(request.url),
    )


# -- the calls ---------------------------------------------------------------------------

_SCHEDULE = "/api/v1/schedule"


def _ref(ref: str) -> str:
    if not ref:
        raise ValueError(f"expected a job or run id (or job name), got {ref!r}")
    return quote(ref, safe="")


def _query(**values: Any) -> dict[str, str]:
    """Query parameters without the unset ones; booleans and times in their wire form."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
            params[name] = value.isoformat()
        else:
            params[name] = str(value)
    return params


def _body(fields: JobFields) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}


def _jobs(data: Any) -> builtins.list[Job]:
    return [Job.from_json(item) for item in data]


def _runs(data: Any) -> builtins.list[Run]:
    return [Run.from_json(item) for item in data]


def create_job(fields: JobFields) -> Call[Job]:
    """``POST /api/v1/schedule``."""
    return Call(method="POST", path=_SCHEDULE, json=_body(fields), parse=Job.from_json)


def list_jobs(**filters: Any) -> Call[builtins.list[Job]]:
    """``GET /api/v1/schedule`` with ``status``, ``agent_id``, ``name_prefix``, ``limit``..."""
    return Call(method="GET", path=_SCHEDULE, params=_query(**filters), parse=_jobs)


def get_job(ref: str) -> Call[Job]:
    """``GET /api/v1/schedule/{id}``."""
    return Call(method="GET", path=f"{_SCHEDULE}/{_ref(ref)}", parse=Job.from_json)


def update_job(ref: str, fields: JobFields) -> Call[Job]:
    """``PUT /api/v1/schedule/{id}``."""
    path = f"{_SCHEDULE}/{_ref(ref)}"
    return Call(method="PUT", path=path, json=_body(fields), parse=Job.from_json)


def delete_job(ref: str) -> Call[Job]:
    """``DELETE /api/v1/schedule/{id}``."""
    return Call(method="DELETE", path=f"{_SCHEDULE}/{_ref(ref)}", parse=Job.from_json)


def job_action(ref: str, action: str) -> Call[Job]:
    """``POST /api/v1/schedule/{id}/{pause|resume|reset}``."""
    return Call(method="POST", path=f"{_SCHEDULE}/{_ref(ref)}/{action}", parse=Job.from_json)


def run_job(ref: str, input: str | None, *, wait: bool, wait_timeout_s: float) -> Call[Run]:  # noqa: A002 - the API's name
    """``POST /api/v1/schedule/{id}/run[?wait=true]``."""
    return Call(
        method="POST",
        path=f"{_SCHEDULE}/{_ref(ref)}/run",
        params=_query(wait=True, wait_timeout=wait_timeout_s) if wait else {},
        json={"input": input},
        timeout_s=wait_timeout_s + 10 if wait else None,
        parse=Run.from_json,
    )


def history(ref: str, **filters: Any) -> Call[builtins.list[Run]]:
    """``GET /api/v1/schedule/{id}/history`` with ``status``, ``limit``, ``offset``."""
    path = f"{_SCHEDULE}/{_ref(ref)}/history"
    return Call(method="GET", path=path, params=_query(**filters), parse=_runs)


def next_run(ref: str, count: int) -> Call[NextRun]:
    """``GET /api/v1/schedule/{id}/next_run?count=N``."""
    path = f"{_SCHEDULE}/{_ref(ref)}/next_run"
    return Call(method="GET", path=path, params=_query(count=count), parse=NextRun.from_json)


def scheduler_health() -> Call[Health]:
    """``GET /api/v1/health/scheduler``."""
    return Call(method="GET", path="/api/v1/health/scheduler", parse=Health.from_json)


def get_run(run_id: str) -> Call[Run]:
    """``GET /api/v1/runs/{id}``."""
    return Call(method="GET", path=f"/api/v1/runs/{_ref(run_id)}", parse=Run.from_json)


def approve_run(run_id: str) -> Call[Run]:
    """``POST /api/v1/runs/{id}/approve``."""
    return Call(method="POST", path=f"/api/v1/runs/{_ref(run_id)}/approve", parse=Run.from_json)


def reject_run(run_id: str, reason: str | None) -> Call[Run]:
    """``POST /api/v1/runs/{id}/reject``."""
    path = f"/api/v1/runs/{_ref(run_id)}/reject"
    return Call(method="POST", path=path, json={"reason": reason}, parse=Run.from_json)


def list_approvals(limit: int | None) -> Call[builtins.list[Run]]:
    """``GET /api/v1/approvals``."""
    return Call(method="GET", path="/api/v1/approvals", params=_query(limit=limit), parse=_runs)


def query_audit(**filters: Any) -> Call[builtins.list[AuditEvent]]:
    """``GET /api/v1/audit`` with ``type``, ``since``, ``until``, ``job_id``, ``limit``..."""
    return Call(
        method="GET",
        path="/api/v1/audit",
        params=_query(**filters),
        parse=lambda data: [AuditEvent.from_json(item) for item in data],
    )


def verify_audit() -> Call[AuditVerification]:
    """``GET /api/v1/audit/verify``."""
    return Call(method="GET", path="/api/v1/audit/verify", parse=AuditVerification.from_json)
