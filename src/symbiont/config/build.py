"""The composition root: builds the store, service, scheduler and API from `Settings`."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import anyio
import structlog
from anyio.abc import TaskStatus

from symbiont.api import AppState, create_app
from symbiont.api.server import ApiServer
from symbiont.config.settings import AgentPinConfig, Settings
from symbiont.core.clock import Clock, SystemClock
from symbiont.core.errors import ConfigError
from symbiont.delivery.build import build_router
from symbiont.delivery.router import DefaultDeliveryRouter
from symbiont.delivery.settings import DeliverySettings
from symbiont.observability import log_runs
from symbiont.observability.metrics import SchedulerMetrics
from symbiont.policy.agentpin import AgentPinVerifier, FileKeys, HttpDiscovery, KeySource
from symbiont.runtime.base import RuntimeSettings
from symbiont.runtime.templates import resolve_template
from symbiont.scheduler.daemon import CronScheduler, SchedulerSettings
from symbiont.scheduler.dispatch import AgentDispatcher, AgentRegistry, GateSettings
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.service import JobService, ServiceSettings
from symbiont.service.loader import LoadReport, load_folder
from symbiont.store import open_store
from symbiont.store.base import JobStore
from symbiont.store.sqlite import SQLiteJobStore

_log = structlog.get_logger("symbiont.daemon")


def build_store(settings: Settings, environ: Mapping[str, str]) -> JobStore:
    """Pick the store adapter: PostgreSQL for ``[store] url``, else the SQLite file."""
    if settings.store.url:
        return open_store(settings.store.url)
    busy = timedelta(seconds=settings.store.busy_timeout_seconds)
    return SQLiteJobStore(settings.sqlite_path(environ), busy_timeout=busy)


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    """Translate ``[scheduler]`` into the scheduler's typed settings."""
    conf, store = settings.scheduler, settings.store
    return SchedulerSettings(
        node_id=conf.node_id or f"{socket.gethostname()}-{os.getpid()}",
        tick_interval=timedelta(seconds=conf.tick_interval_seconds),
        max_jitter=timedelta(seconds=conf.max_jitter_seconds),
        max_concurrent_jobs=settings.max_concurrent,
        default_max_retries=conf.default_max_retries,
        shutdown_timeout=timedelta(seconds=conf.shutdown_timeout_seconds),
        lease=timedelta(seconds=conf.lease_seconds),
        fire_ahead=timedelta(seconds=conf.fire_ahead_seconds),
        fire_ahead_min=conf.fire_ahead_min_runs,
        approval_timeout=timedelta(seconds=conf.approval_timeout_seconds),
        planner=OccurrencePlanner(catchup=conf.enable_missed_run_catchup),
        history_max_age=(
            None
            if store.history_max_age_days is None
            else timedelta(days=store.history_max_age_days)
        ),
        history_max_per_job=store.history_max_per_job,
    )


def build_verifier(config: AgentPinConfig, clock: Clock) -> AgentPinVerifier:
    """Build the verifier ``[agentpin]`` describes: local keys if ``keys_path``, else HTTPS."""
    source: KeySource
    if config.keys_path:
        source = FileKeys(Path(config.keys_path).expanduser())
    else:
        source = HttpDiscovery(
            clock,
            ttl=timedelta(seconds=config.discovery_ttl_seconds),
            url_template=config.discovery_url,
        )
    return AgentPinVerifier(
        source,
        clock,
        skew=timedelta(seconds=config.clock_skew_seconds),
        audience=config.audience,
        domain=config.domain,
    )


def log_dir(settings: Settings, environ: Mapping[str, str]) -> Path:
    """The folder of job log files and the daemon's log.

    ``[logging] dir`` / ``SYMBI_LOG_DIR``, else ``logs/`` beside the SQLite store.
    """
    if settings.logging.dir:
        return Path(settings.logging.dir).expanduser()
    return settings.sqlite_path(environ).parent / "logs"


