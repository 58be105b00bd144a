"""The DSL loader: registers every ``*.symbi`` file of the agents folder, idempotently by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from symbiont.core.errors import SymbiontError
from symbiont.dsl import Document, parse_file
from symbiont.dsl.model import AgentSpec, ScheduleSpec
from symbiont.service.jobs import JobService
from symbiont.store.base import JobFilter

_log = structlog.get_logger("symbiont.loader")
ACTOR = "loader"
_PAGE = 1000


@dataclass(slots=True)
class LoadReport:
    """What loading the agents folder did."""

    agents: dict[str, AgentSpec] = field(default_factory=dict)
    """Every agent definition found, by name."""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    """Jobs loaded from this folder earlier whose block is gone (kept, not deleted)."""
    errors: list[str] = field(default_factory=list)
    """Files or schedules that could not be loaded, one readable line each."""
    warnings: list[str] = field(default_factory=list)


def schedule_fields(spec: ScheduleSpec) -> dict[str, Any]:
    """Map a DSL schedule block to the service's (API-named) job fields."""
    return {
        "name": spec.name,
        "agent_id": spec.agent,
        "cron_expr": spec.cron,
        "at": spec.at,
        "timezone": spec.timezone,
        "session_mode": spec.session_mode,
        "delivery": list(spec.delivery),
        "deliver_on": spec.deliver_on,
        "webhook_url": spec.webhook_url,
        "webhook_headers": dict(spec.webhook_headers),
        "webhook_secret": spec.webhook_secret,
        "slack_channel": spec.slack_channel,
        "email_recipients": list(spec.email_recipients),
        "policy": spec.policy,
        "heartbeat": spec.heartbeat,
        "max_retries": spec.max_retries,
        "retry_delay": spec.retry_delay,
        "max_concurrent": spec.max_concurrent,
        "jitter_seconds": spec.jitter_seconds,
        "misfire_policy": spec.misfire_policy,
        "agent_pin_jwt": spec.agent_pin_jwt,
        "input": spec.input,
        "description": spec.description,
    }


def read_folder(folder: Path) -> tuple[list[Document], list[str]]:
    """Parse every ``*.symbi`` file under *folder* (sorted); return documents and error lines."""
    documents: list[Document] = []
    errors: list[str] = []
    if not folder.is_dir():
        return documents, [f"{folder}: agents folder not found (set --agents-dir)"]
    for path in sorted(folder.rglob("*.symbi")):
        try:
            documents.append(parse_file(path))
        except SymbiontError as exc:
            errors.append(str(exc))
    return documents, errors


async def load_folder(folder: Path, service: JobService) -> LoadReport:
    """Register the agents and schedules of *folder*; report what changed.

    A broken file is reported and skipped (its jobs keep their last good definition); a job
    whose block was removed is reported as orphaned, never deleted silently.
    """
    report = LoadReport()
    documents, report.errors = read_folder(folder)
    seen: dict[str, str] = {}
    for document in documents:
        report.warnings.extend(str(w) for w in document.warnings)
        _collect_agents(document, report)
        for spec in document.schedules:
            if spec.name in seen:
                report.errors.append(
                    f"{spec.path}:{spec.line}:{spec.column}: schedule {spec.name!r} is also"
                    f" defined in {seen[spec.name]}; this one is ignored"
                )
                continue
            seen[spec.name] = spec.path
            await _register(service, spec, _source(folder, document.path), report)
    report.orphaned = await _orphans(service, set(seen))
    _log_report(report)
    return report


def _collect_agents(document: Document, report: LoadReport) -> None:
    for agent in document.agents:
        other = report.agents.get(agent.name)
        if other is not None:
            report.errors.append(
                f"{agent.path}:{agent.line}:{agent.column}: agent {agent.name!r} is also"
                f" defined in {other.path}; this one is ignored"
            )
            continue
        report.agents[agent.name] = agent


async def _register(
    service: JobService, spec: ScheduleSpec, source: str, report: LoadReport
) -> None:
    try:
        _, result = await service.upsert_job(schedule_fields(spec), actor=ACTOR, source=source)
    except SymbiontError as exc:
        report.errors.append(
            f"{spec.path}:{spec.line}:{spec.column}: schedule {spec.name!r}: {exc}"
        )
        return
    {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}[
        result
    ].append(spec.name)


def _source(folder: Path, path: str) -> str:
    try:
        return f"dsl:{Path(path).relative_to(folder)}"
    except ValueError:
        return f"dsl:{path}"


async def _orphans(service: JobService, loaded: set[str]) -> list[str]:
    found: list[str] = []
    offset = 0
    while True:
        page = await service.list_jobs(JobFilter(limit=_PAGE, offset=offset))
        found += [j.name for j in page if j.source.startswith("dsl:") and j.name not in loaded]
        if len(page) < _PAGE:
            return found
        offset += _PAGE


def _log_report(report: LoadReport) -> None:
    _log.info(
        "loader.loaded",
        agents=len(report.agents),
        created=report.created,
        updated=report.updated,
        unchanged=len(report.unchanged),
    )
    for line in report.errors:
        _log.error("loader.error", error=line)
    for line in report.warnings:
        _log.warning("loader.warning", warning=line)
    for name in report.orphaned:
        _log.warning(
            "loader.orphaned",
            job=name,
            hint=f"its block is gone, it keeps running; remove: symbi cron remove --name {name}",
        )
