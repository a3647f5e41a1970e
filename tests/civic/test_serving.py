"""Several app processes on one port: each has its own socket, connections spread, the dead are replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.peers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _serve(app: str, port: int) -> subprocess.Popen:
    code = f"from civic import serving; raise SystemExit(serving.run({app!r}, host='127.0.0.1', port={port}, workers=2, factory=True, log_level='warning'))"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _sockets(port: int, state: str) -> set[str]:
    """Inodes of this machine's TCP sockets on `port` (ours, the server side) in a state: 0A listening, 01 established."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def _owners(parent: int, inodes: set[str]) -> dict[int, int]:
    """{pid: how many of these sockets it holds} among the parent's child processes."""
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()]
    owners: dict[int, int] = {}
    for pid in children:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if held:
            owners[pid] = held
    return owners


def _wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_each_process_listens_for_itself_connections_spread_and_a_dead_one_is_replaced():
    port = free_port()
    server = _serve("tests.bench.floor:app_factory", port)
    try:
        listening = _wait_for(lambda: len(owners := _owners(server.pid, _sockets(port, "0A"))) == 2 and owners)
        assert len(_sockets(port, "0A")) == 2  # two listening sockets, not one shared by both processes
        _wait_for(lambda: _answers(port))

        # Twenty keep-alive connections opened at once, as a load balancer's pool: both processes serve some.
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(20)]
        try:
            for client in clients:
                assert client.get("/").status_code == 200
            serving = _owners(server.pid, _sockets(port, "01"))
            assert set(serving) == set(listening) and sum(serving.values()) == 20, serving
        finally:
            for client in clients:
                client.close()

        victim = next(iter(listening))
        os.kill(victim, signal.SIGKILL)
        replaced = _wait_for(lambda: len(owners := _owners(server.pid, _sockets(port, "0A"))) == 2 and victim not in owners and owners)
        assert len(set(replaced) & set(listening)) == 1
        _wait_for(lambda: _answers(port))

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        assert not _sockets(port, "0A")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_an_app_that_cannot_start_stops_the_server_with_an_error():
    server = _serve("tests.bench.floor:no_such_app", free_port())
    try:
        assert server.wait(timeout=120) == 3
        assert "keep exiting at start-up" in server.stdout.read()  # type: ignore[union-attr]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _stop(server: subprocess.Popen, signum: int, timeout: float = 40.0) -> None:
    """Ask the server to stop as Ctrl+C or a service manager would, and make sure it has."""
    server.send_signal(signum)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _address_once_printed(server: subprocess.Popen, timeout: float = 120.0) -> str:
    """The address in the server's "civic is running at ..." line, read the moment it is printed."""
    deadline = time.monotonic() + timeout
    for line in server.stdout:  # type: ignore[union-attr]
        if "is running at" in line:
            return line.split("running at ", 1)[1].split()[0]
        assert time.monotonic() < deadline, "no address printed"
    raise AssertionError(f"the server stopped without printing its address (exit {server.wait()})")


def test_civic_serve_prints_its_address_only_once_a_request_to_it_is_answered(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIVIC_DATA_DIR": str(tmp_path), "CIVIC_LOG_LEVEL": "warning"}
    env.pop("CIVIC_DATABASE_URL", None)
    command = [sys.executable, "-c", "from civic.cli import main; raise SystemExit(main())", "serve", "--port", str(port), "--no-worker"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = _address_once_printed(server)
        assert address == f"http://127.0.0.1:{port}/"
        # No retry: a script that reads the line and asks at once gets an answer, not "connection refused".
        assert httpx.get(address + "healthz", timeout=60).status_code == 200
        # The port is this server's alone: a second one on it stops with an error instead of sharing it.
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and f"port {port} is already in use" in second.stderr
    finally:
        _stop(server, signal.SIGINT)


def test_with_several_processes_ready_is_called_once_every_one_is_listening():
    port = free_port()
    code = (
        "from civic import serving; "
        f"raise SystemExit(serving.run('tests.bench.floor:app_factory', host='127.0.0.1', port={port}, workers=2, factory=True, log_level='warning', "
        f"ready=lambda: print('floor is running at http://127.0.0.1:{port}/', flush=True)))"
    )
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = _address_once_printed(server)
        assert len(_sockets(port, "0A")) == 2
        assert httpx.get(address, timeout=60).status_code == 200
    finally:
        _stop(server, signal.SIGTERM)


def test_starting_civic_prints_no_library_warnings():
    # Authlib 1.9 warned about httpx2 at the top of every `civic serve`: noise an operator would chase.
    started = subprocess.run([sys.executable, "-c", "import routes; routes.app_factory()"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 0, started.stderr
    assert "Warning" not in started.stderr, started.stderr


def test_civic_serve_believes_x_forwarded_for_only_from_its_trusted_proxies_and_warns_once_about_another(tmp_path):
    from cryptography.fernet import Fernet

    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "CIVIC_DATA_DIR": str(tmp_path), "CIVIC_LOG_LEVEL": "info",
        "CIVIC_ENV": "production", "CIVIC_BASE_URL": "https://civic.example", "CIVIC_SECRET_KEY": "s" * 48,
        "CIVIC_SMTP_HOST": "127.0.0.1", "CIVIC_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # The proxy is 127.0.0.2; the test's other requests come from 127.0.0.1, a peer not trusted.
        "CIVIC_TRUSTED_PROXIES": "127.0.0.2",
    }
    env.pop("CIVIC_DATABASE_URL", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    command = [sys.executable, "-c", "from civic.cli import main; raise SystemExit(main())", "serve", "--port", str(port), "--no-worker"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = _address_once_printed(server)
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as proxy:
            assert proxy.get(address + "healthz", headers={"x-forwarded-for": "203.0.113.7"}, timeout=60).status_code == 200
        for visitor in ("198.51.100.1", "198.51.100.2"):
            assert httpx.get(address + "healthz", headers={"x-forwarded-for": visitor}, timeout=60).status_code == 200
        assert httpx.get(address + "healthz", timeout=60).status_code == 200
    finally:
        _stop(server, signal.SIGINT)
    output = server.stdout.read()  # type: ignore[union-attr]
    served = [line for line in output.splitlines() if '"GET /healthz' in line]
    # uvicorn's access log shows whom the app took each request to be from.
    assert [line.split(" - ")[0].split()[-1].rsplit(":", 1)[0] for line in served] == ["203.0.113.7", "127.0.0.1", "127.0.0.1", "127.0.0.1"], output
    warnings = [line for line in output.splitlines() if "X-Forwarded-For" in line]
    assert len(warnings) == 1, output
    assert "127.0.0.1 is not in CIVIC_TRUSTED_PROXIES (127.0.0.2)" in warnings[0] and "WARNING" in warnings[0]
    assert "198.51.100" not in output  # residents' addresses from a header civic ignored are not logged
