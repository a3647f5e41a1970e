"""A small open-loop HTTP load generator, run as its own process so it never shares a core's loop with the server.

Usage: python -m tests.bench.loadgen SCENARIO.json  (prints one JSON line of results)

The scenario names the base URL, the duration, and a weighted mix of requests. In "open" mode requests go
out at `rate` per second on a fixed schedule whether or not earlier ones have answered, so a slow server
shows up as latency rather than as a politely lower rate. In "closed" mode `concurrency` users each send
their next request as soon as the last one answers, which finds the most the server can do.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')


@dataclass
class Step:
    name: str
    method: str
    path: str
    weight: float
    form: dict[str, str] = field(default_factory=dict)
    cookie: str = ""  # a signed-in session cookie value to send, if any
    expect: tuple[int, ...] = (200, 303)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(scenario: dict[str, Any]) -> dict[str, Any]:
    steps = [Step(**s) for s in scenario["steps"]]
    rate = float(scenario.get("rate", 0))
    duration = float(scenario["duration"])
    rng = random.Random(scenario.get("seed", 1))
    limits = httpx.Limits(max_connections=scenario.get("connections", 200), max_keepalive_connections=scenario.get("connections", 200))
    latencies: dict[str, list[float]] = {s.name: [] for s in steps}
    errors: dict[str, int] = {s.name: 0 for s in steps}
    error_samples: list[str] = []
    async with httpx.AsyncClient(base_url=scenario["base_url"], limits=limits, timeout=30, headers={"accept-encoding": "gzip"}) as client:
        # One CSRF token for the whole run: the double-submit cookie and the field only have to match.
        page = await client.get(scenario.get("csrf_page", "/signin"))
        token_match = CSRF.search(page.text)
        token = token_match.group(1) if token_match else ""
        csrf_cookie = client.cookies.get("csrftoken", "")

        async def one(step: Step) -> None:
            cookies = {"csrftoken": csrf_cookie}
            if step.cookie:
                cookies["civic_session"] = step.cookie
            started = time.perf_counter()
            try:
                if step.method == "GET":
                    response = await client.get(step.path, cookies=cookies)
                else:
                    form = {k: v.replace("{n}", str(rng.randrange(10**9))) for k, v in step.form.items()}
                    response = await client.post(step.path, data={**form, "csrftoken": token}, cookies=cookies)
                ok = response.status_code in step.expect
                if not ok and len(error_samples) < 5:
                    error_samples.append(f"{step.name}: {response.status_code} {response.text[:120]!r}")
            except httpx.HTTPError as error:
                ok = False
                if len(error_samples) < 5:
                    error_samples.append(f"{step.name}: {type(error).__name__}")
            elapsed = (time.perf_counter() - started) * 1000
            latencies[step.name].append(elapsed)
            if not ok:
                errors[step.name] += 1

        weights = [s.weight for s in steps]
        start = time.perf_counter()
        if scenario.get("mode", "open") == "closed":
            # Closed loop: `concurrency` users, each sending the next request when the last one answers.
            deadline = start + duration

            async def user() -> None:
                while time.perf_counter() < deadline:
                    await one(rng.choices(steps, weights)[0])

            await asyncio.gather(*(user() for _ in range(int(scenario.get("concurrency", 16)))))
        else:
            tasks = []
            for i in range(int(rate * duration)):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(rng.choices(steps, weights)[0])))
            await asyncio.gather(*tasks)
        wall = time.perf_counter() - start
    every = [ms for values in latencies.values() for ms in values]
    return {
        "requests": len(every),
        "seconds": round(wall, 2),
        "rps": round(len(every) / wall, 1),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "mean_ms": round(statistics.fmean(every), 1) if every else 0,
        "errors": sum(errors.values()),
        "by_step": {
            name: {"n": len(v), "p50_ms": round(percentile(v, 50), 1), "p99_ms": round(percentile(v, 99), 1), "errors": errors[name]}
            for name, v in latencies.items()
        },
        "error_samples": error_samples,
    }


def main() -> None:
    with open(sys.argv[1]) as file:
        scenario = json.load(file)
    print(json.dumps(asyncio.run(run(scenario))))


if __name__ == "__main__":
    main()
