"""Outgoing e-mail is kept encrypted, so a copy of the database shows no sign-in link, ballot receipt or message.

Messages already queued, and those kept after sending (mail.KEEP), are encrypted here with
CIVIC_ENCRYPTION_KEYS; those not yet sent still go.

Each column is renamed (body_plain, attachments_plain), added again as bytes, filled with the
encrypted value and the old one dropped: ALTER TABLE statements on both databases. On SQLite that
takes DROP COLUMN (SQLite 3.35 or later) in place of the table rebuild Tortoise does for RemoveField
and AlterField: a rebuild loses the table's indexes and, as it drops the old table with foreign keys
on, deletes every concern_email row (ON DELETE CASCADE).
"""

import json

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from civic import crypto

# Rows encrypted per statement batch: a month of receipts can be many thousands.
BATCH = 500


class OnSQLite(ops.TortoiseOperation):
    """`operation` as Tortoise does it, except that on SQLite `sql` runs instead (nothing if empty)."""

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
            await state_editor._run_sql(self.sql)  # as Tortoise's own operations do (and so `sqlmigrate` shows it)


async def encrypt_messages(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    select = (
        "SELECT id, body_plain, attachments_plain FROM outgoing_email WHERE id > $1 ORDER BY id LIMIT $2"
        if postgres else "SELECT id, body_plain, attachments_plain FROM outgoing_email WHERE id > ? ORDER BY id LIMIT ?"
    )
    update = "UPDATE outgoing_email SET body = $1, attachments = $2 WHERE id = $3" if postgres else "UPDATE outgoing_email SET body = ?, attachments = ? WHERE id = ?"
    last = 0
    while True:
        _, rows = await client.execute_query(select, [last, BATCH])
        if not rows:
            break
        await client.execute_many(update, [[crypto.encrypt(row["body_plain"]), crypto.encrypt(_json(row["attachments_plain"])), row["id"]] for row in rows])
        last = rows[-1]["id"]


def _json(value) -> str:
    # JSON text as both databases hand it back (asyncpg reads jsonb as text); a decoded value if not.
    return value if isinstance(value, str) else json.dumps(value)


class Migration(migrations.Migration):
    dependencies = [('civic', '0012_endpoints_paused_after_failures')]

    initial = False

    operations = [
        ops.RenameField(model_name='OutgoingEmail', old_name='body', new_name='body_plain'),
        ops.RenameField(model_name='OutgoingEmail', old_name='attachments', new_name='attachments_plain'),
        # SQLite adds a NOT NULL column only with a default; every INSERT gives both values.
        OnSQLite(
            ops.AddField(model_name='OutgoingEmail', name='body', field=fields.BinaryField(null=True)),
            """ALTER TABLE outgoing_email ADD COLUMN "body" BLOB NOT NULL DEFAULT x''""",
        ),
        OnSQLite(
            ops.AddField(model_name='OutgoingEmail', name='attachments', field=fields.BinaryField(null=True, default=list, description='[{filename, content_type, content}]')),
            """ALTER TABLE outgoing_email ADD COLUMN "attachments" BLOB NOT NULL DEFAULT x'' /* [{filename, content_type, content}] */""",
        ),
        ops.RunPython(encrypt_messages),
        OnSQLite(ops.RemoveField(model_name='OutgoingEmail', name='body_plain'), 'ALTER TABLE outgoing_email DROP COLUMN "body_plain"'),
        OnSQLite(ops.RemoveField(model_name='OutgoingEmail', name='attachments_plain'), 'ALTER TABLE outgoing_email DROP COLUMN "attachments_plain"'),
        # SQLite's columns were added NOT NULL already.
        OnSQLite(ops.AlterField(model_name='OutgoingEmail', name='body', field=fields.BinaryField())),
        OnSQLite(ops.AlterField(model_name='OutgoingEmail', name='attachments', field=fields.BinaryField(default=list, description='[{filename, content_type, content}]'))),
    ]
