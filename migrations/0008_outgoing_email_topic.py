from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0007_rota')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutgoingEmail',
            name='topic',
            field=fields.CharField(default='', description='what the message is about, where a newer message on the topic makes an unsent one pointless', db_default='', max_length=100),
        ),
        ops.AddIndex(
            model_name='OutgoingEmail',
            index=Index(fields=['topic', 'status']),
        ),
    ]
