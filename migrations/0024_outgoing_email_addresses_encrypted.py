"""Outgoing e-mail's address and subject are kept encrypted too, and a person's messages are found by a keyed digest of the address.

The address says who a message is for and a subject can say what it is about ("Your concern: an
update"). Messages already queued, and those kept after sending (mail.KEEP), are encrypted here with
CIVIC_ENCRYPTION_KEYS, and each address's digest (lower-cased, as civic.mail.address_digests makes
it) is recorded; those not yet sent still go.

As in 0013, each column is renamed (to_plain, subject_plain), added again as bytes, filled and the old
one dropped: ALTER TABLE statements on both databases, DROP COLUMN on SQLite (3.35 or later) in place of
the table rebuild Tortoise does, which loses the table's indexes and deletes every concern_email row.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from civic import crypto

# Rows encrypted per statement batch: a month of receipts can be many thousands.
BATCH = 500
# As civic.mail.ADDRESS_DIGEST when this was written; a migration does not follow later models.
ADDRESS_DIGEST = "e-mail address"
DIGEST_DESCRIPTION = "the address's keyed digest (mail.address_digests): how a person's messages are found"


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


async def encrypt_addresses(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    select = (
        "SELECT id, to_plain, subject_plain FROM outgoing_email WHERE id > $1 ORDER BY id LIMIT $2"
        if postgres else "SELECT id, to_plain, subject_plain FROM outgoing_email WHERE id > ? ORDER BY id LIMIT ?"
    )
    update = (
        'UPDATE outgoing_email SET "to" = $1, to_digest = $2, subject = $3 WHERE id = $4'
        if postgres else 'UPDATE outgoing_email SET "to" = ?, to_digest = ?, subject = ? WHERE id = ?'
    )
    last = 0
    while True:
        _, rows = await client.execute_query(select, [last, BATCH])
        if not rows:
            break
        await client.execute_many(update, [
            [crypto.encrypt(row["to_plain"]), crypto.digest(ADDRESS_DIGEST, row["to_plain"].strip().lower()), crypto.encrypt(row["subject_plain"]), row["id"]]
            for row in rows
        ])
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('civic', '0023_shift_dates_off_the_series')]

    initial = False

    operations = [
        ops.RenameField(model_name='OutgoingEmail', old_name='to', new_name='to_plain'),
        ops.RenameField(model_name='OutgoingEmail', old_name='subject', new_name='subject_plain'),
        # SQLite adds a NOT NULL column only with a default; every INSERT gives the values.
        OnSQLite(
            ops.AddField(model_name='OutgoingEmail', name='to', field=fields.BinaryField(null=True)),
            """ALTER TABLE outgoing_email ADD COLUMN "to" BLOB NOT NULL DEFAULT x''""",
        ),
        OnSQLite(
            ops.AddField(model_name='OutgoingEmail', name='to_digest', field=fields.CharField(null=True, description=DIGEST_DESCRIPTION, max_length=64)),
            f"""ALTER TABLE outgoing_email ADD COLUMN "to_digest" VARCHAR(64) NOT NULL DEFAULT '' /* {DIGEST_DESCRIPTION} */""",
        ),
        OnSQLite(
            ops.AddField(model_name='OutgoingEmail', name='subject', field=fields.BinaryField(null=True)),
            """ALTER TABLE outgoing_email ADD COLUMN "subject" BLOB NOT NULL DEFAULT x''""",
        ),
        ops.RunPython(encrypt_addresses),
        OnSQLite(ops.RemoveField(model_name='OutgoingEmail', name='to_plain'), 'ALTER TABLE outgoing_email DROP COLUMN "to_plain"'),
        OnSQLite(ops.RemoveField(model_name='OutgoingEmail', name='subject_plain'), 'ALTER TABLE outgoing_email DROP COLUMN "subject_plain"'),
        # SQLite's columns were added NOT NULL already.
        OnSQLite(ops.AlterField(model_name='OutgoingEmail', name='to', field=fields.BinaryField())),
        OnSQLite(ops.AlterField(model_name='OutgoingEmail', name='to_digest', field=fields.CharField(description=DIGEST_DESCRIPTION, max_length=64))),
        OnSQLite(ops.AlterField(model_name='OutgoingEmail', name='subject', field=fields.BinaryField())),
        # Deleting an account finds its messages by the digest (civic.erasure).
        ops.AddIndex(model_name='OutgoingEmail', index=Index(fields=['to_digest'])),
    ]
