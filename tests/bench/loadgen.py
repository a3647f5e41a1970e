"""A small open-loop HTTP load generator, run as its own process so it never shares a core's loop with the server.

Usage: python -m tests.bench.loadgen SCENARIO.json  (prints one JSON line of results)

The scenario names the base URL, the duration, and a weighted mix of requests (or flows of requests that
share their cookies). Requests go out at `rate` per second on a fixed schedule whether or not earlier
ones have answered (open loop), so a slow server shows up as latency rather than as a lower rate.
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
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')


@dataclass
class Step:
    name: str
    method: str = "GET"
    path: str = "/"
    weight: float = 1.0
    form: dict[str, str] = field(default_factory=dict)
    cookie: str = ""  # a signed-in session cookie value to send, if any
    expect: tuple[int, ...] = (200, 303)
    flow: list[dict[str, Any]] = field(default_factory=list)  # requests made in turn, sharing their cookies


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(scenario: dict[str, Any]) -> dict[str, Any]:
    steps = [Step(**s) for s in scenario["steps"]]
    rate = float(scenario["rate"])
    duration = float(scenario["duration"])
    rng = random.Random(scenario.get("seed", 1))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    latencies: dict[str, list[float]] = {s.name: [] for s in steps}
    errors: dict[str, int] = {s.name: 0 for s in steps}
    error_samples: list[str] = []
    # The client keeps no cookies of its own: each request (or flow) carries exactly the ones it should.
    no_cookies = httpx.Cookies(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))
    async with httpx.AsyncClient(base_url=scenario["base_url"], limits=limits, timeout=30, headers={"accept-encoding": "gzip"}, cookies=no_cookies) as client:
        # One CSRF token for the whole run: the double-submit cookie and the field only have to match.
        page = await client.get(scenario.get("csrf_page", "/signin"))
        token_match = CSRF.search(page.text)
        token = token_match.group(1) if token_match else ""
        csrf_cookie = _set_cookies(page).get("csrftoken", "")

        async def request(name: str, method: str, path: str, form: dict[str, str], cookies: dict[str, str], expect) -> bool:
            started = time.perf_counter()
            try:
                if method == "GET":
                    response = await client.get(path, cookies=cookies)
                else:
                    filled = {k: v.replace("{n}", str(rng.randrange(10**9))) for k, v in form.items()}
                    response = await client.post(path, data={**filled, "csrftoken": token}, cookies=cookies)
                cookies.update(_set_cookies(response))
                ok = response.status_code in expect
                if not ok and len(error_samples) < 5:
                    error_samples.append(f"{name}: {response.status_code} {response.text[:120]!r}")
            except httpx.HTTPError as error:
                ok = False
                if len(error_samples) < 5:
                    error_samples.append(f"{name}: {type(error).__name__}")
            latencies[name].append((time.perf_counter() - started) * 1000)
            if not ok:
                errors[name] += 1
            return ok

        async def one(step: Step) -> None:
            cookies = {"csrftoken": csrf_cookie}
            if step.cookie:
                cookies["civic_session"] = step.cookie
            for part in step.flow or [{"method": step.method, "path": step.path, "form": step.form}]:
                if not await request(step.name, part["method"], part["path"], part.get("form", {}), cookies, step.expect):
                    break

        weights = [s.weight for s in steps]
        start = time.perf_counter()
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
