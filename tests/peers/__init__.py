"""Real peers the tests talk to: an SMTP server, and (in this folder) Node's OpenID provider and axe-core."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, what: str) -> None:
    """Skip visibly when a peer is missing here; in CI a missing peer is an error."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is missing", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    """Every message the test SMTP server accepted."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages to this address, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} message(s) to {address}, got {len(self.to(address))}")

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""


class _Handler:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address.startswith("refused-"):  # a mailbox the relay will not take, for tests of one message failing
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Test-Connection"] = f"{session.peer[0]}:{session.peer[1]}"  # which SMTP connection brought it
        self.box.messages.append(message)
        return "250 OK"


def start_smtp_server() -> tuple[Mailbox, Controller]:
    box = Mailbox(port=free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    return box, controller
