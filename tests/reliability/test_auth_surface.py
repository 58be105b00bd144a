"""The whole HTTP surface needs the key: every route, every method, every way of getting it wrong.

The route list comes from the application itself: the OpenAPI document (the API) and the
dashboard's router (its pages are not in the document). Anything public is named in
`PUBLIC` with the reason, and a test fails when a route appears that is in neither list.
Every refused answer is checked for leaks: the job's name, id and input never appear in it.
"""

from __future__ import annotations

import ast
import base64
import inspect
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from symbiont.api import AppState, auth, create_app
from symbiont.api.routes import dashboard
from symbiont.core.clock import SystemClock
from symbiont.observability.metrics import SchedulerMetrics
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore

pytestmark = pytest.mark.anyio
KEY = "the-right-key-4e1d"
SECRET_INPUT = "input-only-the-owner-may-read"
PUBLIC = {
    ("GET", "/api/v1/health"): "liveness for probes: only 'ok' and the version",
    ("GET", "/openapi.json"): "the API's shape, no data",
    ("GET", "/docs"): "the interactive documentation page, no data",
    ("GET", "/docs/oauth2-redirect"): "part of the documentation page, no data",
    ("GET", "/redoc"): "the documentation page, no data",
    ("GET", "/login"): "the form where a key is pasted",
    ("POST", "/login"): "checks a pasted key (401 when it is wrong)",
    ("GET", "/static/{path}"): "the dashboard's CSS and JS, which the login page needs",
}
"""Routes that answer without a key, and why that reveals nothing."""
WRONG = [
    {},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": f"Bearer {KEY}x"},
    {"Authorization": f"Bearer {KEY[:-1]}"},
    {"Authorization": f"Bearer {KEY.upper()}"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer"},
    {"Authorization": KEY},
    {"Authorization": f"Basic {base64.b64encode(f'default:{KEY}'.encode()).decode()}"},
    {"Authorization": f"Token {KEY}"},
    {"Authorization": "Bearer caf\xe9".encode("latin-1")},
    {"X-API-Key": KEY},
    {"Cookie": f"symbi_session={KEY}"},
]
"""No key, wrong keys, the right key sent the wrong way (never in a query string: see below)."""


@pytest.fixture
async def app_and_job(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of an app with one key, metrics on, and one job with a run."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        service = JobService(store, SystemClock())
        job = await service.create_job(
            {"name": "private-job-name", "agent_id": "a", "cron_expr": "@daily"}, actor="t"
        )
        run = await service.trigger_run(job.id, actor="t", input=SECRET_INPUT)
        app = create_app(
            AppState(service=service, api_keys={"ops": KEY}, metrics=SchedulerMetrics())
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, {"job_id": job.id, "ref": job.id, "run_id": run.id, "action": "pause"}


def _concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


async def _routes(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves: the OpenAPI document and the dashboard."""
    spec = (await http.get("/openapi.json")).json()
    routes = [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops]
    for route in dashboard.router.routes:
        assert isinstance(route, APIRoute)
        routes += [(method, route.path) for method in sorted(route.methods)]
    return routes


def _assert_no_leak(response: httpx.Response, ids: dict[str, str], what: object) -> None:
    body = response.text
    for secret in ("private-job-name", SECRET_INPUT, ids["job_id"], ids["run_id"]):
        assert secret not in body, (what, secret, body[:300])
    for secret in ("private-job-name", SECRET_INPUT):  # a redirect repeats the path asked for
        assert secret not in response.headers.get("location", ""), what


async def test_every_route_refuses_every_wrong_key(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """API routes answer 401 JSON; dashboard pages redirect to /login; nothing leaks."""
    http, ids = app_and_job
    routes = await _routes(http)
    checked = 0
    for method, template in routes:
        if (method, template) in PUBLIC:
            continue
        path = _concrete(template, ids)
        for headers in WRONG:
            response = await http.request(method, path, headers=headers)
            what = (method, template, headers)
            _assert_no_leak(response, ids, what)
            if template.startswith(("/api/", "/metrics", "/fragments/")) or method != "GET":
                assert response.status_code == 401, what
            else:  # a browser asking for a page is sent to the login form
                assert response.status_code == 303, what
                assert response.headers["location"] == f"/login?next={path}", what
            if template.startswith(("/api/", "/metrics")):
                assert response.json()["code"] == "UNAUTHORIZED", what
                assert response.headers["www-authenticate"] == "Bearer", what
        checked += 1
    assert checked >= 30, routes
    assert {("GET", "/metrics"), ("GET", "/fragments/health")} <= set(routes)


async def test_the_right_key_opens_every_route(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """The same GET routes answer with the key: the 401s above are about the key, not the path."""
    http, ids = app_and_job
    for method, template in await _routes(http):
        if method != "GET" or (method, template) in PUBLIC:
            continue
        response = await http.get(
            _concrete(template, ids), headers={"Authorization": f"Bearer {KEY}"}
        )
        assert response.status_code == 200, (template, response.text[:300])


async def test_a_key_in_the_query_string_is_ignored(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """Keys in URLs end up in logs and histories: the API never reads one there."""
    http, ids = app_and_job
    for name in ("api_key", "key", "token", "access_token"):
        response = await http.get("/api/v1/schedule", params={name: KEY})
        assert response.status_code == 401, name
        _assert_no_leak(response, ids, name)


async def test_head_and_options_reveal_nothing(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """HEAD and OPTIONS without a key: 401, a redirect to /login or 405 with Allow; never data."""
    http, ids = app_and_job
    paths = {_concrete(t, ids) for m, t in await _routes(http) if (m, t) not in PUBLIC}
    for path in sorted(paths):
        for method in ("HEAD", "OPTIONS"):
            response = await http.request(method, path)
            what = (method, path)
            assert response.status_code in {401, 303, 405}, (what, response.status_code)
            _assert_no_leak(response, ids, what)
            if response.status_code == 405:
                assert response.headers["allow"], what
                assert method not in response.headers["allow"].split(", "), what


def _static_assets() -> list[str]:
    static = Path(dashboard.__file__).resolve().parents[1] / "static"
    return sorted(p.name for p in static.iterdir())


async def test_public_routes_reveal_nothing(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """Each public route answers without a key and holds no job data; static is assets only."""
    http, ids = app_and_job
    assets = _static_assets()
    assert {Path(name).suffix for name in assets} <= {".css", ".js"}, assets
    for method, template in PUBLIC:
        paths = [template.replace("{path}", a) for a in assets] if "{" in template else [template]
        for path in paths:
            response = await http.request(method, path)
            assert response.status_code == (401 if method == "POST" else 200), (method, path)
            _assert_no_leak(response, ids, (method, path))
    wrong = await http.post("/login", data={"key": "wrong", "next": "/"})
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers
    for escape in ("/static/../templates/base.html", "/static/%2e%2e/templates/base.html"):
        response = await http.get(escape)
        assert response.status_code == 404, escape
        assert "{%" not in response.text


async def test_forged_sessions_are_refused(
    app_and_job: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """Tampered, foreign, expired and non-ASCII session cookies lead to /login, never a 500."""
    http, ids = app_and_job
    secret = b"not-the-process-secret".ljust(32, b"!")
    cookies = [
        dashboard.issue_session(secret, "ops", 2_000_000_000),
        dashboard.issue_session(secret, "ops", 0),
        "b3Bz.1700000000.AAAA",
        "\xe9.1.\xe9",
        "..",
        "x" * 5000,
    ]
    for cookie in cookies:
        header = f"symbi_session={cookie}".encode("latin-1")
        page = await http.get("/", headers={"Cookie": header})
        assert page.status_code == 303, cookie
        posted = await http.post(
            f"/jobs/{ids['job_id']}/pause", headers={"Cookie": header}, data={"csrf": "\xe9"}
        )
        assert posted.status_code == 401, cookie
        _assert_no_leak(posted, ids, cookie)


def _function_source(function: object) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]


def test_secret_comparisons_are_constant_time() -> None:
    """Keys, session MACs and CSRF tokens are compared with hmac.compare_digest only.

    Timing cannot be measured honestly on a shared two-core machine, so the code is checked:
    the comparisons call ``hmac.compare_digest`` on bytes (which never raises on non-ASCII
    input, as ``str`` would), ``match_key`` looks at every key without leaving the loop
    early, and no ``==``, ``!=`` or ``in`` touches a key, a token, a MAC or a CSRF value.
    """
    secretish = ("key", "token", "presented", "mac", "csrf", "cookie")
    for function in (auth.match_key, auth.actor, dashboard._same, dashboard.session_name):
        tree = _function_source(function)
        calls = [ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
            ):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not {n for n in names if n.lower().endswith(secretish)}, ast.unparse(node)
        if function in (auth.match_key, dashboard._same):
            assert "hmac.compare_digest" in calls, function
    loop = next(n for n in ast.walk(_function_source(auth.match_key)) if isinstance(n, ast.For))
    assert not [n for n in ast.walk(loop) if isinstance(n, ast.Break | ast.Return)]
    keys = {"a": "k1", "b": "k2", "c": "k3"}
    assert [auth.match_key(keys, k) for k in ("k1", "k3", "k", "k33", "\xe9")] == [
        "a",
        "c",
        None,
        None,
        None,
    ]
