"""What the logs keep of a URL: every secret a URL can carry is hidden before a line is written."""

from __future__ import annotations

import logging
import re

HIDDEN = "[hidden]"

# Addresses that are themselves the secret. Each pattern keeps what comes before and after the secret;
# a new route with a token, key or code in its path belongs here.
_SECRET_IN_PATH = re.compile(
    r"(?P<before>"
    r"/signin/link/"  # a sign-in link: whoever has it signs in
    r"|/concerns/status/[^/?#\s\"]+/"  # a reporter's status link: the reference stays, the key goes
    r"|/calendars/"  # a volunteer's private calendar feed
    r"|/rounds/report/stop/"  # a voter's link to stop progress e-mails, naming their ballot
    r"|/account/email/confirm/"  # a link that moves an account to a new e-mail address
    r")(?P<secret>[^/?#\s\"]+?)(?P<after>\.ics)?(?=[/?#\s\"]|$)"
)
# Query parameters that carry one: a voting code (a usable vote), an identity provider's authorization
# code and state on its way back to us, a ballot receipt (which ballot is this person's).
_SECRET_IN_QUERY = re.compile(r"(?P<before>[?&](?:code|state|receipt|token|key)=)[^&#\s\"]*")


def without_secrets(text: str) -> str:
    """The text with every URL secret in it replaced by [hidden]."""
    text = _SECRET_IN_PATH.sub(lambda m: f"{m['before']}{HIDDEN}{m['after'] or ''}", text)
    return _SECRET_IN_QUERY.sub(lambda m: f"{m['before']}{HIDDEN}", text)


class HideURLSecrets(logging.Filter):
    """The web server's access log must not keep a secret that travelled in a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(without_secrets(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = without_secrets(record.msg)
        return True


def hide_secrets_from(logger: logging.Logger) -> None:
    """Put the filter on this logger, once however often it is asked."""
    if not any(isinstance(f, HideURLSecrets) for f in logger.filters):
        logger.addFilter(HideURLSecrets())
