from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Council',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('slug', fields.CharField(unique=True, max_length=60)),
                ('hostnames', fields.CharField(default='', description='comma-separated hosts serving this council', max_length=500)),
                ('logo_url', fields.CharField(default='', max_length=500)),
                ('brand_colour', fields.CharField(default='#1d70b8', max_length=7)),
                ('emergency_phone', fields.CharField(default='999', max_length=30)),
                ('childrens_front_door_phone', fields.CharField(default='', max_length=30)),
                ('duty_email', fields.CharField(default='', max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'council', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('next_path', fields.CharField(default='/', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_token', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutgoingEmail',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('to', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=250)),
                ('body', fields.TextField(unique=False)),
                ('attachments', fields.JSONField(default=list, description='[{filename, content_type, content}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outgoing_email', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ward',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='wards', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('code', fields.CharField(default='', description='ONS ward code where known', max_length=20)),
                ('neighbours', fields.ManyToManyField('civic.Ward', unique=True, db_constraint=True, through='ward_neighbour', forward_key='ward_id', backward_key='ward_rel_id', related_name='neighbour_of', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'ward', 'app': 'civic', 'unique_together': (('council', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostcodeSector',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='sectors', on_delete=OnDelete.CASCADE)),
                ('sector', fields.CharField(description='outward code, a space and the inward digit, like NM1 4', max_length=8)),
                ('ward', fields.ForeignKeyField('civic.Ward', source_field='ward_id', db_constraint=True, to_field='id', related_name='sectors', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'postcode_sector', 'app': 'civic', 'unique_together': (('council', 'sector'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('display_name', fields.CharField(default='', max_length=80)),
                ('postcode', fields.CharField(default='', max_length=8)),
                ('ward', fields.ForeignKeyField('civic.Ward', source_field='ward_id', null=True, db_constraint=True, to_field='id', related_name='residents', on_delete=OnDelete.SET_NULL)),
                ('email_verified', fields.BooleanField(default=False)),
                ('identity_verified', fields.BooleanField(default=False)),
                ('suspended', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditLog',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('civic.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=80)),
                ('target_type', fields.CharField(default='', max_length=60)),
                ('target_id', fields.CharField(default='', max_length=60)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_log', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OIDCIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=40)),
                ('subject', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'oidc_identity', 'app': 'civic', 'unique_together': (('provider', 'subject'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoleGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='role_grants', on_delete=OnDelete.CASCADE)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='role_grants', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=20)),
                ('granted_by', fields.ForeignKeyField('civic.User', source_field='granted_by_id', null=True, db_constraint=True, to_field='id', related_name='grants_made', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'role_grant', 'app': 'civic', 'unique_together': (('user', 'council', 'role'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('user_agent', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'session', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
