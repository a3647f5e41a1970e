from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0008_outgoing_email_topic')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutgoingEmail',
            name='council',
            field=fields.ForeignKeyField('civic.Council', source_field='council_id', null=True, description='the council the message is sent for, whose officers see it if it cannot be sent', db_constraint=True, to_field='id', related_name='outgoing_email', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='OutgoingEmail',
            index=Index(fields=['council_id', 'status']),
        ),
    ]
