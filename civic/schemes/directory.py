"""The public directory: approved schemes found by words, category, who they are for and place."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from civic.councils import FIND_YOUR_COUNCIL, Council, Ward, known_outside, normalise_postcode, not_in_area, ward_for_postcode
from civic.db import as_id, page_number
from civic.errors import Invalid
from civic.kept import Kept
from civic.schemes.models import LISTED_STATUSES, Scheme, SchemeAudience, SchemeCategory
from civic.schemes.taxonomy import AUDIENCES, CATEGORIES
from civic.schemes.text import one_line, searchable

PAGE_SIZE = 10
# More words than this add little and each one is another LIKE over every scheme.
MAX_WORDS = 8
# What a scheme's words are looked for in, kept as `searchable` makes it in Scheme.search_text, so
# 'cafe' finds 'Community Café' on any database (PostgreSQL's unaccent is an extension that may be missing).
# Changing what is searched, or how `searchable` folds it, needs a migration that refills it (see 0019).
SEARCHED = ("name", "summary", "description", "venue")


@dataclass(frozen=True)
class Filters:
    """What someone searched for, as it appears in the directory's shareable URL."""

    words: str = ""
    category: str = ""
    audience: str = ""
    ward: str = ""
    postcode: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        """Read the query string; unknown categories, audiences and pages are treated as 'any' and 1."""
        page = params.get("page", "1")
        return cls(
            words=one_line(params.get("q", ""))[:200],
            category=params.get("category", "") if params.get("category", "") in CATEGORIES else "",
            audience=params.get("who", "") if params.get("who", "") in AUDIENCES else "",
            ward=str(as_id(params.get("ward", "")) or ""),  # no id (0) is any ward
            postcode=one_line(params.get("postcode", ""))[:10],
            page=page_number(page),
        )

    @property
    def any(self) -> bool:
        return bool(self.words or self.category or self.audience or self.ward or self.postcode)

    def query_string(self, **changes: object) -> str:
        """The URL query for these filters (with some changed), leaving out what is empty."""
        chosen = replace(self, **changes)  # type: ignore[arg-type]
        pairs = [("q", chosen.words), ("category", chosen.category), ("who", chosen.audience), ("ward", chosen.ward), ("postcode", chosen.postcode)]
        if chosen.page > 1:
            pairs.append(("page", str(chosen.page)))
        return urlencode([(k, v) for k, v in pairs if v])


@dataclass
class Results:
    filters: Filters
    schemes: list[Scheme] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    place: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    suggestions: list[tuple[str, str]] = field(default_factory=list)  # (text, query string)
    place_unknown: str = ""  # why a postcode did not narrow the search
    find_your_council: str = ""  # set when the postcode is in another council's area

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.total, self.page * PAGE_SIZE)

    @property
    def page_numbers(self) -> list[int | None]:
        """First, last, and the pages either side of this one; None where pages are left out."""
        shown = sorted({1, self.pages, *(n for n in range(self.page - 1, self.page + 2) if 1 <= n <= self.pages)})
        numbers: list[int | None] = []
        for number in shown:
            if numbers and number - numbers[-1] > 1:  # type: ignore[operator]
                numbers.append(None)
            numbers.append(number)
        return numbers


async def near(ward: Ward) -> list[Ward]:
    """A ward and the wards next to it (neighbours are read both ways, whichever way they were entered)."""
    around = {w.id: w for w in [*await ward.neighbours.all(), *await ward.neighbour_of.all()] if w.id != ward.id}
    return [ward, *sorted(around.values(), key=lambda w: w.name)]


def listed(council: Council) -> QuerySet[Scheme]:
    """Every scheme of the council that the public may find: approved, not closed, not hidden."""
    return Scheme.filter(council=council, status__in=LISTED_STATUSES, hidden=False)


def search_text(text: Mapping[str, str]) -> str:
    """What Scheme.search_text holds for a scheme with this name, summary, description and venue."""
    return "\n".join(searchable(text[name]) for name in SEARCHED)


def matching(query: QuerySet[Scheme], words: str = "", category: str = "", audience: str = "", ward_ids: list[int] | None = None) -> QuerySet[Scheme]:
    """Narrow a query of schemes by words (all must appear, whatever their accents and capitals), category, audience and wards."""
    for word in searchable(words).split()[:MAX_WORDS]:
        query = query.filter(search_text__contains=word)
    if category:
        query = query.filter(id__in=Subquery(SchemeCategory.filter(category=category).values("scheme_id")))
    if audience:
        # A scheme for everyone is also for the people someone is looking for.
        audiences = [audience] if audience == "everyone" else [audience, "everyone"]
        query = query.filter(id__in=Subquery(SchemeAudience.filter(audience__in=audiences).values("scheme_id")))
    if ward_ids is not None:
        query = query.filter(id__in=Subquery(Scheme.filter(wards__id__in=ward_ids).values("id")))
    return query


