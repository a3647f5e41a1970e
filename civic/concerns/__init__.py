"""Flag a concern: safe intake, officer triage and routing, referral to early help, and privacy that holds.

The modules, in the order a concern meets them:
- `vocabulary`: the words residents and officers read;
- `models`: Concern and everything around it (free text, names and contact details encrypted);
- `intake`: the form's steps, the encrypted draft, sending, and the reporter's status page;
- `routing`: categories, teams and the rules that choose a team;
- `access`: who may see a concern, and the access log;
- `triage`: the officers' queue, the concern page and its actions, the CSV export;
- `handover`: `refer_concern`, the one place a Referral is made, and the HANDOVER hooks;
- `notices`, `escalation`, `purge`: e-mail, the duty escalation and retention (worker jobs).
"""

from civic.concerns.handover import HANDOVER, refer_concern
from civic.concerns.models import (
    Category,
    Concern,
    ConcernAccess,
    ConcernEvent,
    Referral,
    RoutingRule,
    Team,
    TeamMembership,
)

__all__ = [
    "HANDOVER",
    "Category",
    "Concern",
    "ConcernAccess",
    "ConcernEvent",
    "Referral",
    "RoutingRule",
    "Team",
    "TeamMembership",
    "refer_concern",
]
