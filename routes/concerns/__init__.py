"""Flag a concern: the resident's form and status page, and the officers' triage and routing pages."""

from __future__ import annotations

import logging
import re

from routes.concerns import intake, routing, triage

# Routing and counts come before triage: "/officer/concerns/{reference}" would otherwise take their paths.
routes = [*intake.routes, *routing.routes, *triage.routes]

_STATUS_LINK = re.compile(r"(/concerns/status/[^/\s]+/)[^\s?\"]+")


class HideStatusLinkSecrets(logging.Filter):
    """The web server's access log must not keep the secret in a reporter's status link."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_STATUS_LINK.sub(r"\1[hidden]", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _STATUS_LINK.sub(r"\1[hidden]", record.msg)
        return True


logging.getLogger("uvicorn.access").addFilter(HideStatusLinkSecrets())
