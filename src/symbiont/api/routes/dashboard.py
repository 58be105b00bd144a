"""The web dashboard: server-rendered pages over the service, behind the same API keys.

Sessions: ``/login`` checks a pasted API key and sets an HttpOnly, SameSite=Strict cookie
holding the key's *name*, a time and an HMAC over both under a random per-process secret
(the key itself never leaves the form). Every form carries a CSRF token derived from the
session. A ``Authorization: Bearer`` header works too, without CSRF (browsers never add it
on their own). Without keys (loopback only) there is no login.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from symbiont.api.app_state import state_of
from symbiont.api.auth import ANONYMOUS, match_key
from symbiont.api.deps import SchedulerDep, ServiceDep
from symbiont.api.present import job_out
from symbiont.api.routes.health import scheduler_health
from symbiont.api.schemas import MAX_OFFSET
from symbiont.core.enums import JobStatus, RunStatus, SecurityEventType
from symbiont.core.errors import JobNotFound, NotAllowed, RunNotFound, SymbiontError
from symbiont.core.models import Job, Run
from symbiont.service import JobService
from symbiont.store.base import AuditFilter, JobFilter, RunFilter

COOKIE = "symbi_session"
SESSION_TTL_S = 12 * 3600
"""A dashboard session lasts twelve hours, then the operator pastes the key again."""
PAGE_SIZE = 20
_HERE = Path(__file__).resolve().parent.parent
_STATE_FIELDS = {"next_run", "last_run", "run_count", "failure_count", "created_at", "updated_at"}
"""Shown elsewhere on the job page; the definition lists the rest."""
_DONE = {
    "paused": "Job paused.",
    "resumed": "Job resumed.",
    "reset": "Job reset to active.",
    "deleted": "Job deleted.",
    "triggered": "Run queued.",
    "approved": "Run approved; it starts shortly.",
    "rejected": "Run rejected.",
}
"""Messages shown after an action (the redirect names one; no free text is reflected)."""

router = APIRouter(include_in_schema=False)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,  # agent output is untrusted: everything is escaped unless marked safe
    undefined=jinja2.StrictUndefined,
)
templates = Jinja2Templates(env=_env)


class LoginRequired(Exception):
    """A dashboard request came without a valid session or key."""


def install(app: FastAPI) -> None:
    """Serve the dashboard from *app*: its pages, static files and a fresh session secret."""
    app.state.dashboard_secret = secrets.token_bytes(32)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.include_router(router)


# -- sessions -------------------------------------------------------------------------


def _mac(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _same(expected: str, presented: str) -> bool:
    """Constant-time equality of two texts, whatever characters *presented* holds.

    ``hmac.compare_digest`` raises TypeError on non-ASCII ``str``; bytes never do.
    """
    return hmac.compare_digest(expected.encode(), presented.encode())


def issue_session(secret: bytes, name: str, issued_s: int) -> str:
    """A session token for key *name*: ``b64(name).issued.mac``, never the key itself."""
    body = f"{base64.urlsafe_b64encode(name.encode()).decode()}.{issued_s}"
    return f"{body}.{_mac(secret, body)}"


def session_name(secret: bytes, token: str, now_s: int) -> str | None:
    """The key name *token* was issued for, or None when forged, malformed or expired."""
    body, _, mac = token.rpartition(".")
    encoded, _, issued = body.partition(".")
    if not _same(_mac(secret, body), mac) or not issued.isdigit():
        return None
    if not 0 <= now_s - int(issued) < SESSION_TTL_S:
        return None
    try:
        return base64.urlsafe_b64decode(encoded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard, and the CSRF token their forms must carry."""

    actor: str
    csrf: str
    bearer: bool = False
    """Authenticated by an ``Authorization`` header: no CSRF check needed."""


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.dashboard_secret
    return secret


