"""Councils, their wards, and the postcode sectors that place a resident in a ward."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tortoise import fields
from tortoise.models import Model

from civic import config
from civic.errors import Invalid, NotFound

# The full UK postcode grammar (BS 7666), including GIR 0AA; spaces are optional on input.
POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]? ?[0-9][ABD-HJLNP-UW-Z]{2}|"
                      r"[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")
# The first part of one, as someone who does not know the whole postcode gives it: the district (outward
# code, NM1) or the sector (the district, a space and the inward digit, NM1 4). Without the space, NM14
# is the district NM14.
POSTCODE_PART = re.compile(r"^(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)(?: [0-9])?$")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Council(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=60, unique=True)
    hostnames = fields.CharField(max_length=500, default="", description="comma-separated hosts serving this council")
    logo_url = fields.CharField(max_length=500, default="")
    brand_colour = fields.CharField(max_length=7, default="#1d70b8")
    emergency_phone = fields.CharField(max_length=30, default="999")
    childrens_front_door_phone = fields.CharField(max_length=30, default="")
    duty_email = fields.CharField(max_length=254, default="")
    # How residents reach the council itself, shown wherever a page tells them to contact it.
    contact_phone = fields.CharField(max_length=30, default="", db_default="")
    contact_email = fields.CharField(max_length=254, default="", db_default="")
    contact_url = fields.CharField(max_length=500, default="", db_default="", description="the contact page of the main council website")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "council"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ward(Model):
    id = fields.IntField(primary_key=True)
    council: fields.ForeignKeyRelation[Council] = fields.ForeignKeyField("civic.Council", related_name="wards")
    name = fields.CharField(max_length=120)
    code = fields.CharField(max_length=20, default="", description="ONS ward code where known")
    neighbours: fields.ManyToManyRelation[Ward] = fields.ManyToManyField(
        "civic.Ward", related_name="neighbour_of", through="ward_neighbour"
    )

    class Meta:
        table = "ward"
        unique_together = (("council", "name"),)
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PostcodeSector(Model):
    id = fields.IntField(primary_key=True)
    council: fields.ForeignKeyRelation[Council] = fields.ForeignKeyField("civic.Council", related_name="sectors")
    sector = fields.CharField(max_length=8, description="outward code, a space and the inward digit, like NM1 4")
    ward: fields.ForeignKeyRelation[Ward] = fields.ForeignKeyField("civic.Ward", related_name="sectors")

    class Meta:
        table = "postcode_sector"
        unique_together = (("council", "sector"),)


def normalise_postcode(raw: str) -> str:
    """'nm14ab' -> 'NM1 4AB'; raises Invalid for anything that is not a UK postcode."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if not POSTCODE.match(compact):
        raise Invalid({"postcode": "Enter a real postcode, like NM1 4AB"})
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_postcode_or_part(raw: str) -> str:
    """'nm14ab' -> 'NM1 4AB', 'nm1  4' -> 'NM1 4', 'nm1' -> 'NM1'; raises Invalid for anything else."""
    try:
        return normalise_postcode(raw)
    except Invalid:
        part = " ".join((raw or "").upper().split())
        if not POSTCODE_PART.match(part):
            raise Invalid({"postcode": "Enter a postcode, like NM1 4AB, or its first part, like NM1 4 or NM1"}) from None
        return part


def _district_and_sector(place: str) -> tuple[str, str]:
    """'NM1 4AB' and 'NM1 4' -> ('NM1', 'NM1 4'); 'NM1' -> ('NM1', '')."""
    district, _, inward = place.partition(" ")
    return district, f"{district} {inward[0]}" if inward else ""


def postcode_sector(postcode: str) -> str:
    """The sector of a normalised postcode: 'NM1 4AB' -> 'NM1 4'."""
    return postcode[:-2]


def site_url(council: Council | None = None) -> str:
    """The address people use for this council's site, for links in e-mails and feeds.

    CIVIC_BASE_URL, unless the council has host names of its own and that address is not one of
    them: on a deployment serving a region, a link from one council's site goes back to that site
    (a sign-in link signs you in there, not on the council whose host is the base address).
    """
    settings = config.current()
    base = settings.base_url.rstrip("/")
    if council is None:
        return base
    hosts = [h.strip() for h in council.hostnames.split(",") if h.strip()]
    parts = urlsplit(base)
    if not hosts or parts.hostname in hosts or council.slug == settings.default_council:
        return base
    return f"{parts.scheme}://{hosts[0]}"


def host_name(host: str) -> str:
    """A Host header without its port, in lower case: 'Civic.Example:443' -> 'civic.example', '[::1]:8000' -> '[::1]'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]


@dataclass(frozen=True)
class Hosts:
    """Which council each host name is for, as read at one moment; any other host is for `fallback`."""

    councils: dict[str, Council]
    fallback: Council | None

    def knows(self, name: str) -> bool:
        """Whether this host name (as `host_name` gives it) is one of a council's own."""
        return name in self.councils

    def council_for(self, name: str) -> Council | None:
        return self.councils.get(name, self.fallback)