def build_delivery(
    settings: Settings, environ: Mapping[str, str], clock: Clock
) -> DefaultDeliveryRouter:
    """The delivery router from ``[scheduler.delivery]``, with every built-in channel."""
    config = DeliverySettings.from_config(
        settings.scheduler.delivery, environ, log_dir=log_dir(settings, environ)
    )
    return build_router(config, environ, clock=clock)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the API beyond loopback without an API key."""
    host = settings.api.host
    if settings.api.named_keys():
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            "api",
            "api.host",
            f"refusing to listen on {host} without an API key; set SYMBI_API_KEY or [api] key,"
            " or listen on 127.0.0.1",
        )


@dataclass(slots=True)
class Daemon:
    """A running daemon's parts, for tests and the CLI."""

    store: JobStore
    service: JobService
    scheduler: CronScheduler
    api: ApiServer
    report: LoadReport


async def serve(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    clock: Clock | None = None,
    handle_signals: bool = True,
    task_status: TaskStatus[Daemon] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run the daemon: load the agents folder, schedule, serve the API; stop on SIGINT/SIGTERM."""
    check_exposure(settings)
    clock = clock or SystemClock()
    async with build_store(settings, environ) as store:
        service = JobService(
            store,
            clock,
            ServiceSettings(default_max_retries=settings.scheduler.default_max_retries),
        )
        report = await load_folder(Path(settings.agents_dir), service)
        registry = AgentRegistry(report.agents)
        runtime = RuntimeSettings(
            environ=dict(environ),
            work_dir=None,
            kill_grace=timedelta(seconds=settings.scheduler.kill_grace_seconds),
        )
        gate = GateSettings(
            environment=settings.environment,
            agent_pin_required=settings.agentpin.required,
            agent_pin_domain=settings.agentpin.domain,
        )
        dispatcher = AgentDispatcher(
            store,
            registry,
            runtime,
            clock,
            gate=gate,
            pin=build_verifier(settings.agentpin, clock),
            delivery=build_delivery(settings, environ, clock),
        )
        scheduler = CronScheduler(store, dispatcher, clock, scheduler_settings(settings))
        log_runs(scheduler.events)
        service.on_change = scheduler.wake
        keys = {n: resolve_template(k, environ) for n, k in settings.api.named_keys().items()}
        metrics = None
        if settings.scheduler.enable_metrics:
            metrics = SchedulerMetrics()
            metrics.attach(scheduler.events, lambda: scheduler.stats.in_flight)
        state = AppState(
            service=service,
            scheduler=scheduler,
            metrics=metrics,
            api_keys=keys,
            max_body_bytes=settings.api.max_body_bytes,
        )
        api = ApiServer(create_app(state), settings.api.host, settings.api.port)
        watcher = anyio.CancelScope()

        async def run_scheduler(*, task_status: TaskStatus[None]) -> None:
            try:
                await scheduler.run(task_status=task_status)
            finally:
                api.stop()
                watcher.cancel()

        async def watch_signals(*, task_status: TaskStatus[None]) -> None:
            with watcher:
                await _stop_on_signal(scheduler, task_status)

        async with anyio.create_task_group() as tg:
            await tg.start(api.serve)
            await tg.start(run_scheduler)
            if handle_signals:  # before "started": a signal from then on stops us cleanly
                await tg.start(watch_signals)
            _log.info(
                "daemon.started",
                node=scheduler.settings.node_id,
                store=store.location,
                api=f"http://{settings.api.host}:{api.port}",
                auth=f"{len(keys)} API key(s)" if keys else "none (loopback only)",
                agents=sorted(report.agents),
            )
            task_status.started(Daemon(store, service, scheduler, api, report))


async def _stop_on_signal(scheduler: CronScheduler, task_status: TaskStatus[None]) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for signum in signals:
            _log.info("daemon.stopping", signal=signal.Signals(signum).name)
            scheduler.stop()
            return
