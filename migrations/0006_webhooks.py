from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0005_indexes_for_hot_queries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KeyWorkerEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='keyworker_endpoints', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('civic.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='endpoints', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(description='what the team calls its case system', max_length=120)),
                ('url', fields.CharField(max_length=500)),
                ('event_types', fields.JSONField(default=list, description='the events it receives besides ping', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payload_style', fields.CharField(default='full', description='full or thin', max_length=5)),
                ('secret', fields.BinaryField(description='the signing secret, whsec_ and base64')),
                ('previous_secret', fields.BinaryField(null=True, description='the secret before the last rotation')),
                ('secret_rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('api_key_hash', fields.CharField(unique=True, description='SHA-256 of the API key', max_length=64)),
                ('api_key_hint', fields.CharField(description='the first characters of the key, to recognise it', max_length=16)),
                ('status', fields.CharField(default='active', db_index=True, description='active or disabled', max_length=10)),
                ('disabled_reason', fields.CharField(default='', max_length=300)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing_since', fields.DatetimeField(null=True, description='first failure since the last success', auto_now=False, auto_now_add=False)),
                ('last_success_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('civic.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='endpoints_made', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'keyworker_endpoint', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KeyWorkerApiCall',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', null=True, db_constraint=True, to_field='id', related_name='api_calls', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('civic.KeyWorkerEndpoint', source_field='endpoint_id', null=True, db_constraint=True, to_field='id', related_name='api_calls', on_delete=OnDelete.SET_NULL)),
                ('method', fields.CharField(max_length=8)),
                ('path', fields.CharField(max_length=200)),
                ('reference', fields.CharField(default='', max_length=12)),
                ('status_code', fields.IntField()),
                ('ip', fields.CharField(default='', max_length=45)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'keyworker_api_call', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferralUpdate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='referral_updates', on_delete=OnDelete.CASCADE)),
                ('referral', fields.ForeignKeyField('civic.Referral', source_field='referral_id', db_constraint=True, to_field='id', related_name='updates', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('civic.KeyWorkerEndpoint', source_field='endpoint_id', null=True, db_constraint=True, to_field='id', related_name='updates', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(max_length=12)),
                ('key_worker_role', fields.CharField(default='', max_length=80)),
                ('key_worker_first_name', fields.CharField(default='', max_length=40)),
                ('outcome', fields.CharField(default='', max_length=30)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'referral_update', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='webhook_deliveries', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('civic.KeyWorkerEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('concern', fields.ForeignKeyField('civic.Concern', source_field='concern_id', null=True, db_constraint=True, to_field='id', related_name='webhook_deliveries', on_delete=OnDelete.CASCADE)),
                ('reference', fields.CharField(default='', description='the concern reference, kept after a purge', max_length=12)),
                ('event_type', fields.CharField(max_length=40)),
                ('webhook_id', fields.CharField(unique=True, description='the webhook-id header, the same on every retry', max_length=40)),
                ('body', fields.BinaryField(null=True, description='the exact JSON sent, emptied when purged')),
                ('body_bytes', fields.IntField(default=0)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('lease_expires_at', fields.DatetimeField(null=True, description='a claim ends here, then another worker may retake it', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=80)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('replays', fields.IntField(default=0)),
                ('replay_base', fields.IntField(default=0, description='attempts made before the last replay, so the schedule starts again')),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('dead_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('civic.WebhookDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('attempted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('duration_ms', fields.IntField(default=0)),
                ('response_excerpt', fields.CharField(default='', max_length=300)),
                ('error', fields.CharField(default='', max_length=300)),
                ('worker', fields.CharField(default='', max_length=80)),
            ],
            options={'table': 'webhook_attempt', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
