"""Benchmark: from a concern form's submission to the team system's 2xx (p50, p99), and deliveries per second for one worker.

    .venv/bin/python tests/bench/bench_webhooks.py [--submissions 100] [--deliveries 500] [--interval 0.1]

Uses SQLite in a temporary folder, or PostgreSQL when CIVIC_TEST_DATABASE_URL is set (a database is
made and dropped). The worker is a real `civic worker` process; the receiver is the test peer
(tests/peers/webhook_receiver.py), verifying every signature. A concern is submitted through the
real app (every step of the form, then Send) in a category that is referred straight away.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from civic import config, db  # noqa: E402
from civic.concerns import routing  # noqa: E402
from civic.concerns.models import Category  # noqa: E402
from civic.webhooks import signing  # noqa: E402
from civic.webhooks.models import WebhookDelivery  # noqa: E402
from tests.factories import Browser, create_council_ok, create_endpoint_ok, create_team_ok, refer_ok  # noqa: E402
from tests.peers.webhook_receiver import Receiver  # noqa: E402

STEPS = [
    ("about", {"about": "child", "subject_name": "Jamie"}),
    ("category", {"category": "child-wellbeing"}),
    ("details", {"details": "Jamie often waits outside in the cold until late."}),
    ("where", {"postcode": "", "ward": ""}),
    ("urgency", {"urgency": "day"}),
    ("knows", {"knows": "no"}),
    ("contact", {"contact_by": "none", "reporter_name": "", "reporter_email": "", "reporter_phone": ""}),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _database(temp: Path) -> tuple[str, str | None]:
    server = os.environ.get("CIVIC_TEST_DATABASE_URL", "").replace("postgresql://", "postgres://")
    if not server:
        return f"sqlite://{temp / 'bench.sqlite3'}", None
    import asyncpg

    name = f"civic_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return server.rsplit("/", 1)[0] + "/" + name, name


async def _drop(server_db: str | None) -> None:
    if server_db:
        import asyncpg

        server = os.environ["CIVIC_TEST_DATABASE_URL"].replace("postgresql://", "postgres://")
        admin = await asyncpg.connect(server.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{server_db}" WITH (FORCE)')
        await admin.close()


def _worker(environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "civic.cli", "worker"],
        cwd=ROOT,
        env={**os.environ, **environ, "PYTHONPATH": str(ROOT)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


async def _wait(check, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out: see the worker's log")
        await asyncio.sleep(0.05)


async def main(submissions: int, deliveries: int, interval: float) -> None:
    temp = Path(tempfile.mkdtemp(prefix="civic-bench-"))
    database_url, server_db = await _database(temp)
    environ = {
        "CIVIC_ENV": "test",
        "CIVIC_DATABASE_URL": database_url,
        "CIVIC_DATA_DIR": str(temp),
        "CIVIC_BASE_URL": "http://civic.test",
        "CIVIC_ALLOW_PRIVATE_WEBHOOK_URLS": "true",
        "CIVIC_CONCERN_RATE": "100000/minute",
        "CIVIC_WORKER_INTERVAL": str(interval),
    }
    settings = config.use(config.load(environ, env_file=temp / "none.env"))
    environ["CIVIC_ENCRYPTION_KEYS"] = settings.encryption_keys
    environ["CIVIC_SECRET_KEY"] = settings.secret_key
    await db.migrate(settings.database_url)
    await db.start(settings.database_url)
    from routes import create_app

    app = create_app(settings)
    secret = signing.new_secret()
    worker = None
    try:
        with Receiver([secret]) as receiver:
            council = await create_council_ok()
            team = await create_team_ok(council, "Bench Team", default=True)
            await routing.categories(council)
            await Category.filter(council=council, slug="child-wellbeing").update(refer_straight_away=True)
            await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
            worker = _worker(environ, temp / "worker.log")

            # Latency: one concern at a time, from pressing Send to the receiver's 2xx.
            latencies = []
            async with Browser(app, council) as browser:
                for _ in range(submissions):
                    for step, answers in STEPS:
                        await browser.post(f"/concerns/new/{step}", answers)
                    before = await receiver.count()
                    started = time.time()
                    sent = await browser.post("/concerns/new/check", {"website": ""})
                    assert sent.status_code == 303, sent.status_code
                    while await receiver.count() == before:
                        await asyncio.sleep(0.002)
                    latencies.append((await receiver.accepted(since=before))[0]["received_at"] - started)
            worker.terminate()
            worker.wait()

            # Throughput: a backlog of referrals written while no worker runs, then one worker clears it.
            for _ in range(deliveries):
                await refer_ok(council, team)
            backlog = WebhookDelivery.filter(council=council, status="pending")
            assert await backlog.count() == deliveries
            before = await receiver.count()
            worker = _worker(environ, temp / "worker-2.log")
            started = time.time()
            await _wait(lambda: _done(receiver, before + deliveries))
            arrived = [entry["received_at"] for entry in await receiver.accepted(since=before)]
            elapsed = arrived[-1] - started
            steady = (len(arrived) - 1) / (arrived[-1] - arrived[0])
    finally:
        if worker and worker.poll() is None:
            worker.terminate()
            worker.wait()
        await db.stop()
        await _drop(server_db)
    engine = "PostgreSQL" if server_db else "SQLite"
    print(f"civic webhooks benchmark on {engine}, worker interval {interval:g} s, batch of {10} in flight")
    print(f"form submission to receiver 2xx, {submissions} concerns one at a time:")
    print(f"  p50 {statistics.median(latencies) * 1000:.0f} ms   p99 {percentile(latencies, 0.99) * 1000:.0f} ms   max {max(latencies) * 1000:.0f} ms")
    print(f"one worker clearing a backlog of {deliveries}: {steady:.0f} deliveries/s once running "
          f"({deliveries / elapsed:.0f}/s counting the process start-up, {elapsed:.2f} s in all)")


async def _done(receiver: Receiver, count: int) -> bool:
    return await receiver.count() >= count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.1, help="CIVIC_WORKER_INTERVAL for the worker")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.submissions, arguments.deliveries, arguments.interval))
