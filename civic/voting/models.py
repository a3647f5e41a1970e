"""The rows of a shareholder round: rounds, priorities, ballots, voting codes and progress updates."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from civic import crypto
from civic.crypto import EncryptedTextField

STATUSES = ("draft", "open", "closed", "published")
METHODS = ("split", "equal_shares", "greedy")
ELIGIBILITIES = ("residents", "verified", "codes")
VOTE_TYPES = ("cumulative", "approval")
BALLOT_SOURCES = ("online", "code", "paper", "imported")
PROGRESS = ("planned", "in_progress", "delivered")
CODE_DIGEST = "voting code"


class Round(Model):
    # A round of shareholder voting run by one council.

    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="rounds", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=200)
    explanation = fields.TextField(default="")
    budget = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="GBP")
    shares_per_resident = fields.IntField(default=100)
    minimum_priorities = fields.IntField(default=1)
    max_shares_per_priority = fields.IntField(null=True)
    opens_at = fields.DatetimeField(null=True)
    closes_at = fields.DatetimeField(null=True)
    wards: fields.ManyToManyRelation[Any] = fields.ManyToManyField(
        "civic.Ward", related_name="rounds", through="round_ward"
    )
    eligibility = fields.CharField(max_length=12, default="residents", description="residents or verified or codes")
    method = fields.CharField(max_length=14, default="split", description="split or equal_shares or greedy")
    vote_type = fields.CharField(max_length=12, default="cumulative", description="approval only for imported rounds")
    status = fields.CharField(max_length=10, default="draft", db_index=True)
    source = fields.CharField(max_length=200, default="", description="the Pabulib file a round was imported from")
    results: Any = fields.JSONField(null=True, description="the count as published")
    created_by = fields.ForeignKeyField("civic.User", related_name="rounds_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    opened_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True)

    priorities: fields.ReverseRelation[Priority]

    class Meta:
        table = "voting_round"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def costed(self) -> bool:
        """Equal shares and greedy buy whole priorities, so they need costs and a budget."""
        return self.method in ("equal_shares", "greedy")

    @property
    def allowance(self) -> int:
        return self.shares_per_resident

    @property
    def cap(self) -> int:
        """The most shares one priority can take on one ballot."""
        if self.max_shares_per_priority is None:
            return self.shares_per_resident
        return min(self.max_shares_per_priority, self.shares_per_resident)


class Priority(Model):
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="priorities", on_delete=fields.CASCADE)
    round = fields.ForeignKeyField("civic.Round", related_name="priorities", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    cost = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    ward = fields.ForeignKeyField("civic.Ward", related_name="priorities", null=True, on_delete=fields.SET_NULL)
    code = fields.CharField(max_length=60, default="", description="the project id in an imported Pabulib file")
    position = fields.IntField(default=0)

    class Meta:
        table = "voting_priority"
        ordering = ["position", "id"]
        indexes = (("round_id", "position"),)  # every ballot page reads its round's priorities

    def __str__(self) -> str:
        return self.title

    @property
    def key(self) -> str:
        """Its id in a count and in a Pabulib file."""
        return self.code or str(self.id)


class CodeBatch(Model):
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="code_batches", on_delete=fields.CASCADE)
    round = fields.ForeignKeyField("civic.Round", related_name="code_batches", on_delete=fields.CASCADE)
    label = fields.CharField(max_length=120, default="")
    ward = fields.ForeignKeyField("civic.Ward", related_name="code_batches", null=True, on_delete=fields.SET_NULL)
    size = fields.IntField()
    created_by = fields.ForeignKeyField("civic.User", related_name="code_batches", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_code_batch"
        ordering = ["-created_at", "-id"]


class VotingCode(Model):
    # A one-time code on a letter. Encrypted, so officers can reprint it, and found by its keyed
    # digest: a copy of the database without CIVIC_ENCRYPTION_KEYS can neither read codes nor vote.
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="voting_codes", on_delete=fields.CASCADE)
    round = fields.ForeignKeyField("civic.Round", related_name="voting_codes", on_delete=fields.CASCADE)
    batch = fields.ForeignKeyField("civic.CodeBatch", related_name="codes", on_delete=fields.CASCADE)
    code = EncryptedTextField(description="the code as printed, normalised (ABCDEFGHJKMN)")
    digest = fields.CharField(max_length=64, unique=True, description="the code's keyed digest (civic.crypto.digests): how a code typed in is found")
    redeemed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "voting_code"
        ordering = ["id"]

    @staticmethod
    def digest_of(code: str) -> str:
        return crypto.digest(CODE_DIGEST, code)

    async def save(self, *args: Any, update_fields: Any = None, **kwargs: Any) -> None:
        # The digest follows the first key, as the ciphertext does: `civic keys rotate` moves both.
        self.digest = self.digest_of(self.code)
        if update_fields is not None and "code" in update_fields:
            update_fields = [*update_fields, "digest"]
        await super().save(*args, update_fields=update_fields, **kwargs)


class Ballot(Model):
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="ballots", on_delete=fields.CASCADE)
    round = fields.ForeignKeyField("civic.Round", related_name="ballots", on_delete=fields.CASCADE)
    voter = fields.ForeignKeyField("civic.User", related_name="ballots", null=True, on_delete=fields.SET_NULL)
    voting_code = fields.OneToOneField("civic.VotingCode", related_name="ballot", null=True, on_delete=fields.SET_NULL)
    ward = fields.ForeignKeyField("civic.Ward", related_name="ballots", null=True, on_delete=fields.SET_NULL)
    source = fields.CharField(max_length=10, default="online", description="online or code or paper or imported")
    entered_by = fields.ForeignKeyField("civic.User", related_name="ballots_entered", null=True, on_delete=fields.SET_NULL)
    receipt_hash = fields.CharField(max_length=64, null=True, db_index=True)
    report_emails = fields.BooleanField(default=True, description="the voter wants progress on what they backed")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    allocations: fields.ReverseRelation[Allocation]

    class Meta:
        table = "voting_ballot"
        # One ballot per resident per round, whatever the application does.
        unique_together = (("round", "voter"),)


class Allocation(Model):
    id = fields.BigIntField(primary_key=True)
    ballot = fields.ForeignKeyField("civic.Ballot", related_name="allocations", on_delete=fields.CASCADE)
    priority = fields.ForeignKeyField("civic.Priority", related_name="allocations", on_delete=fields.CASCADE)
    shares = fields.IntField()

    class Meta:
        table = "voting_allocation"
        unique_together = (("ballot", "priority"),)


class ProgressUpdate(Model):
    id = fields.IntField(primary_key=True)
    council = fields.ForeignKeyField("civic.Council", related_name="progress_updates", on_delete=fields.CASCADE)
    round = fields.ForeignKeyField("civic.Round", related_name="progress_updates", on_delete=fields.CASCADE)
    priority = fields.ForeignKeyField("civic.Priority", related_name="progress_updates", on_delete=fields.CASCADE)
    status = fields.CharField(max_length=12, description="planned or in_progress or delivered")
    note = fields.TextField(default="")
    posted_by = fields.ForeignKeyField("civic.User", related_name="progress_posted", null=True, on_delete=fields.SET_NULL)
    emailed = fields.IntField(default=0, description="backers told by e-mail")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_progress_update"
        ordering = ["-created_at", "-id"]
