"""Co-organisers are invited by e-mail and become organisers only when they accept."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0013_outgoing_email_encrypted')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganiserInvitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='organiser_invitations', on_delete=OnDelete.CASCADE)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(description='the address invited, in lower case', max_length=254)),
                ('invited_by', fields.ForeignKeyField('civic.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name='organiser_invitations_sent', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='pending', max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('answered_at', fields.DatetimeField(null=True, description='when it was accepted or declined or withdrawn', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'organiser_invitation', 'app': 'civic', 'indexes': [Index(fields=['email', 'status']), Index(fields=['scheme_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
