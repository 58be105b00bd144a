"""Dispatch benchmark: how soon symbiont's daemon starts due runs, beside APScheduler 3.

Scenarios (issue 4 §4); every (scenario, engine, size) runs in a child process of its own,
so CPU time and peak RSS (``getrusage(RUSAGE_SELF)`` in the child) belong to one engine:
  * burst: N one-shot jobs all due at one whole second T; the time from T until the last run
    started, lateness p50/p99 (start - T) and the child's peak RSS;
  * steady: 10,000 jobs, job i firing at second i % 60 of every minute (~167 runs/s);
    CPU % and lateness over a window that excludes setup;
  * idle: 10,000 jobs none due within the hour; CPU % over a window.

symbiont is the in-process daemon (SQLite store, JobService, AgentDispatcher running the
``symbiont.testing.agents:echo`` handler, CronScheduler); a run counts as started when its
``RunStarted`` event is published, just before the agent is called. APScheduler runs a function
that records ``time.time()`` when it is called. Prints Markdown tables (median over
``--repeat`` runs) with ratios against symbiont, the targets and whether each is met.

    python benchmarks/dispatch.py                 # the full run, about 25 minutes
    python benchmarks/dispatch.py --quick         # tiny sizes, seconds (used by a test)
    python benchmarks/dispatch.py --scenarios burst --sizes 1000,10000 --engines symbiont
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

ENGINES = (
    "symbiont",
    "aps-asyncio-memory",
    "aps-asyncio-sqlalchemy",
    "aps-background-memory",
    "aps-background-sqlalchemy",
)
GRACE_S = 3600  # APScheduler misfire_grace_time: a late run is measured, never dropped
BURST_TIMEOUT_S = 120.0  # a burst that has not finished starting by then is reported as such
CHILD_TIMEOUT_S = 1800  # a child that hangs past this is reported as failed
_STARTS: list[tuple[float, float, float]] = []  # (observed, scheduled, stamped) unix seconds


@dataclass(frozen=True, slots=True)
class Plan:
    """One job: a one-shot at unix time ``at``, or the cron fields second, minute, hour."""

    at: float | None = None
    cron: tuple[str, str, str] | None = None


def record(anchor: float, period: float) -> None:
    """APScheduler's job: note when it was called and the occurrence it was called for."""
    now = time.time()
    scheduled = anchor if not period else now - (now - anchor) % period
    _STARTS.append((now, scheduled, now))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- engines (child side) --------------------------------------------------------------


@asynccontextmanager
async def symbiont_engine(spec: dict[str, Any], plans: list[Plan]) -> AsyncIterator[None]:
    from symbiont.core.clock import SystemClock
    from symbiont.core.events import RunStarted
    from symbiont.dsl import parse_text
    from symbiont.observability.logging import configure_logging
    from symbiont.runtime import RuntimeSettings
    from symbiont.scheduler.daemon import CronScheduler, SchedulerSettings, tune_gc
    from symbiont.scheduler.dispatch import AgentDispatcher, AgentRegistry
    from symbiont.service import JobService
    from symbiont.store import SQLiteJobStore

    configure_logging("warning")  # the daemon's JSON logs on stderr; nothing per run
    tune_gc()  # as `symbi up` does
    agent = parse_text('agent noop { handler: "symbiont.testing.agents:echo" }').agents[0]
    clock = SystemClock()

    def on_event(event: object) -> None:
        if isinstance(event, RunStarted):
            run = event.run
            stamped = run.started_at.timestamp() if run.started_at else math.nan
            _STARTS.append((time.time(), run.scheduled_for.timestamp(), stamped))

    async with SQLiteJobStore(Path(spec["dir"]) / "symbi.db") as store:
        service = JobService(store, clock)
        await service.create_jobs([_definition(i, p) for i, p in enumerate(plans)], actor="bench")
        dispatcher = AgentDispatcher(
            store, AgentRegistry({"noop": agent}), RuntimeSettings(), clock
        )
        settings = SchedulerSettings(
            node_id="bench",
            max_concurrent_jobs=max(100, len(plans)),
            claim_batch=spec["claim_batch"],
        )
        scheduler = CronScheduler(store, dispatcher, clock, settings)
        scheduler.events.subscribe(on_event)
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            yield
            scheduler.stop()


def _definition(i: int, plan: Plan) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": f"job-{i:06d}",
        "agent_id": "noop",
        "session_mode": "fully_ephemeral",  # APScheduler's job carries no state either
    }
    if plan.at is not None:
        fields["at"] = datetime.fromtimestamp(plan.at, UTC)
    else:
        assert plan.cron is not None
        fields["cron_expr"] = " ".join((*plan.cron, "*", "*", "*"))
    return fields


