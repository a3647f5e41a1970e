"""A scheme says which DBS check a volunteer needs before an organiser can match them to a home visit.

Existing schemes start at "none" (no check needed), as before: their organisers choose the level on
the scheme's safeguarding page.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('civic', '0015_email_change_links')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Scheme',
            name='home_visit_dbs',
            field=fields.CharField(
                default='none', description='the lowest DBS check level a volunteer needs to be matched to a home visit', db_default='none', max_length=20
            ),
        ),
    ]
