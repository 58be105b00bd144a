"""The errors the SDK raises, one class per kind of failure, each carrying the HTTP facts.

The tree hangs under :class:`symbiont.SymbiontError`::

    ClientError            any failed call; status, code and message as the daemon sent them
    ├── AuthError          401: no API key, or a wrong one
    ├── ForbiddenError     403: the key's actor may not do this
    ├── NotFoundError      404: no job or run with this id or name (also a LookupError)
    ├── ConflictError      409: a duplicate name, or a state that forbids the change
    ├── ValidationError    400/422: the request breaks rules; ``problems`` lists them
    ├── ServerError        5xx: the daemon failed or is unavailable
    └── ConnectionError    the daemon could not be reached, after the retries

Catch ``ClientError`` for every failure, or one subclass for one case.
"""

from __future__ import annotations

import builtins

from symbiont.core.errors import SymbiontError


class ClientError(SymbiontError):
    """A call to the daemon failed.

    Attributes:
        message: what went wrong, as the daemon (or the client) put it.
        status: the HTTP status, or ``None`` when no response arrived.
        code: the daemon's error code (``NOT_FOUND``, ``INVALID``...), or the client's
            (``CONNECTION_FAILED``, ``TIMEOUT``, ``BAD_RESPONSE``).
        details: the ``details`` member of the error body, as sent.
        method: the HTTP method of the failed call.
        url: the URL of the failed call.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "ERROR",
        details: object = None,
        method: str = "",
        url: str = "",
    ) -> None:
        where = f" ({method} {url})" if method else ""
        prefix = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{prefix}{message}{where}")
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.method = method
        self.url = url


class AuthError(ClientError):
    """401: the request had no API key, or a key the daemon does not know.

    Pass ``api_key=`` or set ``SYMBI_API_KEY`` to the daemon's key.
    """


class ForbiddenError(ClientError):
    """403: the key is valid, but its actor may not do this (approve a run, for example)."""


class NotFoundError(ClientError, LookupError):
    """404: no job or run has this id or name."""


class ConflictError(ClientError):
    """409: the current state forbids the change (a duplicate name, resuming an active job)."""


class ValidationError(ClientError, ValueError):
    """400/422: the request breaks one or more rules; nothing was changed.

    Attributes:
        problems: ``(field, problem)`` pairs, one per broken rule, in the daemon's order.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: tuple[tuple[str, str], ...] = (),
        status: int | None = 422,
        code: str = "INVALID",
        details: object = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message, status=status, code=code, details=details, method=method, url=url)
        self.problems = problems


class ServerError(ClientError):
    """5xx: the daemon failed, or its store is unavailable (503); ``retryable`` says which."""


class ConnectionError(ClientError, builtins.ConnectionError):  # noqa: A001 - the SDK's own name, catchable as the builtin too
    """The daemon could not be reached, or stopped answering, after every retry.

    Attributes:
        attempts: how many times the request was tried.
    """

    retryable = True

    def __init__(
        self, message: str, *, attempts: int, code: str, method: str = "", url: str = ""
    ) -> None:
        super().__init__(message, code=code, method=method, url=url)
        self.attempts = attempts
