"""Several app processes on one port, each with a listening socket of its own (SO_REUSEPORT).

uvicorn's `--workers` shares one listening socket between its processes, and whichever wakes first
accepts. A burst of keep-alive connections (a load balancer's pool, or a surge's first second) can then
land mostly on one process while another idles: in the load benchmark 16 connections once went 16 to 0.
With a socket each, the kernel spreads new connections evenly across the processes.

A process that dies is replaced; one that cannot start (it dies within STARTUP_GRACE seconds, three times
running) stops the whole server, as a broken release should.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import uvicorn

log = logging.getLogger("civic.serving")

STARTUP_GRACE = 5.0
STARTUP_ATTEMPTS = 3
STOP_TIMEOUT = 30.0
BACKLOG = 2048  # uvicorn's default


def _listen(host: str, port: int, *, shared: bool = True) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _app_process(app: str, host: str, port: int, options: dict[str, Any], listening: Any) -> None:
    sock = _listen(host, port)
    listening.set()
    uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])


def run(app: str, *, host: str, port: int, workers: int, ready: Callable[[], None] = lambda: None, **options: Any) -> int:
    """Serve `app` ("module:attribute") with `workers` processes; returns the exit status.

    `ready` is called once every process is listening: from then on a connection waits in the
    socket's queue until the app has started, rather than being refused. `options` are
    uvicorn.Config's (factory, proxy_headers, log_level...). A platform without SO_REUSEPORT runs
    uvicorn's own several processes, and calls `ready` before they start.
    """
    if workers <= 1:
        sock = _listen(host, port, shared=False)  # a second server on this port fails, as with uvicorn
        ready()
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
        return 0
    if not hasattr(socket, "SO_REUSEPORT"):
        ready()
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return 0
    _listen(host, port).close()  # the port is free (or ours to share): fail here, not in every child
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: stopping.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}

    # One per place, kept here: a child unpickles its event after start() returns, and one already
    # collected in this process would be gone (FileNotFoundError) before the child could open it.
    listening = [context.Event() for _ in range(workers)]

    def start(place: int) -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_app_process, args=(app, host, port, options, listening[place]), daemon=False)
        process.start()
        return process, time.monotonic()

    processes = [start(place) for place in range(workers)]
    log.info("serving %s on %s:%s with %s processes: %s", app, host, port, workers, [p.pid for p, _ in processes])
    quick_failures, status, announced = 0, 0, False
    try:
        while not stopping:
            time.sleep(0.2)
            if not announced and all(event.is_set() for event in listening):
                ready()
                announced = True
            for index, (process, started) in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                quick_failures = quick_failures + 1 if time.monotonic() - started < STARTUP_GRACE else 0
                if quick_failures >= STARTUP_ATTEMPTS:
                    log.error("app processes keep exiting at start-up (last exit code %s): stopping", process.exitcode)
                    stopping.append(0)
                    status = 3
                    break
                log.warning("app process %s exited with code %s: starting another", process.pid, process.exitcode)
                processes[index] = start(index)
    finally:
        for process, _ in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process, _ in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
