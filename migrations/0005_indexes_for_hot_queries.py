from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('civic', '0004_voting')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AuditLog',
            index=Index(fields=['council_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Concern',
            index=Index(fields=['council_id', 'status', 'urgency_rank', 'created_at']),
        ),
        ops.AddIndex(
            model_name='ConcernAccess',
            index=Index(fields=['concern_id']),
        ),
        ops.AddIndex(
            model_name='ConcernEvent',
            index=Index(fields=['concern_id']),
        ),
        ops.AddIndex(
            model_name='Membership',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='NewsPost',
            index=Index(fields=['scheme_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Priority',
            index=Index(fields=['round_id', 'position']),
        ),
        ops.AddIndex(
            model_name='Referral',
            index=Index(fields=['concern_id']),
        ),
        ops.AddIndex(
            model_name='Session',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['ward_id']),
        ),
    ]
