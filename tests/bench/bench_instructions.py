"""Instructions per request, counted by valgrind: a measure of app work that timing noise cannot hide.

Run: python -m tests.bench.bench_instructions [--requests 50] [--kinds "ballot view,ballot submission"]

It builds the load benchmark's council on PostgreSQL (tests/bench/bench_load.py seed), then, for each
kind of request in its mix, runs the app in one process under `valgrind --tool=callgrind` twice:
once with no requests and once with `--requests` of that kind, sent in-process through httpx's ASGI
transport. The difference, divided by the number of requests, is what one request costs: the app,
Tortoise and asyncpg on the client side, and httpx's share (the same for every kind). PostgreSQL runs
in its own process and is not counted. What is kept (pages, the round, the councils) is kept for the
whole run, so the same code counts the same on a busy machine or an idle one (until 2026-12-02 the
usual 10 s lifetimes applied, and a loaded machine counted more); compare two checkouts with it:
`git worktree add ../before <commit>` and run it in each.

Reference (2026-11-23, 50 requests of each kind), before this benchmark's session (commit c41a297)
and after it:

    directory search     10.22 -> 9.75 million
    scheme page           7.67 -> 7.45 million
    ballot view          16.16 -> 9.70 million
    ballot submission    13.33 -> 6.74 million

Later that day (kept anonymous pages and share controls, commit 7dca400), the same kinds measured
10.13, 8.25, 10.81 and 6.94 million before on that machine and 6.71, 7.00, 8.63 and 6.15 million after.

2026-12-01, ballot submission only (every save in the mix changes a ballot, so each supersedes the
voter's unsent receipt): 5.78 million at bed435a, 5.95 million with the receipt superseded.

Later on 2026-12-01, at 65e1bdc and after it (form macros imported once, e-mail queued by hand):
ballot view 7.29 -> 7.02 (6.84 in a second run), ballot submission 6.16 -> 5.82 (5.77); directory
search 6.05 and scheme page 6.21 million after. Runs on fresh databases differ by up to 3%.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ["directory search", "scheme page", "ballot view", "ballot submission"]


def environment(world: dict) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CIVIC_ENV": "production",
        "CIVIC_BASE_URL": "https://surgeford.example",
        "CIVIC_DATABASE_URL": world["url"],
        "CIVIC_DATA_DIR": world["data_dir"],
        "CIVIC_SECRET_KEY": world["secret_key"],
        "CIVIC_ENCRYPTION_KEYS": world["encryption_keys"],
        "CIVIC_SMTP_HOST": "127.0.0.1",
        "CIVIC_LOG_LEVEL": "warning",
        # Under valgrind a request takes a hundred times as long: with the usual 10 s lifetimes the kept
        # pages, the round and the councils' host names would expire between requests, more often on a
        # busy machine than on an idle one, and the count would follow the machine's load.
        "CIVIC_PUBLIC_CACHE_SECONDS": "86400",
        "CIVIC_COUNCIL_CACHE_SECONDS": "86400",
    }


async def requests_in_process(kind: str, count: int, world: dict) -> None:
    """The inner run: start the app, send 5 requests to warm it, then `count` more of one kind."""
    import httpx

    from routes import create_app
    from tests.bench import bench_load, wrk

    app = create_app()
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        page = await client.get("/signin")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        steps = [s for s in bench_load.scenario("", world, 0, 0)["steps"] if s["name"] == kind and not s.get("flow")]
        requests = wrk.requests_from(steps, page.cookies["csrftoken"], token, "127.0.0.1")
        for n in range(5 + count):
            request = requests[n % len(requests)]
            client.cookies.clear()  # each request carries its own cookies, as wrk sends them
            body = request["body"].replace("{n}", str(n)) if request["body"] else None
            response = await client.request(request["method"], request["path"], headers=request["headers"], content=body)
            assert response.status_code < 400, (kind, response.status_code)


def instructions(kind: str, count: int, world_file: Path) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", "tests.bench.bench_instructions", "--inner", kind, str(count), str(world_file)]
    out = subprocess.run(command, cwd=ROOT, env=environment(json.loads(world_file.read_text())), capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or not found:
        raise RuntimeError(f"{kind}: callgrind run failed\n{out.stderr[-2000:]}")
    return int(found.group(1))


async def main(args: argparse.Namespace) -> None:
    from civic import config
    from tests.bench import bench_load
    from tests.bench.support import bench_database

    if not shutil.which("valgrind"):
        sys.exit("bench_instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as data_dir:
        work = Path(data_dir)
        async with bench_database(work) as url:
            world = await bench_load.seed(url)
            settings = config.current()
            world.update(url=url, data_dir=str(work), secret_key=settings.secret_key or "x" * 48, encryption_keys=settings.encryption_keys)
            world_file = work / "world.json"
            world_file.write_text(json.dumps(world))
            print(f"instructions per request, {args.requests} requests of each kind, in-process (callgrind):")
            with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
                for kind in args.kinds:
                    idle, busy = pool.map(lambda n: instructions(kind, n, world_file), (0, args.requests))
                    print(f"  {kind:20} {(busy - idle) / args.requests / 1e6:6.2f} million", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inner"]:
        kind, count, world_file = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
        asyncio.run(requests_in_process(kind, count, json.loads(world_file.read_text())))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--kinds", type=lambda text: [k.strip() for k in text.split(",") if k.strip()], default=KINDS)
        asyncio.run(main(parser.parse_args()))
