from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('civic', '0003_schemes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Round',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='rounds', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('explanation', fields.TextField(default='', unique=False)),
                ('budget', fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ('currency', fields.CharField(default='GBP', max_length=3)),
                ('shares_per_resident', fields.IntField(default=100)),
                ('minimum_priorities', fields.IntField(default=1)),
                ('max_shares_per_priority', fields.IntField(null=True)),
                ('opens_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('wards', fields.ManyToManyField('civic.Ward', unique=True, db_constraint=True, through='round_ward', forward_key='ward_id', backward_key='voting_round_id', related_name='rounds', on_delete=OnDelete.CASCADE)),
                ('eligibility', fields.CharField(default='residents', description='residents or verified or codes', max_length=12)),
                ('method', fields.CharField(default='split', description='split or equal_shares or greedy', max_length=14)),
                ('vote_type', fields.CharField(default='cumulative', description='approval only for imported rounds', max_length=12)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=10)),
                ('source', fields.CharField(default='', description='the Pabulib file a round was imported from', max_length=200)),
                ('results', fields.JSONField(null=True, description='the count as published', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.ForeignKeyField('civic.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='rounds_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'voting_round', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CodeBatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='code_batches', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('civic.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='code_batches', on_delete=OnDelete.CASCADE)),
                ('label', fields.CharField(default='', max_length=120)),
                ('ward', fields.ForeignKeyField('civic.Ward', source_field='ward_id', null=True, db_constraint=True, to_field='id', related_name='code_batches', on_delete=OnDelete.SET_NULL)),
                ('size', fields.IntField()),
                ('created_by', fields.ForeignKeyField('civic.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='code_batches', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'voting_code_batch', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Priority',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='priorities', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('civic.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='priorities', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('cost', fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ('ward', fields.ForeignKeyField('civic.Ward', source_field='ward_id', null=True, db_constraint=True, to_field='id', related_name='priorities', on_delete=OnDelete.SET_NULL)),
                ('code', fields.CharField(default='', description='the project id in an imported Pabulib file', max_length=60)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'voting_priority', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProgressUpdate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='progress_updates', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('civic.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='progress_updates', on_delete=OnDelete.CASCADE)),
                ('priority', fields.ForeignKeyField('civic.Priority', source_field='priority_id', db_constraint=True, to_field='id', related_name='progress_updates', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(description='planned or in_progress or delivered', max_length=12)),
                ('note', fields.TextField(default='', unique=False)),
                ('posted_by', fields.ForeignKeyField('civic.User', source_field='posted_by_id', null=True, db_constraint=True, to_field='id', related_name='progress_posted', on_delete=OnDelete.SET_NULL)),
                ('emailed', fields.IntField(default=0, description='backers told by e-mail')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'voting_progress_update', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VotingCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='voting_codes', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('civic.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='voting_codes', on_delete=OnDelete.CASCADE)),
                ('batch', fields.ForeignKeyField('civic.CodeBatch', source_field='batch_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(unique=True, max_length=20)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'voting_code', 'app': 'civic', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ballot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('council', fields.ForeignKeyField('civic.Council', source_field='council_id', db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('civic.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.CASCADE)),
                ('voter', fields.ForeignKeyField('civic.User', source_field='voter_id', null=True, db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.SET_NULL)),
                ('voting_code', fields.OneToOneField('civic.VotingCode', source_field='voting_code_id', null=True, db_constraint=True, to_field='id', related_name='ballot', on_delete=OnDelete.SET_NULL)),
                ('ward', fields.ForeignKeyField('civic.Ward', source_field='ward_id', null=True, db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.SET_NULL)),
                ('source', fields.CharField(default='online', description='online or code or paper or imported', max_length=10)),
                ('entered_by', fields.ForeignKeyField('civic.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='ballots_entered', on_delete=OnDelete.SET_NULL)),
                ('receipt_hash', fields.CharField(null=True, db_index=True, max_length=64)),
                ('report_emails', fields.BooleanField(default=True, description='the voter wants progress on what they backed')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'voting_ballot', 'app': 'civic', 'unique_together': (('round', 'voter'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Allocation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ballot', fields.ForeignKeyField('civic.Ballot', source_field='ballot_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.CASCADE)),
                ('priority', fields.ForeignKeyField('civic.Priority', source_field='priority_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.CASCADE)),
                ('shares', fields.IntField()),
            ],
            options={'table': 'voting_allocation', 'app': 'civic', 'unique_together': (('ballot', 'priority'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
