"""The one table from errors to HTTP status codes, and the JSON error body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from symbiont.core.errors import (
    ConfigError,
    ConflictError,
    JobNotFound,
    NotAllowed,
    RunNotFound,
    StoreUnavailable,
    SymbiontError,
    ValidationError,
)

_STATUS: tuple[tuple[type[SymbiontError], int, str], ...] = (
    (JobNotFound, 404, "NOT_FOUND"),
    (RunNotFound, 404, "NOT_FOUND"),
    (ValidationError, 422, "INVALID"),
    (ConfigError, 400, "INVALID"),
    (NotAllowed, 403, "FORBIDDEN"),
    (ConflictError, 409, "CONFLICT"),
    (StoreUnavailable, 503, "UNAVAILABLE"),
)


def error_body(message: str, code: str, details: object = None) -> dict[str, object]:
    """The API's error shape: ``{"error", "code", "details"}``."""
    return {"error": message, "code": code, "details": details}


def _status_of(exc: SymbiontError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "INTERNAL"


async def _symbiont(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SymbiontError)  # noqa: S101 - registered for this type only
    status, code = _status_of(exc)
    details = (
        [{"field": f, "problem": p} for f, p in exc.problems]
        if isinstance(exc, ValidationError)
        else None
    )
    return JSONResponse(error_body(str(exc), code, details), status_code=status)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = [
        {"field": ".".join(str(p) for p in e["loc"][1:]), "problem": e["msg"]} for e in exc.errors()
    ]
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return JSONResponse(error_body(f"invalid request: {text}", "INVALID", problems), 422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    code = {
        400: "INVALID",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "NOT_ALLOWED",
        504: "TIMEOUT",
    }
    headers = dict(getattr(exc, "headers", None) or {})
    allowed = _documented_methods(request) if exc.status_code == 405 else []  # noqa: PLR2004
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    return JSONResponse(
        error_body(str(exc.detail), code.get(exc.status_code, "ERROR")),
        status_code=exc.status_code,
        headers=headers or None,
    )


def _documented_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives this path (Starlette's 405 names one route's)."""
    got = request.url.path.split("/")
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        want = template.split("/")
        if len(want) == len(got) and all(
            w == g or (w[:1] == "{" and w[-1:] == "}" and g) for w, g in zip(want, got, strict=True)
        ):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the error handlers on *app*."""
    app.add_exception_handler(SymbiontError, _symbiont)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
