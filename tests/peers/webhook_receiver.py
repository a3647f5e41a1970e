"""A key-worker system's webhook receiver, run as its own process: verifies signatures, records, misbehaves on cue.

Run it as a script (the tests do, through `Receiver`):

    python tests/peers/webhook_receiver.py --port 8765 --secret whsec_... [--secret whsec_...] [--record file.jsonl]

- `POST` to any path not starting with `/_`: the Standard Webhooks signature is checked with the
  `standardwebhooks` library against each secret it was given; a delivery no secret verifies gets 401
  and is not recorded. Otherwise the next scripted response is given (default 200), after its delay.
  Every delivery answered 2xx is recorded (duplicates too: de-duplicating by webhook-id is the test's
  job, as it would be a real receiver's).
- `GET /_accepted`: the recorded deliveries. `GET /_arrivals`: every request, with what it was answered.
  Both take `?since=N` to skip the first N. `GET /_count`: how many of each.
- `POST /_script` with `{"responses": [{"status": 500}, {"status": 429, "retry_after": "2"},
  {"delay": 3}], "default": {"status": 200}}`: answer the next requests so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class State:
    def __init__(self, secrets: list[str], record: str | None, script: dict[str, Any]):
        self.hooks = [Webhook(secret) for secret in secrets]
        self.record = Path(record) if record else None
        self.lock = threading.Lock()
        self.accepted: list[dict[str, Any]] = []
        self.arrivals: list[dict[str, Any]] = []
        self.set_script(script)

    def set_script(self, script: dict[str, Any]) -> None:
        with self.lock:
            self.responses = list(script.get("responses", []))
            self.default = dict(script.get("default", {"status": 200}))

    def next_response(self) -> dict[str, Any]:
        with self.lock:
            return self.responses.pop(0) if self.responses else dict(self.default)


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read /_arrivals instead
        pass

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up waiting (a timeout test): nothing to tell it

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        path, _, query = self.path.partition("?")
        since = int(query.removeprefix("since=")) if query.startswith("since=") else 0
        with self.state.lock:
            if path == "/_accepted":
                return self._answer(200, self.state.accepted[since:])
            if path == "/_arrivals":
                return self._answer(200, self.state.arrivals[since:])
            if path == "/_count":
                return self._answer(200, {"accepted": len(self.state.accepted), "arrivals": len(self.state.arrivals)})
        if self.path == "/_health":
            return self._answer(200, {"ok": True})
        self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/_script":
            self.state.set_script(json.loads(body or b"{}"))
            return self._answer(200, {"ok": True})
        headers = {name.lower(): value for name, value in self.headers.items()}
        arrival = {"webhook_id": headers.get("webhook-id", ""), "arrived_at": time.time(), "status": None}
        with self.state.lock:
            self.state.arrivals.append(arrival)
        payload = None
        for hook in self.state.hooks:
            try:
                payload = hook.verify(body.decode(), headers)
                break
            except WebhookVerificationError:
                continue
        if payload is None:
            arrival["status"] = 401
            return self._answer(401, {"error": "signature not verified"})
        response = self.state.next_response()
        if response.get("delay"):
            time.sleep(float(response["delay"]))
        status = int(response.get("status", 200))
        arrival["status"] = status
        if 200 <= status < 300:
            entry = {
                "webhook_id": headers["webhook-id"],
                "timestamp": headers["webhook-timestamp"],
                "signature": headers["webhook-signature"],
                "type": payload.get("type"),
                "payload": payload,
                "received_at": time.time(),
            }
            with self.state.lock:
                self.state.accepted.append(entry)
                if self.state.record:
                    with self.state.record.open("a") as file:
                        file.write(json.dumps(entry) + "\n")
        extra = {"retry-after": str(response["retry_after"])} if response.get("retry_after") is not None else {}
        self._answer(status, response.get("body", {"received": 200 <= status < 300}), extra)


def serve(port: int, secrets: list[str], record: str | None, script: dict[str, Any]) -> None:
    Handler.state = State(secrets, record, script)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


class Receiver:
    """The receiver as a real process the tests start, stop, kill and talk to over HTTP."""

    def __init__(self, secrets: list[str], port: int | None = None, script: dict[str, Any] | None = None, record: str | Path | None = None):
        from tests.peers import free_port

        self.secrets = secrets
        self.port = port or free_port()
        self.script = script or {}
        self.record = str(record) if record else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Where civic posts: any path but /_… is a webhook."""
        return f"{self.base}/civic/webhooks"

    def start(self) -> Receiver:
        import httpx

        command = [sys.executable, __file__, "--port", str(self.port), "--script", json.dumps(self.script)]
        for secret in self.secrets:
            command += ["--secret", secret]
        if self.record:
            command += ["--record", self.record]
        self.process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(self.base + "/_health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _get(self, path: str) -> Any:
        import httpx

        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(self.base + path)).json()

    async def accepted(self, since: int = 0) -> list[dict[str, Any]]:
        return await self._get(f"/_accepted?since={since}")

    async def count(self) -> int:
        """How many deliveries it accepted (cheap to ask often)."""
        return (await self._get("/_count"))["accepted"]

    async def arrivals(self) -> list[dict[str, Any]]:
        return await self._get("/_arrivals")

    async def unique_ids(self) -> set[str]:
        return {entry["webhook_id"] for entry in await self.accepted()}

    async def set_script(self, responses: list[dict[str, Any]], default: dict[str, Any] | None = None) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=5) as http:
            await http.post(self.base + "/_script", json={"responses": responses, "default": default or {"status": 200}})

    async def wait_for_arrivals(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await self.arrivals()
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} requests at the receiver, got {len(await self.arrivals())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", action="append", default=[], help="a whsec_ secret; repeat for several")
    parser.add_argument("--record", help="append each accepted delivery to this JSON-lines file")
    parser.add_argument("--script", default="{}", help='JSON like {"responses": [{"status": 500}], "default": {"status": 200}}')
    arguments = parser.parse_args()
    serve(arguments.port, arguments.secret, arguments.record, json.loads(arguments.script))
