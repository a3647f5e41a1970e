from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0002_concerns')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Scheme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uuid', fields.UUIDField(default=uuid4, unique=True, description='public id in the Open Referral feed')),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='schemes', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(description='set once from the first name and never changed', max_length=80)),
                ('name', fields.CharField(max_length=120)),
                ('summary', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('times', fields.CharField(max_length=300)),
                ('venue', fields.CharField(max_length=300)),
                ('how_to_get_help', fields.TextField(unique=False)),
                ('how_to_volunteer', fields.TextField(default='', unique=False)),
                ('who_for_details', fields.CharField(default='', max_length=300)),
                ('safeguarding_lead_name', fields.CharField(max_length=80)),
                ('safeguarding_lead_role', fields.CharField(max_length=120)),
                ('contact_phone', fields.CharField(default='', max_length=30)),
                ('wards', fields.ManyToManyField('civic.Ward', unique=True, db_constraint=True, through='scheme_ward', forward_key='ward_id', backward_key='scheme_id', related_name='schemes', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=10)),
                ('decline_reason', fields.TextField(default='', unique=False)),
                ('proposed_by', fields.ForeignKeyField('civic.User', source_field='proposed_by_id', null=True, db_constraint=True, to_field='id', related_name='schemes_proposed', on_delete=OnDelete.SET_NULL)),
                ('decided_by', fields.ForeignKeyField('civic.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='schemes_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden', fields.BooleanField(default=False, db_index=True)),
                ('hidden_reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'scheme', 'app': 'civic', 'unique_together': (('council', 'slug'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('civic.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(default='member', max_length=20)),
                ('status', fields.CharField(default='active', db_index=True, max_length=20)),
                ('added_by', fields.ForeignKeyField('civic.User', source_field='added_by_id', null=True, db_constraint=True, to_field='id', related_name='memberships_added', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'membership', 'app': 'civic', 'unique_together': (('scheme', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NewsPost',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='news_posts', on_delete=OnDelete.CASCADE)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('civic.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='news_posts', on_delete=OnDelete.SET_NULL)),
                ('title', fields.CharField(max_length=120)),
                ('body', fields.TextField(unique=False)),
                ('hidden', fields.BooleanField(default=False, db_index=True)),
                ('hidden_reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'news_post', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('civic.NewsPost', source_field='post_id', null=True, description='set when the report is about a news post', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('reporter', fields.ForeignKeyField('civic.User', source_field='reporter_id', null=True, db_constraint=True, to_field='id', related_name='reports_made', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(max_length=20)),
                ('details', fields.TextField(unique=False)),
                ('status', fields.CharField(default='open', db_index=True, max_length=10)),
                ('outcome', fields.TextField(default='', description='what the officer decided and why', unique=False)),
                ('handled_by', fields.ForeignKeyField('civic.User', source_field='handled_by_id', null=True, db_constraint=True, to_field='id', related_name='reports_handled', on_delete=OnDelete.SET_NULL)),
                ('handled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'report', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SchemeAudience',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='audiences', on_delete=OnDelete.CASCADE)),
                ('audience', fields.CharField(db_index=True, max_length=30)),
            ],
            options={'table': 'scheme_audience', 'app': 'civic', 'unique_together': (('scheme', 'audience'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SchemeCategory',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scheme', fields.ForeignKeyField('civic.Scheme', source_field='scheme_id', db_constraint=True, to_field='id', related_name='categories', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharField(db_index=True, max_length=30)),
            ],
            options={'table': 'scheme_category', 'app': 'civic', 'unique_together': (('scheme', 'category'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