def _identify(request: Request) -> Viewer | None:
    keys = state_of(request).api_keys
    secret = _secret(request)
    if not keys:
        return Viewer(ANONYMOUS, _mac(secret, f"csrf|{ANONYMOUS}"))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        name = match_key(keys, token.strip())
        return None if name is None else Viewer(name, "", bearer=True)
    cookie = request.cookies.get(COOKIE, "")
    name = session_name(secret, cookie, int(time.time())) if cookie else None
    if name is None or name not in keys:
        return None
    return Viewer(name, _mac(secret, f"csrf|{cookie}"))


async def _viewer(request: Request) -> Viewer:
    viewer = _identify(request)
    if viewer is None:
        raise LoginRequired
    return viewer


async def _form(request: Request) -> dict[str, str]:
    """The posted form, after checking the viewer and the CSRF token."""
    viewer = await _viewer(request)
    parsed = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
    form = {key: values[0] for key, values in parsed.items()}
    if not viewer.bearer and not _same(form.get("csrf", ""), viewer.csrf):
        raise LoginRequired
    form["actor"] = viewer.actor
    return form


ViewerDep = Annotated[Viewer, Depends(_viewer)]
FormDep = Annotated[dict[str, str], Depends(_form)]


async def _login_required(request: Request, _: Exception) -> Response:
    if request.method == "GET" and not request.url.path.startswith("/fragments/"):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return HTMLResponse(
        '<p>Session missing or expired, or the form is stale: <a href="/login">log in</a>.</p>',
        401,
    )


# -- rendering ------------------------------------------------------------------------