@asynccontextmanager
async def aps_engine(spec: dict[str, Any], plans: list[Plan]) -> AsyncIterator[None]:
    import logging

    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.schedulers.background import BackgroundScheduler

    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    engine: str = spec["engine"]
    sql = engine.endswith("sqlalchemy")
    store = SQLAlchemyJobStore(url=f"sqlite:///{spec['dir']}/aps.db") if sql else MemoryJobStore()
    defaults = {"misfire_grace_time": GRACE_S, "coalesce": True, "max_instances": 1}
    if "background" in engine:
        scheduler: Any = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(20)},
            job_defaults=defaults,
        )
    else:
        scheduler = AsyncIOScheduler(
            timezone=UTC, jobstores={"default": store}, job_defaults=defaults
        )
    scheduler.start(paused=True)
    if sql:
        _aps_bulk_insert(scheduler, store, plans)
    else:
        for i, plan in enumerate(plans):
            scheduler.add_job(record, _aps_trigger(plan), _aps_args(plan), id=f"job-{i:06d}")
    scheduler.resume()
    yield
    scheduler.shutdown(wait=False)


def _aps_trigger(plan: Plan) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger

    if plan.at is not None:
        return DateTrigger(run_date=datetime.fromtimestamp(plan.at, UTC), timezone=UTC)
    assert plan.cron is not None
    second, minute, hour = plan.cron
    return CronTrigger(second=second, minute=minute, hour=hour, timezone=UTC)


def _aps_args(plan: Plan) -> tuple[float, float]:
    if plan.at is not None:
        return (plan.at, 0.0)
    assert plan.cron is not None
    return (float(plan.cron[0]) if plan.cron[0].isdigit() else 0.0, 60.0)


def _aps_bulk_insert(scheduler: Any, store: Any, plans: list[Plan]) -> None:
    """Write the job rows ``add_job`` would write, in one transaction (setup is not timed)."""
    import pickle

    from apscheduler.job import Job as APJob

    now = datetime.now(UTC)
    rows = []
    for i, plan in enumerate(plans):
        trigger = _aps_trigger(plan)
        job = APJob(
            scheduler,
            id=f"job-{i:06d}",
            func=record,
            trigger=trigger,
            executor="default",
            args=_aps_args(plan),
            kwargs={},
            name="record",
            misfire_grace_time=GRACE_S,
            coalesce=True,
            max_instances=1,
            next_run_time=trigger.get_next_fire_time(None, now),
        )
        state = pickle.dumps(job.__getstate__(), store.pickle_protocol)
        rows.append(
            {"id": job.id, "next_run_time": job.next_run_time.timestamp(), "job_state": state}
        )
    with store.engine.begin() as conn:
        conn.execute(store.jobs_t.insert(), rows)


# -- scenarios (child side) ------------------------------------------------------------


def burst_plans(spec: dict[str, Any]) -> list[Plan]:
    return [Plan(at=spec["t"])] * spec["jobs"]


def steady_plans(spec: dict[str, Any]) -> list[Plan]:
    return [Plan(cron=(str(i % 60), "*", "*")) for i in range(spec["jobs"])]


