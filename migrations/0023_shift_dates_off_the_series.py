"""A shift's date says whether it was cancelled only because the series stopped reaching it.

Stopping a weekly shift, giving it an earlier last date or making it happen once cancels the dates it
no longer has; an organiser can also cancel one date on purpose. A later last date should open the
first kind again and leave the second as it is, so the row says which it is. Dates already cancelled
with the words civic itself wrote when a series ended ("The shift has stopped.", "The shift no longer
has this date.", "The scheme has closed.") are marked; every other date starts unmarked.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('civic', '0022_webhook_answers_encrypted')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ShiftOccurrence',
            name='off_the_series',
            field=fields.BooleanField(default=False, description='cancelled because the series ended before it, not on purpose', db_default=False),
        ),
        ops.RunSQL(
            "UPDATE scheme_shift_occurrence SET off_the_series = TRUE WHERE cancelled = TRUE"
            " AND cancel_reason IN ('The shift has stopped.', 'The shift no longer has this date.', 'The scheme has closed.')",
            "SELECT 1",
        ),
    ]
