"""Several `civic worker` processes on PostgreSQL: no delivery sent twice at once, none lost when one is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from civic.db import is_postgres
from civic.webhooks import signing
from civic.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import create_endpoint_ok, create_team_ok, refer_ok
from tests.peers import need
from tests.peers.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker(settings, mailbox, tmp_path):
    """Start `python -m civic.cli worker` processes on the test database; each is stopped after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(**overrides: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "CIVIC_ENV": "test",
            "CIVIC_DATABASE_URL": settings.database_url,
            "CIVIC_DATA_DIR": settings.data_dir,
            "CIVIC_SECRET_KEY": settings.secret_key,
            "CIVIC_ENCRYPTION_KEYS": settings.encryption_keys,
            "CIVIC_BASE_URL": settings.base_url,
            "CIVIC_SMTP_HOST": "127.0.0.1",
            "CIVIC_SMTP_PORT": str(mailbox.port),
            "CIVIC_ALLOW_PRIVATE_WEBHOOK_URLS": "true",
            "CIVIC_WORKER_INTERVAL": "0.1",
            "CIVIC_WEBHOOK_TIMEOUT": "3",
            "CIVIC_WEBHOOK_LEASE_SECONDS": "4",
            "CIVIC_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.2,0.2,0.5,0.5,1,1",
            "PYTHONPATH": str(ROOT),
            **overrides,
        }
        log = open(tmp_path / f"worker-{len(processes)}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "civic.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_until(check, timeout: float = 30.0, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError("did not happen in time")


async def test_a_worker_killed_mid_delivery_loses_nothing_another_worker_finishes_the_job(council, start_worker):
    need(is_postgres(), "PostgreSQL")
    secret = signing.new_secret()
    team = await create_team_ok(council)
    with Receiver([secret], script={"default": {"status": 200, "delay": 1.5}}) as receiver:
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        references = [(await refer_ok(council, team))[0].reference for _ in range(5)]
        rows = WebhookDelivery.filter(reference__in=references)

        first = start_worker()
        await receiver.wait_for_arrivals(1)  # the receiver is holding a request open: the worker is mid-delivery
        first.send_signal(signal.SIGKILL)
        first.wait()
        held = await rows.filter(status="delivering", claimed_by__contains=f":{first.pid}:").values_list("id", flat=True)
        assert held, "the killed worker held no claims: it was not killed mid-delivery"
        assert await WebhookAttempt.filter(delivery_id__in=list(held)).count() == 0  # it never recorded an answer

        second = start_worker()
        await wait_until(lambda: _delivered(rows, 5))
        accepted = await receiver.accepted()
    assert {entry["payload"]["data"]["reference"] for entry in accepted} == set(references)
    assert {entry["webhook_id"] for entry in accepted} == set(await rows.values_list("webhook_id", flat=True))
    retaken = await WebhookDelivery.filter(id__in=list(held))
    assert all(f":{second.pid}:" in row.claimed_by or row.claimed_by == "" for row in retaken)
    assert all(row.status == "delivered" for row in retaken)


async def _delivered(rows, count: int) -> bool:
    return await rows.filter(status="delivered").count() == count


async def test_two_workers_share_the_deliveries_and_never_send_one_twice(council, start_worker):
    need(is_postgres(), "PostgreSQL")
    secret = signing.new_secret()
    team = await create_team_ok(council)
    with Receiver([secret], script={"default": {"status": 200, "delay": 0.2}}) as receiver:
        await create_endpoint_ok(council, team, url=receiver.url, secret=secret)
        references = [(await refer_ok(council, team))[0].reference for _ in range(40)]
        rows = WebhookDelivery.filter(reference__in=references)
        workers = [start_worker(), start_worker()]
        await wait_until(lambda: _delivered(rows, 40))
        arrivals = await receiver.arrivals()
    ours = set(await rows.values_list("webhook_id", flat=True))
    sent = Counter(a["webhook_id"] for a in arrivals if a["webhook_id"] in ours)
    assert len(sent) == 40 and set(sent.values()) == {1}  # each sent exactly once
    by_worker = Counter(row.worker.split(":")[1] for row in await WebhookAttempt.filter(delivery__reference__in=references))
    assert set(by_worker) == {str(w.pid) for w in workers}  # both took a share
