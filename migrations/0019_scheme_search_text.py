"""A scheme keeps its searched text without accents or capitals, so 'cafe' finds 'Community Café'.

Schemes already there get theirs from their name, summary, description and venue here; from now on
the domain writes it whenever those change (civic.schemes.directory.search_text).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from civic.schemes.text import searchable

# The fields the directory searched when this was written; a later change to them is a migration of its own.
SEARCHED = ("name", "summary", "description", "venue")


def _sql(client, statement: str) -> str:
    # `?` placeholders as the database wants them: `$1, $2, ...` on PostgreSQL.
    if client.capabilities.dialect != "postgres":
        return statement
    numbers = iter(range(1, statement.count("?") + 1))
    return "".join(f"${next(numbers)}" if c == "?" else c for c in statement)


async def fill_search_text(apps, schema_editor) -> None:
    client = schema_editor.client
    for row in await client.execute_query_dict(f"SELECT id, {', '.join(SEARCHED)} FROM scheme ORDER BY id"):
        text = "\n".join(searchable(row[name] or "") for name in SEARCHED)
        await client.execute_query(_sql(client, "UPDATE scheme SET search_text = ? WHERE id = ?"), [text, row["id"]])


class Migration(migrations.Migration):
    dependencies = [('civic', '0018_information_from_duplicates')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Scheme',
            name='search_text',
            field=fields.TextField(
                default='', description='the name and summary and description and venue without accents or capitals, for the directory search', db_default='', unique=False
            ),
        ),
        # Going back drops the column with the field.
        ops.RunPython(fill_search_text, ops.RunPython.noop),
    ]
