"""What a key worker's system answered to a delivery (its first 300 bytes) is kept encrypted, with the answer's length beside it.

A receiver that echoes the body it was sent would put the concern there, in plain text. The excerpts
already kept are encrypted here with CIVIC_ENCRYPTION_KEYS, and their length (as far as it was read)
is recorded; an empty one becomes NULL.

The column is renamed (response_excerpt_plain), added again as bytes, filled and the old one dropped:
ALTER TABLE statements on both databases. On SQLite that takes DROP COLUMN (SQLite 3.35 or later) in
place of the table rebuild Tortoise does for RemoveField, which loses the table's indexes.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from civic import crypto

# Rows encrypted per statement batch: every attempt of every delivery has one.
BATCH = 500


class OnSQLite(ops.TortoiseOperation):
    """`operation` as Tortoise does it, except that on SQLite `sql` runs instead (as in 0013)."""

    reversible = False

    def __init__(self, operation: ops.TortoiseOperation, sql: str = "") -> None:
        self.operation = operation
        self.sql = sql

    def describe(self) -> str:
        return self.operation.describe()

    def state_forward(self, app_label, state) -> None:
        self.operation.state_forward(app_label, state)

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            await self.operation.database_forward(app_label, old_state, new_state, state_editor)
        elif self.sql:
            await state_editor._run_sql(self.sql)


async def encrypt_answers(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    select = (
        "SELECT id, response_excerpt_plain FROM webhook_attempt WHERE id > $1 AND response_excerpt_plain <> '' ORDER BY id LIMIT $2"
        if postgres else "SELECT id, response_excerpt_plain FROM webhook_attempt WHERE id > ? AND response_excerpt_plain <> '' ORDER BY id LIMIT ?"
    )
    update = (
        "UPDATE webhook_attempt SET response_excerpt = $1, response_bytes = $2 WHERE id = $3"
        if postgres else "UPDATE webhook_attempt SET response_excerpt = ?, response_bytes = ? WHERE id = ?"
    )
    last = 0
    while True:
        _, rows = await client.execute_query(select, [last, BATCH])
        if not rows:
            break
        plain = [(row["id"], row["response_excerpt_plain"]) for row in rows]
        await client.execute_many(update, [[crypto.encrypt(text), len(text.encode("utf-8")), id] for id, text in plain])
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('civic', '0021_webhook_handled_notes_encrypted')]

    initial = False

    operations = [
        ops.RenameField(model_name='WebhookAttempt', old_name='response_excerpt', new_name='response_excerpt_plain'),
        ops.AddField(
            model_name='WebhookAttempt',
            name='response_excerpt',
            field=fields.BinaryField(null=True, description='the first 300 bytes of the answer, emptied with the payload'),
        ),
        ops.AddField(
            model_name='WebhookAttempt',
            name='response_bytes',
            field=fields.IntField(default=0, description='how long the answer was, counted up to 64 KiB', db_default=0),
        ),
        ops.RunPython(encrypt_answers),
        OnSQLite(ops.RemoveField(model_name='WebhookAttempt', name='response_excerpt_plain'), 'ALTER TABLE webhook_attempt DROP COLUMN "response_excerpt_plain"'),
    ]
