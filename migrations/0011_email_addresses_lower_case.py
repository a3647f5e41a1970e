"""Lower-case every stored e-mail address, as civic now finds people by (accounts.normalise_email).

Before this, only the domain was lower-cased, so `Pat.Jones@x.example` and `pat.jones@x.example` could
be two accounts of one person. Where addresses differing only in case belong to more than one user,
nothing is merged, because an account holds roles, ballots, memberships and concerns' history, and
deciding which of two is the person's is for an administrator:
- if one of them already has the lower-case address, it stays the account found by that address;
- otherwise the oldest (lowest id) gets the lower-case address;
- the others keep their address as it was. Nobody can sign in to them by e-mailed link any more (the
  link goes to the lower-case address), but nothing of theirs is lost. Their ids are logged with a
  warning, with how many there are, so an administrator can move what matters and delete them.
Unused sign-in links are lower-cased too, so a link asked for before the upgrade signs in to the same
account as one asked for after it.
"""

import logging
from collections import defaultdict

from tortoise import migrations
from tortoise.migrations import operations as ops

log = logging.getLogger("civic.migrations")


def _sql(client, statement: str) -> str:
    # `?` placeholders as the database wants them: `$1, $2, ...` on PostgreSQL.
    if client.capabilities.dialect != "postgres":
        return statement
    numbers = iter(range(1, statement.count("?") + 1))
    return "".join(f"${next(numbers)}" if c == "?" else c for c in statement)


async def lower_case_addresses(apps, schema_editor) -> None:
    client = schema_editor.client
    people = defaultdict(list)
    for row in await client.execute_query_dict('SELECT id, email FROM "user" ORDER BY id'):
        people[row["email"].strip().lower()].append((row["id"], row["email"]))
    left = []
    for address, users in people.items():
        if any(email == address for _, email in users):
            keeper = None  # already there: nothing to change
        else:
            keeper = users[0][0]
            await client.execute_query(_sql(client, 'UPDATE "user" SET email = ? WHERE id = ?'), [address, keeper])
        left += [user_id for user_id, email in users if email != address and user_id != keeper]
    if left:
        log.warning(
            "%d user accounts have the e-mail address of another account but for capital letters, and were left "
            "as they were for an administrator to merge into it (or delete): user ids %s",
            len(left),
            ", ".join(str(user_id) for user_id in left),
        )
    for row in await client.execute_query_dict("SELECT id, email FROM login_token WHERE used_at IS NULL"):
        if row["email"] != row["email"].strip().lower():
            await client.execute_query(_sql(client, "UPDATE login_token SET email = ? WHERE id = ?"), [row["email"].strip().lower(), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('civic', '0010_voting_codes_encrypted')]

    initial = False

    operations = [
        # Going back leaves the addresses lower-case: which ones had capitals is not kept.
        ops.RunPython(lower_case_addresses, ops.RunPython.noop),
    ]
