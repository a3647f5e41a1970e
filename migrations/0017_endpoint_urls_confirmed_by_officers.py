"""Concerns go only to an endpoint address an officer confirmed, and the access log names the system a webhook went to.

`confirmed_url` is the address concerns are sent to; an administrator changing `url` no longer moves
them until someone who may read concerns confirms the new one. Endpoints already set up keep sending
where they send today: their address counts as confirmed.

The access log's action grows to 200 characters, to hold the name and host of the system a webhook
carried a concern to. SQLite does not enforce a VARCHAR's length, so there nothing is done: Tortoise's
AlterField would rebuild the table, which loses its indexes.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


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
            await state_editor._run_sql(self.sql)


class Migration(migrations.Migration):
    dependencies = [('civic', '0016_scheme_home_visit_dbs')]

    initial = False

    operations = [
        OnSQLite(ops.AlterField(model_name='ConcernAccess', name='action', field=fields.CharField(max_length=200))),
        ops.AddField(
            model_name='KeyWorkerEndpoint',
            name='confirmed_url',
            field=fields.CharField(default='', description='the address an officer confirmed, the only one concerns are sent to', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='KeyWorkerEndpoint',
            name='url_confirmed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "UPDATE keyworker_endpoint SET confirmed_url = url, url_confirmed_at = updated_at",
            "SELECT 1",
        ),
    ]