def idle_plans(spec: dict[str, Any]) -> list[Plan]:
    hour = str((datetime.now(UTC).hour + 2) % 24)  # the earliest fire is over an hour away
    return [Plan(cron=(str(i % 60), str(i // 60 % 60), hour)) for i in range(spec["jobs"])]


async def burst(spec: dict[str, Any], setup_s: float) -> dict[str, Any]:
    t, n = spec["t"], spec["jobs"]
    slack = t - time.time()
    if slack < 0.2:  # the engine must already be waiting when T comes
        return {"overrun": True, "setup_s": setup_s}
    deadline = t + BURST_TIMEOUT_S
    # APScheduler records starts on its own threads, where no anyio.Event can be set: poll.
    while len(_STARTS) < n and time.time() < deadline:  # noqa: ASYNC110 - see above
        await anyio.sleep(0.05)
    starts = list(_STARTS)
    late = [observed - t for observed, _, _ in starts]
    stamped = [s - t for _, _, s in starts]
    return {
        "setup_s": setup_s,
        "slack_s": slack,
        "started": len(starts),
        "expected": n,
        "last_s": max(late, default=math.nan),
        "p50_s": quantile(late, 0.5),
        "p99_s": quantile(late, 0.99),
        "stamped_p99_s": quantile(stamped, 0.99),
        "rss_mib": rss_mib(),
    }


async def steady(spec: dict[str, Any], setup_s: float) -> dict[str, Any]:
    w0 = math.ceil(time.time()) + spec["warmup_s"]
    w1 = w0 + spec["window_s"]
    await anyio.sleep(w0 - time.time())
    cpu0, wall0 = cpu_s(), time.time()
    await anyio.sleep(w1 - time.time())
    cpu1, wall1 = cpu_s(), time.time()
    await anyio.sleep(2.0)  # occurrences due just before w1 may start just after it
    per_second = [len(range(k, spec["jobs"], 60)) for k in range(60)]
    expected = sum(per_second[s % 60] for s in range(int(w0), int(w1)))
    window = [row for row in list(_STARTS) if w0 <= row[1] + 1e-3 < w1]
    late = [observed - scheduled for observed, scheduled, _ in window]
    return {
        "setup_s": setup_s,
        "started": len(late),
        "expected": expected,
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "p50_s": quantile(late, 0.5),
        "p99_s": quantile(late, 0.99),
        "stamped_p99_s": quantile([stamped - scheduled for _, scheduled, stamped in window], 0.99),
        "rss_mib": rss_mib(),
    }


async def idle(spec: dict[str, Any], setup_s: float) -> dict[str, Any]:
    await anyio.sleep(spec["warmup_s"])
    cpu0, wall0 = cpu_s(), time.time()
    await anyio.sleep(spec["window_s"])
    cpu1, wall1 = cpu_s(), time.time()
    return {
        "setup_s": setup_s,
        "started": len(_STARTS),
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "rss_mib": rss_mib(),
    }


SCENARIOS: dict[str, tuple[Callable[[dict[str, Any]], list[Plan]], Callable[..., Any]]] = {
    "burst": (burst_plans, burst),
    "steady": (steady_plans, steady),
    "idle": (idle_plans, idle),
}


async def child(spec: dict[str, Any]) -> None:
    make_plans, measure = SCENARIOS[spec["scenario"]]
    start = time.time()
    spec["t"] = float(math.ceil(start + spec["lead_s"]))
    plans = make_plans(spec)
    engine = symbiont_engine if spec["engine"] == "symbiont" else aps_engine
    async with engine(spec, plans):
        result = await measure(spec, time.time() - start)
        await anyio.Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
        sys.stderr.flush()
        # Draining 100,000 runs is not what is measured: leave without stopping the engine.
        os._exit(0)


# -- parent ----------------------------------------------------------------------------


class Runner:
    """Runs children one after another, learning each engine's setup rate for T's lead."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.setup_rate: dict[str, float] = {}  # seconds of setup per job, per engine

    def run(self, scenario: str, engine: str, jobs: int, **extra: Any) -> dict[str, Any]:
        """Run one child; a burst whose setup overran T is retried with a longer lead."""
        for _ in range(3):
            rate = self.setup_rate.get(engine, 2e-4)
            spec = {
                "scenario": scenario,
                "engine": engine,
                "jobs": jobs,
                "lead_s": 1.0 + 1.5 * rate * jobs,
                "claim_batch": self.args.claim_batch,
                **extra,
            }
            result = self._spawn(spec)
            if "setup_s" in result:
                self.setup_rate[engine] = result["setup_s"] / max(jobs, 1)
            if not result.get("overrun"):
                return result
        return {"error": "setup kept overrunning T"}

    def _spawn(self, spec: dict[str, Any]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="symbi-dispatch-") as folder:
            spec = {**spec, "dir": folder, "result": str(Path(folder) / "result.json")}
            argv = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
            try:
                proc = subprocess.run(  # noqa: S603 - our own script and our own JSON
                    argv, capture_output=True, text=True, check=False, timeout=CHILD_TIMEOUT_S
                )
            except subprocess.TimeoutExpired:
                return {"error": f"no result after {CHILD_TIMEOUT_S} s"}
            result_path = Path(spec["result"])
            if proc.returncode != 0 or not result_path.exists():
                tail = proc.stderr.strip().splitlines()[-5:]
                return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
            result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
            return result


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in results if "error" not in r]
    if not good:
        return results[0]
    keys = [k for k, v in good[0].items() if isinstance(v, int | float)]
    return {k: statistics.median(r[k] for r in good) for k in keys}


def progress(label: str, result: dict[str, Any]) -> None:
    shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
    print(f"{label}: {shown}", file=sys.stderr, flush=True)


# -- report ----------------------------------------------------------------------------


def secs(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(theirs: float | None, ours: float | None) -> str:
    if not theirs or not ours or math.isnan(theirs) or math.isnan(ours):
        return ""
    return f"{theirs / ours:.2g}x"


def _started(r: dict[str, Any]) -> str:
    return f"{r['started']:,.0f}/{r['expected']:,.0f}"


def _stamped(engine: str, r: dict[str, Any]) -> str:
    return secs(r.get("stamped_p99_s")) if engine == "symbiont" else "same"


def _table(columns: list[str]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def burst_table(results: dict[tuple[int, str], dict[str, Any]], cap: int) -> list[str]:
    lateness = ["lateness p50", "lateness p99", "p99 by record"]
    lines = _table(
        ["N", "engine", "T → last start", *lateness, "started", "peak RSS", "APS ÷ symbiont"]
    )
    for (n, engine), r in results.items():
        head = f"| {n:,} | {engine} |"
        if r.get("capped"):
            lines.append(
                f"{head} not run: capped at {cap:,} (a SQLite commit per start: minutes) |"
                + " |" * 6
            )
        elif "error" in r:
            lines.append(f"{head} failed: {r['error']} |" + " |" * 6)
        else:
            ours = results.get((n, "symbiont"), {})
            mine = engine == "symbiont"
            lines.append(
                f"{head} {secs(r['last_s'])} | {secs(r['p50_s'])} | {secs(r['p99_s'])}"
                f" | {_stamped(engine, r)} | {_started(r)} | {r['rss_mib']:.0f} MiB"
                f" | {'' if mine else ratio(r['last_s'], ours.get('last_s'))} |"
            )
    return lines


def rate_table(results: dict[str, dict[str, Any]], *, lateness: bool) -> list[str]:
    columns = ["engine", "CPU % of one core"]
    if lateness:
        columns += ["lateness p50", "lateness p99", "p99 by record", "started"]
    lines = _table([*columns, "peak RSS", "CPU: APS ÷ symbiont"])
    ours = results.get("symbiont", {})
    for engine, r in results.items():
        if "error" in r:
            lines.append(f"| {engine} | failed: {r['error']} |" + " |" * (len(columns) - 1))
            continue
        cells = [engine, f"{r['cpu_pct']:.2f} %"]
        if lateness:
            cells += [secs(r["p50_s"]), secs(r["p99_s"]), _stamped(engine, r), _started(r)]
        cells += [
            f"{r['rss_mib']:.0f} MiB",
            "" if engine == "symbiont" else ratio(r["cpu_pct"], ours.get("cpu_pct")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def targets(
    args: argparse.Namespace,
    bursts: dict[tuple[int, str], dict[str, Any]],
    steadies: dict[str, dict[str, Any]],
    idles: dict[str, dict[str, Any]],
) -> list[str]:
    """The issue's targets for symbiont: (what, measured, met) as table rows."""
    rows: list[tuple[str, str, bool]] = []
    r = bursts.get((10_000, "symbiont"))
    if r is not None and "error" not in r:
        ok = _complete(r) and r["last_s"] <= 0.5 and r["p99_s"] < 0.3
        late = f"last start {secs(r['last_s'])}, p99 {secs(r['p99_s'])}, {_started(r)} started"
        rows.append(("burst 10,000: all started within 0.5 s of T, p99 < 300 ms", late, ok))
    r = bursts.get((100_000, "symbiont"))
    if r is not None and "error" not in r:
        late = f"last start {secs(r['last_s'])}, {_started(r)} started"
        ok = _complete(r) and r["last_s"] <= 5
        rows.append(("burst 100,000: all started within 5 s of T", late, ok))
    r = steadies.get("symbiont")
    if r is not None and "error" not in r:
        what = f"steady, {args.steady_jobs:,} jobs"
        rows.append((f"{what}: CPU < 2 %", f"{r['cpu_pct']:.2f} %", r["cpu_pct"] < 2))
        ok = _complete(r) and r["p99_s"] < 0.05
        rows.append((f"{what}: lateness p99 < 50 ms", f"{secs(r['p99_s'])}, {_started(r)}", ok))
    r = idles.get("symbiont")
    if r is not None and "error" not in r:
        what = f"idle, {args.idle_jobs:,} jobs: CPU < 0.5 %"
        rows.append((what, f"{r['cpu_pct']:.2f} %", r["cpu_pct"] < 0.5))
    lines = _table(["target (symbiont, SQLite)", "measured", "met"])
    lines += [f"| {what} | {value} | {'yes' if ok else '**no**'} |" for what, value, ok in rows]
    return lines


def _complete(r: dict[str, Any]) -> bool:
    return bool(r["started"] == r["expected"])


# -- main ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="burst,steady,idle")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--sizes", default="1000,10000,100000", help="burst sizes N")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per burst point up to 10,000 jobs (median)"
    )
    parser.add_argument("--steady-jobs", type=int, default=10_000)
    parser.add_argument("--steady-minutes", type=float, default=3.0)
    parser.add_argument(
        "--steady-engines", default="symbiont,aps-asyncio-memory,aps-asyncio-sqlalchemy"
    )
    parser.add_argument("--idle-engines", default=",".join(ENGINES))
    parser.add_argument("--idle-jobs", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument("--sql-cap", type=int, default=10_000, help="largest APScheduler SQL N")
    parser.add_argument("--claim-batch", type=int, default=500, help="symbiont claim_batch")
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.sql_cap = "200", 1, 200
        args.steady_jobs, args.steady_minutes, args.steady_engines = 600, 2 / 60, "symbiont"
        args.idle_jobs, args.idle_seconds, args.warmup_seconds = 200, 1.0, 1.0
        args.idle_engines = "symbiont"
    return args


def main() -> int:
    args = parse_args()
    if args.child:
        anyio.run(child, json.loads(args.child))
        return 1  # the child leaves through os._exit once its result is written
    runner = Runner(args)
    engines = [e for e in args.engines.split(",") if e]
    scenarios = args.scenarios.split(",")
    bursts: dict[tuple[int, str], dict[str, Any]] = {}
    steadies: dict[str, dict[str, Any]] = {}
    idles: dict[str, dict[str, Any]] = {}
    if "burst" in scenarios:
        bursts = run_bursts(runner, engines)
    window = {"window_s": args.steady_minutes * 60, "warmup_s": args.warmup_seconds}
    if "steady" in scenarios:
        for engine in (e for e in args.steady_engines.split(",") if e in engines):
            steadies[engine] = runner.run("steady", engine, args.steady_jobs, **window)
            progress(f"steady {engine}", steadies[engine])
    window = {"window_s": args.idle_seconds, "warmup_s": args.warmup_seconds}
    if "idle" in scenarios:
        for engine in (e for e in args.idle_engines.split(",") if e in engines):
            idles[engine] = runner.run("idle", engine, args.idle_jobs, **window)
            progress(f"idle {engine}", idles[engine])
    report(args, bursts, steadies, idles)
    return 0


def run_bursts(runner: Runner, engines: list[str]) -> dict[tuple[int, str], dict[str, Any]]:
    args = runner.args
    bursts: dict[tuple[int, str], dict[str, Any]] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        for engine in engines:
            if engine.endswith("sqlalchemy") and n > args.sql_cap:
                bursts[n, engine] = {"capped": True}
                continue
            repeat = args.repeat if n <= 10_000 else 1  # a 100,000 burst runs once
            runs = [runner.run("burst", engine, n) for _ in range(repeat)]
            for r in runs:
                progress(f"burst N={n:,} {engine}", r)
            bursts[n, engine] = median_of(runs)
    return bursts


def report(
    args: argparse.Namespace,
    bursts: dict[tuple[int, str], dict[str, Any]],
    steadies: dict[str, dict[str, Any]],
    idles: dict[str, dict[str, Any]],
) -> None:
    import apscheduler

    print(f"# dispatch benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.platform()},"
        f" SQLite {sqlite3.sqlite_version}, APScheduler {apscheduler.__version__}\n"
    )
    if bursts:
        print(f"## burst: median of {args.repeat} runs (1 above 10,000 jobs)\n")
        print("\n".join(burst_table(bursts, args.sql_cap)) + "\n")
    if steadies:
        window = f"{args.steady_minutes * 60:g} s"
        print(
            f"## steady: {args.steady_jobs:,} jobs, job i fires at second i % 60, {window} window\n"
        )
        print("\n".join(rate_table(steadies, lateness=True)) + "\n")
    if idles:
        print(f"## idle: {args.idle_jobs:,} jobs, {args.idle_seconds:g} s window\n")
        print("\n".join(rate_table(idles, lateness=False)) + "\n")
    print("## targets\n")
    print("\n".join(targets(args, bursts, steadies, idles)))


if __name__ == "__main__":
    raise SystemExit(main())
