"""Flag a concern: the resident's form and status page, and the officers' triage and routing pages."""

from __future__ import annotations

from routes.concerns import intake, routing, triage

# Routing and counts come before triage: "/officer/concerns/{reference}" would otherwise take their paths.
routes = [*intake.routes, *routing.routes, *triage.routes]
