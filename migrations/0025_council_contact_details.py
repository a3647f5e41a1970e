from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0024_outgoing_email_addresses_encrypted')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Council',
            name='contact_email',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='Council',
            name='contact_phone',
            field=fields.CharField(default='', db_default='', max_length=30),
        ),
        ops.AddField(
            model_name='Council',
            name='contact_url',
            field=fields.CharField(default='', description='the contact page of the main council website', db_default='', max_length=500),
        ),
    ]
