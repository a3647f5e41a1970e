"""Endpoints civic switched off after failed deliveries become "paused", whose API key still works.

civic now tells apart an endpoint an administrator switched off ("disabled": its API key stops too) from
one it paused because deliveries kept failing ("paused": the key works, so a system that was down can
post status back when it recovers). Before, both were "disabled"; an administrator's switch-off is the
one whose reason starts "Switched off by ", and stays "disabled". Anything else disabled was civic's own
doing (a 410 answer, or failing for too long) and becomes "paused". Going back makes them all
"disabled" again, which is the safe direction: a key that should work is refused, never the reverse.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('civic', '0011_email_addresses_lower_case')]

    initial = False

    operations = [
        ops.RunSQL(
            "UPDATE keyworker_endpoint SET status = 'paused' WHERE status = 'disabled' AND disabled_reason NOT LIKE 'Switched off by %'",
            "UPDATE keyworker_endpoint SET status = 'disabled' WHERE status = 'paused'",
        ),
    ]
