"""The exception tree of symbiont.

Every error symbiont raises on purpose derives from :class:`SymbiontError`::

    SymbiontError
    ├── CronError            a cron expression or time zone that cannot be used
    ├── DslError             a .symbi file that cannot be parsed or validated
    ├── ConfigError          a configuration file, variable or flag that cannot be used
    ├── ValidationError      a job definition or request that breaks a rule (API 422)
    ├── AgentRunError        an agent invocation failed (non-zero exit, HTTP error...)
    ├── DeliveryError        a channel could not deliver a run's output
    ├── PolicyError          a policy could not be evaluated
    │   └── AgentPinError    an AgentPin credential did not verify
    ├── NotAllowed           the actor may not do this (API 403)
    ├── ConflictError        a change the current state does not allow (API 409)
    │   ├── DuplicateJobName
    │   └── InvalidTransition
    └── StoreError           the job store failed or holds something unexpected
        ├── JobNotFound      (also a LookupError; API 404)
        ├── RunNotFound      (also a LookupError; API 404)
        ├── SchemaVersionError
        └── StoreUnavailable (retryable)

Constructors take structured arguments, build the message themselves and keep the data
as attributes, so callers (the API's error table, the CLI's exit codes) never parse text.
"""

from __future__ import annotations


class SymbiontError(Exception):
    """Root of every error symbiont raises on purpose.

    Attributes:
        retryable: whether trying the same operation again may succeed.
    """

    retryable: bool = False


class CronError(SymbiontError, ValueError):
    """A cron expression, one of its fields, or its time zone is invalid.

    Attributes:
        expression: the whole expression as given.
        field: the field name (``"minute"``, ``"day of week"``...) or ``None`` when the
            problem is the expression as a whole (wrong field count, time zone).
        token: the offending token, or ``None``.
        allowed: the allowed range or forms, or ``None``.
    """

    def __init__(
        self,
        expression: str,
        problem: str,
        *,
        field: str | None = None,
        token: str | None = None,
        allowed: str | None = None,
    ) -> None:
        parts = [f"invalid cron expression {expression!r}:"]
        if field is not None:
            parts.append(f"{field} field:")
        parts.append(problem)
        if token is not None:
            parts.append(f"(got {token!r}")
            parts[-1] += f"; allowed: {allowed})" if allowed is not None else ")"
        elif allowed is not None:
            parts.append(f"(allowed: {allowed})")
        super().__init__(" ".join(parts))
        self.expression = expression
        self.problem = problem
        self.field = field
        self.token = token
        self.allowed = allowed


class DslError(SymbiontError, ValueError):
    """A ``.symbi`` file that cannot be parsed or does not validate.

    The message reads ``file:line:col: problem``, so editors and terminals can jump to it.

    Attributes:
        path: the file (or ``"<string>"``).
        line: 1-based line of the problem.
        column: 1-based column of the problem.
        problem: what is wrong, without the location.
        key: the key concerned, when there is one.
        suggestion: a did-you-mean replacement, when one is close enough.
    """

    def __init__(
        self,
        path: str,
        line: int,
        column: int,
        problem: str,
        *,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        message = f"{path}:{line}:{column}: {problem}"
        if suggestion is not None:
            message += f" (did you mean {suggestion!r}?)"
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        self.key = key
        self.suggestion = suggestion


class ConfigError(SymbiontError, ValueError):
    """The configuration cannot be used; start-up stops with this message.

    Attributes:
        source: where the bad value came from (a file path, ``environment``, ``flag``).
        key: the dotted key (``scheduler.max_jitter_seconds``).
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


class ValidationError(SymbiontError, ValueError):
    """A job definition or request breaks one or more rules; nothing was changed.

    Attributes:
        problems: ``(field, message)`` pairs, one per broken rule.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        text = "; ".join(f"{name}: {message}" for name, message in problems)
        super().__init__(f"invalid job definition: {text}")
        self.problems = problems


class AgentRunError(SymbiontError):
    """An agent invocation failed; the run records ``message`` as its error.

    Attributes:
        agent: the agent's name.
        retryable: whether the same invocation may succeed later (a timeout, a 503).
    """

    def __init__(self, agent: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"agent {agent!r} failed: {message}")
        self.agent = agent
        self.reason = message
        self.retryable = retryable


class DeliveryError(SymbiontError):
    """A channel could not deliver; *retryable* says whether trying again may help.

    Attributes:
        channel: the channel name.
        reason: what went wrong (never a resolved secret).
    """

    def __init__(self, channel: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(f"delivery to {channel} failed: {reason}")
        self.channel = channel
        self.reason = reason
        self.retryable = retryable


class PolicyError(SymbiontError):
    """A policy condition could not be evaluated."""


class AgentPinError(PolicyError):
    """An AgentPin credential did not verify; the run is denied with this reason.

    Attributes:
        reason: a short, specific reason (``expired``, ``wrong issuer``...).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"AgentPin verification failed: {reason}")
        self.reason = reason


class NotAllowed(SymbiontError):
    """The actor is not allowed to do this (for example, approve a run they are not named for)."""

    def __init__(self, actor: str, action: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"{actor!r} may not {action}; allowed: {', '.join(repr(a) for a in allowed)}"
        )
        self.actor = actor
        self.action = action
        self.allowed = allowed


class ConflictError(SymbiontError):
    """A change that the current state of the job or run does not allow."""


class DuplicateJobName(ConflictError):
    """Another job already has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a job named {name!r} already exists; pick another name or update that job"
        )
        self.name = name


class InvalidTransition(ConflictError):
    """The job or run is in a state from which the requested change is not possible."""

    def __init__(self, what: str, current: str, action: str, hint: str = "") -> None:
        message = f"cannot {action} {what}: it is {current}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)
        self.what = what
        self.current = current
        self.action = action


class StoreError(SymbiontError):
    """The job store failed, or holds something this version cannot use."""


class JobNotFound(StoreError, LookupError):
    """No job has this id or name."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no job with id or name {ref!r}; list jobs with `symbi cron list`")
        self.ref = ref


class RunNotFound(StoreError, LookupError):
    """No run has this id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"no run with id {run_id!r}; list a job's runs with `symbi cron history JOB`"
        )
        self.run_id = run_id


class SchemaVersionError(StoreError):
    """The database was written by a newer symbiont than this one."""

    def __init__(self, found: int, supported: int, location: str) -> None:
        super().__init__(
            f"the store at {location} has schema version {found}, but this symbiont supports "
            f"up to {supported}; it was written by a newer symbiont: upgrade symbiont "
            "(pip install -U symbiont) or point --db/--store-url at another store"
        )
        self.found = found
        self.supported = supported


class StoreUnavailable(StoreError):
    """The store cannot be reached or is locked for longer than its busy timeout."""

    retryable = True

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"the store at {location} is unavailable: {reason}")
        self.location = location
        self.reason = reason