@dataclass
class _Place:
    ward_ids: list[int] | None = None  # None: anywhere
    words: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    unknown: str = ""
    find_your_council: str = ""


async def _place(council: Council, filters: Filters) -> _Place:
    """The wards to search in and words describing them, or what is wrong with the postcode or ward.

    A postcode is judged as the concern form judges it (civic.concerns.intake): one known to be in another
    council's area is refused, with where to find that council; one the council's list merely lacks (a
    gap in the list, or no list) is searched for everywhere, saying so, rather than called elsewhere.
    """
    if filters.postcode:
        try:
            postcode = normalise_postcode(filters.postcode)
        except Invalid:
            return _Place(problems={"postcode": "Enter a real postcode, like NM1 4AB, or choose a ward instead"})
        ward = await ward_for_postcode(council, postcode)
        if ward is None and await known_outside(council, postcode):
            message = f"{not_in_area(council, postcode)} If you live elsewhere, look for support through your own council. You can also choose a ward, or search everywhere."
            return _Place(problems={"postcode": message}, find_your_council=FIND_YOUR_COUNCIL)
        if ward is None:
            return _Place(unknown=f"We do not know which ward {postcode} is in, so these are schemes anywhere in {council.name}'s area. Choose your ward to see those nearest you.")
        wards = await near(ward)
        others = ", ".join(w.name for w in wards[1:])
        return _Place([w.id for w in wards], f"near {postcode}: {ward.name}" + (f" and the wards next to it ({others})" if others else ""))
    if filters.ward:
        ward = await Ward.get_or_none(council=council, id=int(filters.ward))
        if ward is None:
            return _Place(problems={"ward": "Choose a ward from the list"})
        return _Place([ward.id], f"in {ward.name}")
    return _Place()


def _suggestions(filters: Filters, place: str, everywhere: bool = False) -> list[tuple[str, str]]:
    """What to try when nothing matched: loosen one filter at a time (`everywhere`: the place did not narrow it)."""
    found = []
    if filters.words:
        found.append((f"search without the words ‘{filters.words}’", filters.query_string(words="", page=1)))
    if filters.category:
        found.append((f"look in every category, not only {CATEGORIES[filters.category].name.lower()}", filters.query_string(category="", page=1)))
    if filters.audience:
        found.append((f"include schemes for any group, not only {AUDIENCES[filters.audience].name.lower()}", filters.query_string(audience="", page=1)))
    if (filters.postcode or filters.ward) and not everywhere:
        found.append(("search everywhere in the area" if not place else f"search everywhere, not only {place}", filters.query_string(postcode="", ward="", page=1)))
    return found


# The directory is the same for everyone, and in a surge many people run the same few searches: a page
# of results is kept for CIVIC_PUBLIC_CACHE_SECONDS, so a scheme that is approved, changed or hidden
# shows in searches within that time.
_kept_results: Kept[Results] = Kept(500)
_kept_wards: Kept[list[tuple[str, str]]] = Kept(50)


async def search(council: Council, filters: Filters) -> Results:
    """One page of approved schemes matching the filters, with what to try next if there are none."""
    return await _kept_results.fetch((council.id, filters), lambda: _search(council, filters))


async def _search(council: Council, filters: Filters) -> Results:
    place = await _place(council, filters)
    results = Results(filters=filters, place=place.words, problems=place.problems, place_unknown=place.unknown, find_your_council=place.find_your_council)
    if place.problems:
        results.suggestions = _suggestions(filters, place.words)
        return results
    query = matching(listed(council), filters.words, filters.category, filters.audience, place.ward_ids)
    results.total = await query.count()
    results.pages = max(1, math.ceil(results.total / PAGE_SIZE))
    results.page = min(filters.page, results.pages)
    offset = (results.page - 1) * PAGE_SIZE
    results.schemes = list(await query.order_by("name", "id").offset(offset).limit(PAGE_SIZE).prefetch_related("categories", "audiences", "wards"))
    if not results.total:
        results.suggestions = _suggestions(filters, place.words, everywhere=bool(place.unknown))
    return results


async def ward_choices(council: Council) -> list[tuple[str, str]]:
    """The council's wards for the directory's filter, kept as search results are."""

    async def read() -> list[tuple[str, str]]:
        return [(str(w.id), w.name) for w in await Ward.filter(council=council).order_by("name")]

    return await _kept_wards.fetch(council.id, read)
