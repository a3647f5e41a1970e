"""How the team was told, when an officer marks a webhook delivery as handled, is kept encrypted on the delivery.

It used to be the reason of the `webhook.cancelled` audit entry, in plain text, and an officer may
type there what the concern was about. Each such reason is moved here, encrypted with
CIVIC_ENCRYPTION_KEYS, onto its delivery (if the delivery is still there: a purged concern takes its
deliveries with it), and the audit entry then says only that a note was given.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from civic import crypto

# As civic.webhooks.endpoints.HANDLED_NOTE_GIVEN when this was written; a migration does not follow later code.
HANDLED_NOTE_GIVEN = "how the team was told is noted on the delivery"


async def move_notes(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"

    def sql(text: str) -> str:
        if postgres:
            for n in range(text.count("?")):
                text = text.replace("?", f"${n + 1}", 1)
        return text

    _, entries = await client.execute_query(
        sql("SELECT id, target_id, reason FROM audit_log WHERE action = 'webhook.cancelled' AND target_type = 'WebhookDelivery' AND reason <> ? ORDER BY id"),
        [HANDLED_NOTE_GIVEN],
    )
    for entry in entries:
        # The latest note wins, as the concern page showed it (the entries are read oldest first).
        if entry["target_id"].isdigit():
            await client.execute_query(sql("UPDATE webhook_delivery SET handled_note = ? WHERE id = ?"), [crypto.encrypt(entry["reason"]), int(entry["target_id"])])
        await client.execute_query(sql("UPDATE audit_log SET reason = ? WHERE id = ?"), [HANDLED_NOTE_GIVEN, entry["id"]])


class Migration(migrations.Migration):
    dependencies = [('civic', '0020_offers_reported_and_hidden')]

    initial = False

    operations = [
        ops.AddField(
            model_name='WebhookDelivery',
            name='handled_note',
            field=fields.BinaryField(null=True, description='how the team was told, when marked as handled'),
        ),
        ops.RunPython(move_notes),
    ]