def _ts(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ms(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value} ms" if value < 1000 else f"{value / 1000:.1f} s"  # noqa: PLR2004 - 1 s


def _delta(value: timedelta | None) -> str:
    return "—" if value is None else _ms(int(value.total_seconds() * 1000))


_env.filters.update(ts=_ts, ms=_ms, delta=_delta)


def _render(
    request: Request, viewer: Viewer, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context |= {
        "viewer": viewer,
        "auth": bool(state_of(request).api_keys),
        "done": _DONE.get(request.query_params.get("done", ""), ""),
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _local(path: str, default: str = "/") -> str:
    """*path* if it stays on this site, else *default* (no open redirects)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else default


def _back(form: dict[str, str], default: str, done: str) -> RedirectResponse:
    """Redirect to the form's local ``back`` path (never another site) with a message."""
    target = _local(form.get("back", ""), default)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done={done}", status_code=303)


def _failed(request: Request, viewer: Viewer, exc: SymbiontError) -> HTMLResponse:
    code = 409
    if isinstance(exc, JobNotFound | RunNotFound):
        code = 404
    elif isinstance(exc, NotAllowed):
        code = 403
    return _render(request, viewer, "error.html", code, message=str(exc))


def lateness(run: Run) -> timedelta | None:
    """How long after its occurrence the run started (None before it starts)."""
    return None if run.started_at is None else run.started_at - run.scheduled_for


def chart(runs: list[Run], width: int = 600, height: int = 120) -> list[dict[str, Any]]:
    """Bars of an SVG chart of run durations, oldest left, height relative to the longest."""
    ordered = list(reversed(runs))
    longest = max((r.execution_time_ms or 0 for r in ordered), default=0) or 1
    step = width / max(len(ordered), 30)  # a few runs make thin bars, not a green wall
    return [
        {
            "x": round(i * step, 1),
            "w": round(max(step - 2, 1), 1),
            "h": round(max((run.execution_time_ms or 0) / longest * height, 2), 1),
            "run": run,
        }
        for i, run in enumerate(ordered)
    ]


# -- pages ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def jobs_page(
    request: Request,
    service: ServiceDep,
    viewer: ViewerDep,
    status: str = "",
    agent: str = "",
    q: str = "",
) -> HTMLResponse:
    """Every job with its schedule, next run and last 20 runs; filters by status, agent, name."""
    everything = await service.list_jobs(JobFilter(limit=1000))
    wanted = JobStatus(status) if status in set(JobStatus) else None
    shown = [
        job
        for job in everything
        if (wanted is None or job.status is wanted)
        and (not agent or job.agent_id == agent)
        and q.lower() in job.name.lower()
    ]
    rows = [(job_out(job), await _recent(service, job)) for job in shown]
    return _render(
        request,
        viewer,
        "jobs.html",
        rows=rows,
        agents=sorted({job.agent_id for job in everything}),
        statuses=[s.value for s in JobStatus if s.name == s.value],
        filters={"status": status, "agent": agent, "q": q},
    )


async def _recent(service: JobService, job: Job) -> list[Run]:
    return list(reversed(await service.history(job.id, RunFilter(limit=20))))


@router.get("/fragments/health", response_class=HTMLResponse)
async def health_fragment(
    request: Request, service: ServiceDep, scheduler: SchedulerDep, viewer: ViewerDep
) -> HTMLResponse:
    """The scheduler's health, counts and recent lateness (polled by the jobs page)."""
    health = await scheduler_health(service, scheduler)
    late = [d for d in map(lateness, await service.list_runs(RunFilter(limit=50))) if d is not None]
    return _render(
        request,
        viewer,
        "_health.html",
        health=health,
        worst=max(late, default=None),
        mean=sum(late, timedelta()) / len(late) if late else None,
    )


@router.get("/jobs/{ref}", response_class=HTMLResponse)
async def job_page(
    request: Request, ref: str, service: ServiceDep, viewer: ViewerDep, page: int = 0
) -> HTMLResponse:
    """One job: definition, next 10 fire times, duration chart, paged history, actions."""
    try:
        job = await service.get_job(ref)
    except JobNotFound as exc:
        return _failed(request, viewer, exc)
    definition = job_out(job).model_dump(mode="json", exclude=_STATE_FIELDS)
    return _render(
        request,
        viewer,
        "job.html",
        job=job_out(job),
        definition=json.dumps(definition, indent=2),
        next_runs=await _upcoming(service, job, 10),
        bars=chart(await service.history(job.id, RunFilter(limit=60))),
        **await _history(service, job, page),
    )


async def _upcoming(service: JobService, job: Job, count: int) -> list[datetime]:
    """The next *count* fire times after now (the stored next run may just have passed)."""
    now = service.clock.now()
    times = await service.next_runs(job.id, count + 5)
    return [t for t in times if t > now][:count]


async def _history(service: JobService, job: Job, page: int) -> dict[str, Any]:
    page = min(max(page, 0), MAX_OFFSET // PAGE_SIZE - 1)  # stays a 64-bit SQL offset
    runs = await service.history(job.id, RunFilter(limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE))
    return {"runs": runs[:PAGE_SIZE], "page": page, "more": len(runs) > PAGE_SIZE}


@router.get("/fragments/jobs/{ref}/history", response_class=HTMLResponse)
async def history_fragment(
    request: Request, ref: str, service: ServiceDep, viewer: ViewerDep, page: int = 0
) -> HTMLResponse:
    """A job's history table (polled by the job page)."""
    job = await service.get_job(ref)
    return _render(
        request, viewer, "_history.html", job=job_out(job), **await _history(service, job, page)
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, run_id: str, service: ServiceDep, viewer: ViewerDep
) -> HTMLResponse:
    """One run: status, timings, input and output, policy decision and deliveries."""
    try:
        run = await service.get_run(run_id)
    except RunNotFound as exc:
        return _failed(request, viewer, exc)
    extra = {k: v for k, v in run.details.items() if k != "policy"}
    return _render(
        request,
        viewer,
        "run.html",
        run=run,
        late=lateness(run),
        policy=json.dumps(run.details.get("policy"), indent=2, default=str),
        extra=json.dumps(extra, indent=2, default=str),
    )


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, service: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    """Runs waiting for approval, with approve and reject buttons."""
    runs = await service.list_runs(RunFilter(status=RunStatus.pending_approval, limit=200))
    return _render(request, viewer, "approvals.html", runs=runs)


@router.get("/dead-letter", response_class=HTMLResponse)
async def dead_letter_page(
    request: Request, service: ServiceDep, viewer: ViewerDep
) -> HTMLResponse:
    """Jobs stopped after too many failures, with a reset button."""
    jobs = [
        job_out(job)
        for kind in (JobStatus.dead_letter, JobStatus.failed)
        for job in await service.list_jobs(JobFilter(status=kind, limit=1000))
    ]
    return _render(request, viewer, "dead_letter.html", jobs=jobs)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    service: ServiceDep,
    viewer: ViewerDep,
    type: str = "",  # noqa: A002 - the query parameter's name
    job: str = "",
    after: int = 0,
) -> HTMLResponse:
    """The audit log, oldest first, filtered by event type and job, 100 per page."""
    kinds = [k.value for k in SecurityEventType]
    job_id = None
    if job:
        try:
            job_id = (await service.get_job(job)).id
        except JobNotFound as exc:
            return _failed(request, viewer, exc)
    query = AuditFilter(
        type=SecurityEventType(type) if type in kinds else None,
        job_id=job_id,
        after_id=min(max(after, 0), MAX_OFFSET),
        limit=100,
    )
    events = await service.audit(query)
    return _render(
        request,
        viewer,
        "audit.html",
        events=events,
        kinds=kinds,
        filters={"type": type, "job": job},
        next_after=events[-1].id if len(events) == query.limit else None,
    )


# -- actions --------------------------------------------------------------------------


@router.post("/jobs/{ref}/{action}")
async def job_action(
    request: Request, ref: str, action: str, service: ServiceDep, form: FormDep
) -> Response:
    """Pause, resume, reset, delete or run a job now (form posts with a CSRF token)."""
    who = form["actor"]
    try:
        if action == "run":
            run = await service.trigger_run(ref, actor=who, input=form.get("input") or None)
            return RedirectResponse(f"/runs/{run.id}?done=triggered", status_code=303)
        if action == "delete":
            await service.delete_job(ref, actor=who)
            return RedirectResponse("/?done=deleted", status_code=303)
        verbs = {
            "pause": (service.pause_job, "paused"),
            "resume": (service.resume_job, "resumed"),
            "reset": (service.reset_job, "reset"),
        }
        if action not in verbs:
            return HTMLResponse("no such action", 404)
        verb, done = verbs[action]
        job = await verb(ref, actor=who)
    except SymbiontError as exc:
        return _failed(request, Viewer(who, form.get("csrf", "")), exc)
    return _back(form, f"/jobs/{job.id}", done)


@router.post("/runs/{run_id}/{action}")
async def run_action(
    request: Request, run_id: str, action: str, service: ServiceDep, form: FormDep
) -> Response:
    """Approve or reject (with a reason) a run waiting for approval."""
    who = form["actor"]
    try:
        if action == "approve":
            await service.approve_run(run_id, actor=who)
        elif action == "reject":
            await service.reject_run(run_id, actor=who, reason=form.get("reason") or None)
        else:
            return HTMLResponse("no such action", 404)
    except SymbiontError as exc:
        return _failed(request, Viewer(who, form.get("csrf", "")), exc)
    return _back(form, f"/runs/{run_id}", f"{action}d")


# -- login ----------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - query name
    """The form where an operator pastes an API key."""
    if not state_of(request).api_keys:
        return RedirectResponse("/", status_code=303)
    return _login(request, next, "")


def _login(request: Request, next_path: str, error: str, status_code: int = 200) -> HTMLResponse:
    return _render(
        request, Viewer("", ""), "login.html", status_code, next=_local(next_path), error=error
    )


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the pasted key; on success set the session cookie and go to the dashboard."""
    keys = state_of(request).api_keys
    parsed = parse_qs((await request.body()).decode(errors="replace"))
    key = parsed.get("key", [""])[0].strip()
    next_path = parsed.get("next", ["/"])[0]
    name = match_key(keys, key) if keys and key else None
    if name is None:
        return _login(request, next_path, "That API key is not valid.", 401)
    token = issue_session(_secret(request), name, int(time.time()))
    response = RedirectResponse(_local(next_path), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(form: FormDep) -> Response:
    """End the session (the cookie is dropped; the key stays valid)."""
    del form
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response
