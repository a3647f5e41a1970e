"""Offers of help on a scheme's board can be reported to the council, and hidden by its officers.

A report names the offer it is about (empty for a report about a scheme or a news post); existing
offers start shown, as before.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0019_scheme_search_text')]

    initial = False

    operations = [
        ops.AddField(
            model_name='HelpOffer',
            name='hidden',
            field=fields.BooleanField(default=False, description='hidden by the council after a report', db_default=False),
        ),
        ops.AddField(
            model_name='HelpOffer',
            name='hidden_reason',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Report',
            name='offer',
            field=fields.ForeignKeyField('civic.HelpOffer', source_field='offer_id', null=True, description='set when the report is about an offer of help', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE),
        ),
    ]
