"""Voting codes are kept encrypted and found by a keyed digest, so a copy of the database cannot vote.

Codes already printed keep working: each is encrypted and digested with CIVIC_ENCRYPTION_KEYS here.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from civic import crypto

# As civic.voting.models.CODE_DIGEST when this was written; a migration does not follow later models.
CODE_DIGEST = "voting code"


async def encrypt_codes(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    update = "UPDATE voting_code SET code = $1, digest = $2 WHERE id = $3" if postgres else "UPDATE voting_code SET code = ?, digest = ? WHERE id = ?"
    _, rows = await client.execute_query("SELECT id, code_plain FROM voting_code")
    for row in rows:
        await client.execute_query(update, [crypto.encrypt(row["code_plain"]), crypto.digest(CODE_DIGEST, row["code_plain"]), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('civic', '0009_outgoing_email_council')]

    initial = False

    operations = [
        ops.RenameField(model_name='VotingCode', old_name='code', new_name='code_plain'),
        ops.AddField(
            model_name='VotingCode',
            name='code',
            field=fields.BinaryField(null=True, description='the code as printed, normalised (ABCDEFGHJKMN)'),
        ),
        ops.AddField(
            model_name='VotingCode',
            name='digest',
            field=fields.CharField(null=True, unique=True, description="the code's keyed digest (civic.crypto.digests): how a code typed in is found", max_length=64),
        ),
        ops.RunPython(encrypt_codes),
        ops.RemoveField(model_name='VotingCode', name='code_plain'),
        ops.AlterField(
            model_name='VotingCode',
            name='code',
            field=fields.BinaryField(description='the code as printed, normalised (ABCDEFGHJKMN)'),
        ),
        ops.AlterField(
            model_name='VotingCode',
            name='digest',
            field=fields.CharField(unique=True, description="the code's keyed digest (civic.crypto.digests): how a code typed in is found", max_length=64),
        ),
    ]