async def read_hosts(default_slug: str = "") -> Hosts:
    """Every council's host names, and the council for any other host: the default, else the first made."""
    every = await Council.all()
    councils: dict[str, Council] = {}
    for council in every:
        for host in council.hostnames.split(","):
            if host.strip():
                councils.setdefault(host.strip().lower(), council)  # a host two councils claim: the first by name
    if default_slug:
        fallback = next((c for c in every if c.slug == default_slug), None)
    else:
        fallback = min(every, key=lambda c: c.id, default=None)
    return Hosts(councils, fallback)


async def council_for_host(host: str, default_slug: str = "") -> Council | None:
    """The council a request is for: one whose hostnames include the host, else the default."""
    return (await read_hosts(default_slug)).council_for(host_name(host))


async def get_council(slug: str) -> Council:
    council = await Council.get_or_none(slug=slug)
    if council is None:
        raise NotFound(f"No council with slug '{slug}'")
    return council


async def ward_for_postcode(council: Council, postcode: str) -> Ward | None:
    """The ward of this council containing the postcode, or None when it is outside the area.

    Also takes the first part of one (`normalise_postcode_or_part`): a sector places it as a whole
    postcode does, and a district only when every sector of it the council lists is in one ward.
    """
    district, sector = _district_and_sector(postcode)
    if sector:
        row = await PostcodeSector.get_or_none(council=council, sector=sector).prefetch_related("ward")
        return row.ward if row else None
    wards = set(await PostcodeSector.filter(council=council, sector__startswith=f"{district} ").values_list("ward_id", flat=True))
    return await Ward.get(id=wards.pop()) if len(wards) == 1 else None


# Where someone whose postcode is in another council's area finds that council.
FIND_YOUR_COUNCIL = "https://www.gov.uk/find-local-council"


def not_in_area(council: Council, postcode: str) -> str:
    """What a resident is first told about a postcode `known_outside` the council's area (the concern form and the directory)."""
    return f"{postcode} is not in {council.name}'s area."


async def known_outside(council: Council, postcode: str) -> bool:
    """Whether a postcode the council has no ward for is known to be outside its area: another council
    of this deployment has its sector, or the council has a list of sectors and none in its district.

    A sector missing from a district the council does cover may be a gap in the list officers uploaded,
    and a council with no list says nothing about any postcode: neither is known to be outside.
    """
    district, sector = _district_and_sector(postcode)
    listed = PostcodeSector.filter(council=council)
    if sector:
        if await PostcodeSector.filter(sector=sector).exclude(council=council).exists():
            return True
    elif await PostcodeSector.filter(sector__startswith=f"{district} ").exclude(council=council).exists():
        # A district alone is elsewhere when another council has sectors in it and this one has none.
        if not await listed.filter(sector__startswith=f"{district} ").exists():
            return True
    return await listed.exists() and not await listed.filter(sector__startswith=f"{district} ").exists()


async def find_ward_for_postcode(postcode: str) -> Ward | None:
    """The ward, in any council of this deployment, containing the postcode."""
    row = await PostcodeSector.filter(sector=postcode_sector(postcode)).prefetch_related("ward").first()
    return row.ward if row else None


def _parse_sector(raw: str) -> str:
    compact = re.sub(r"\s+", "", raw).upper()
    if not re.match(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9]$", compact):
        raise ValueError(raw)
    return f"{compact[:-1]} {compact[-1]}"


async def import_wards(council: Council, csv_text: str) -> tuple[int, int]:
    """Load a CSV of `sector,ward` rows (header optional); returns (wards created, sectors set).

    Every bad row is reported at once and nothing is written unless all rows are good.
    """
    rows = list(csv.reader(io.StringIO(csv_text)))
    first_line = 1
    if rows and rows[0] and rows[0][0].strip().lower() in {"sector", "postcode_sector", "postcode sector"}:
        rows, first_line = rows[1:], 2
    errors: dict[str, str] = {}
    parsed: list[tuple[str, str]] = []
    for number, row in enumerate(rows, start=first_line):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[1].strip():
            errors[f"line {number}"] = "needs a postcode sector and a ward name"
            continue
        try:
            parsed.append((_parse_sector(row[0]), row[1].strip()))
        except ValueError:
            errors[f"line {number}"] = f"'{row[0].strip()}' is not a postcode sector like NM1 4"
    if errors:
        raise Invalid(errors)
    from civic.db import in_transaction

    created = 0
    async with in_transaction():
        wards = {w.name: w for w in await Ward.filter(council=council)}
        for sector, ward_name in parsed:
            ward = wards.get(ward_name)
            if ward is None:
                ward = wards[ward_name] = await Ward.create(council=council, name=ward_name)
                created += 1
            await PostcodeSector.update_or_create(council=council, sector=sector, defaults={"ward": ward})
    return created, len(parsed)
