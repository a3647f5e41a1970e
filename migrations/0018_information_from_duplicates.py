"""A concern's history says which duplicate's reporter added information, when it was one.

Existing entries start blank (from the concern's own reporter), as they were shown before.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('civic', '0017_endpoint_urls_confirmed_by_officers')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ConcernEvent',
            name='from_duplicate',
            field=fields.CharField(
                default='', description='the duplicate whose reporter added this information, if it was one', db_default='', max_length=12
            ),
        ),
    ]
