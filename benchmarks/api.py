"""API benchmark: requests per second and latency of `symbi up` on SQLite with 10,000 jobs.

The daemon runs in its own process; the load generator (httpx, asyncio, C concurrent
connections) runs in a second process on loopback, so their CPU time is not shared by one
event loop. Each endpoint is measured for D seconds after a short warm-up:

    python benchmarks/api.py                 # 10,000 jobs, 10 s per endpoint, 32 connections
    python benchmarks/api.py --quick         # 500 jobs, 2 s per endpoint (smoke run)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

KEY = "bench-key"


async def _fill(db: Path, jobs: int) -> list[str]:
    from symbiont.core.clock import SystemClock
    from symbiont.service import JobService
    from symbiont.store import SQLiteJobStore

    async with SQLiteJobStore(db) as store:
        service = JobService(store, SystemClock())
        created = await service.create_jobs(
            [
                {"name": f"job-{i:05d}", "agent_id": f"agent-{i % 20}", "cron_expr": "0 0 0 1 1 *"}
                for i in range(jobs)
            ],
            actor="bench",
        )
    return [job.id for job in created]


def _start_daemon(folder: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    (folder / "agents").mkdir(exist_ok=True)
    log = (folder / "daemon.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "symbiont",
            "up",
            "--db",
            str(db),
            "--agents-dir",
            str(folder / "agents"),
            "--port",
            "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
        env={**os.environ, "SYMBI_API_KEY": KEY},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in (folder / "daemon.log").read_text().splitlines():
            if '"daemon.started"' in line:
                return proc, json.loads(line)["api"]
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("daemon did not start:\n" + (folder / "daemon.log").read_text())


async def _load(url: str, kind: str, ids: list[str], seconds: float, connections: int) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop:
                start = time.perf_counter()
                if kind == "get":
                    response = await client.get(f"/api/v1/schedule/{random.choice(ids)}")
                elif kind == "list":
                    response = await client.get("/api/v1/schedule", params={"limit": 100})
                else:
                    n = next(counter)
                    response = await client.post(
                        "/api/v1/schedule",
                        json={
                            "name": f"new-{os.getpid()}-{n}",
                            "agent_id": "a",
                            "cron_expr": "0 0 0 1 1 *",
                        },
                    )
                latencies.append(time.perf_counter() - start)
                if response.status_code >= 400:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors,
    }


_WRK_SCRIPTS = {
    "get": """
local ids = {}
init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
end
request = function()
  return wrk.format("GET", "/api/v1/schedule/" .. ids[math.random(#ids)])
end
""",
    "list": """
request = function() return wrk.format("GET", "/api/v1/schedule?limit=100") end
""",
    "post": """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  local name = "w-" .. tid .. "-" .. n
  local body = '{"name": "' .. name .. '", "agent_id": "a", "cron_expr": "0 0 0 1 1 *"}'
  local headers = {["Content-Type"] = "application/json"}
  headers["Authorization"] = wrk.headers["Authorization"]
  return wrk.format("POST", "/api/v1/schedule", headers, body)
end
""",
}


def _wrk(url: str, kind: str, folder: Path, seconds: float, connections: int) -> dict:
    """Measure with wrk (C, two threads): the generator is not the bottleneck."""
    script = folder / f"{kind}.lua"
    script.write_text(_WRK_SCRIPTS[kind])
    out = subprocess.run(  # noqa: S603 - wrk (found on PATH) with our own arguments
        [
            shutil.which("wrk") or "/usr/bin/wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {KEY}",
            "-s",
            str(script),
            url,
            "--",
            str(folder / "ids.txt"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        "rps": float(_after(out, "Requests/sec:")),
        "p50_ms": _ms(_after(out, "50%")),
        "p99_ms": _ms(_after(out, "99%")),
        "errors": int(_after(out, "Non-2xx or 3xx responses:") or 0),
    }


def _after(text: str, label: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith(label):
            return line.strip().removeprefix(label).split()[0]
    return ""


def _ms(value: str) -> float:
    for unit, factor in (("ms", 1.0), ("us", 0.001), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value.removesuffix(unit)) * factor
    return float("nan")


def _generator(args: argparse.Namespace) -> None:
    """The load-generator process: one endpoint, prints one JSON line."""
    ids = json.loads(Path(args.ids).read_text())
    result = asyncio.run(_load(args.url, args.kind, ids, args.seconds, args.connections))
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        _generator(args)
        return 0
    if args.quick:
        args.jobs, args.seconds, args.connections = 500, 2, 8
    folder = Path(tempfile.mkdtemp(prefix="symbi-api-bench-"))
    db = folder / "bench.db"
    ids = anyio.run(_fill, db, args.jobs)
    (folder / "ids.json").write_text(json.dumps(ids))
    (folder / "ids.txt").write_text("\n".join(ids) + "\n")
    proc, url = _start_daemon(folder, db)
    rows = []
    tool = "wrk" if shutil.which("wrk") else "python httpx"
    try:
        for kind, label in (
            ("get", "GET /api/v1/schedule/{id}"),
            ("list", "GET /api/v1/schedule?limit=100"),
            ("post", "POST /api/v1/schedule"),
        ):
            if tool == "wrk":
                rows.append((label, _wrk(url, kind, folder, args.seconds, args.connections)))
                continue
            out = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    __file__,
                    "--generator",
                    "--url",
                    url,
                    "--ids",
                    str(folder / "ids.json"),
                    "--kind",
                    kind,
                    "--seconds",
                    str(args.seconds),
                    "--connections",
                    str(args.connections),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    print(
        f"# API benchmark: {args.jobs:,} jobs on SQLite, {args.connections} connections, "
        f"{args.seconds:g} s per endpoint, python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    print()
    print("| endpoint | requests/s | p50 (ms) | p99 (ms) | errors |")
    print("|---|---|---|---|---|")
    for label, r in rows:
        print(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
