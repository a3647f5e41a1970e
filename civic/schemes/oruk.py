"""The directory as Open Referral UK: HSDS 3 services in the UK profile, for other directories to import."""

from __future__ import annotations

import datetime
import math
import uuid
from typing import Any

from civic.councils import Council
from civic.errors import NotFound
from civic.schemes.directory import matching
from civic.schemes.models import PUBLIC_STATUSES, Scheme
from civic.schemes.taxonomy import Term, term_by_id

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/openreferral/uk-profile"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/openapi.json"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
# HSDS status for each scheme status that is published.
HSDS_STATUS = {"active": "active", "paused": "temporarily closed", "closed": "defunct"}
ONS_GEOGRAPHY = "http://statistics.data.gov.uk/id/statistical-geography/"


def published(council: Council):
    """Every scheme of the council the feed carries: approved (closed ones as defunct), never hidden."""
    return Scheme.filter(council=council, status__in=PUBLIC_STATUSES, hidden=False)


def _id(scheme: Scheme, what: str) -> str:
    """A stable UUID for a part of a scheme that has no row of its own (its organisation, a ward served...)."""
    return str(uuid.uuid5(scheme.uuid, what))


def _timestamp(scheme: Scheme) -> str:
    """ISO 8601 in UTC with milliseconds, as HSDS asks for last_modified."""
    moment = scheme.updated_at.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _organization(scheme: Scheme, site_url: str) -> dict[str, Any]:
    # A scheme is run by its own volunteer group, so the group is the organisation.
    return {
        "id": _id(scheme, "organization"),
        "name": scheme.name,
        "description": scheme.summary,
        "website": _url(scheme, site_url),
    }


def _url(scheme: Scheme, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/schemes/{scheme.slug}"


def _summary(scheme: Scheme, site_url: str) -> dict[str, Any]:
    """The one-to-one fields of a service, as the paged list carries them."""
    service: dict[str, Any] = {
        "id": str(scheme.uuid),
        "organization_id": _id(scheme, "organization"),
        "name": scheme.name,
        "description": f"{scheme.summary}\n\n{scheme.description}",
        "url": _url(scheme, site_url),
        "status": HSDS_STATUS[scheme.status],
        "last_modified": _timestamp(scheme),
        "organization": _organization(scheme, site_url),
    }
    if scheme.status == "paused":
        service["alert"] = "This scheme is paused and is not taking anyone new at the moment."
    return service


def _attribute(scheme: Scheme, term: Term) -> dict[str, Any]:
    return {
        "id": _id(scheme, f"attribute:{term.taxonomy}:{term.slug}"),
        "link_id": str(scheme.uuid),
        "taxonomy_term_id": str(term.id),
        "link_type": "service",
        "taxonomy_term": {
            "id": str(term.id),
            "name": term.name,
            "description": term.description,
            "taxonomy": term.taxonomy,
            "term": term.slug,
        },
    }


def service(scheme: Scheme, council: Council, site_url: str) -> dict[str, Any]:
    """A fully nested service (needs `categories`, `audiences` and `wards` prefetched)."""
    service_id = str(scheme.uuid)
    location_id = _id(scheme, "location")
    full = _summary(scheme, site_url)
    full.update(
        {
            "schedules": [{"id": _id(scheme, "schedule"), "service_id": service_id, "description": scheme.times}],
            "service_areas": [
                {
                    "id": _id(scheme, f"ward:{ward.id}"),
                    "service_id": service_id,
                    "name": ward.name,
                    "service_area": f"{ward.name} ward, {council.name}",
                    **({"uri": ONS_GEOGRAPHY + ward.code} if ward.code else {}),
                }
                for ward in sorted(scheme.wards, key=lambda w: w.name)
            ],
            "service_at_locations": [
                {
                    "id": _id(scheme, "service_at_location"),
                    "service_id": service_id,
                    "location_id": location_id,
                    "location": {"id": location_id, "location_type": "physical", "name": scheme.venue, "description": scheme.venue},
                }
            ],
            "contacts": [
                {
                    "id": _id(scheme, "contact:safeguarding"),
                    "service_id": service_id,
                    "name": scheme.safeguarding_lead_name,
                    "title": f"Safeguarding lead ({scheme.safeguarding_lead_role})",
                }
            ],
            "attributes": [_attribute(scheme, term) for term in (*scheme.category_terms, *scheme.audience_terms)],
        }
    )
    return full


async def services_page(
    council: Council, site_url: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE, search: str = "", taxonomy_term_id: str = ""
) -> dict[str, Any]:
    """One page of services, with HSDS 3's paging fields."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = published(council)
    if taxonomy_term_id:
        term = term_by_id(taxonomy_term_id)
        if term is None:
            query = query.filter(id=-1)  # an unknown term matches nothing, as a filter should
        elif term.taxonomy.endswith("category"):
            query = matching(query, category=term.slug)
        else:
            query = matching(query, audience=term.slug)
    query = matching(query, words=search)
    total = await query.count()
    total_pages = max(1, math.ceil(total / per_page))
    page = max(1, page)
    schemes = await query.order_by("name", "id").offset((page - 1) * per_page).limit(per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(schemes),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not schemes,
        "contents": [_summary(scheme, site_url) for scheme in schemes],
    }


async def service_by_id(council: Council, site_url: str, raw_id: str) -> dict[str, Any]:
    """One fully nested service; NotFound for an unknown, unapproved or hidden scheme."""
    try:
        wanted = uuid.UUID(raw_id)
    except ValueError:
        raise NotFound("No service with that id") from None
    scheme = await published(council).get_or_none(uuid=wanted).prefetch_related("categories", "audiences", "wards")
    if scheme is None:
        raise NotFound("No service with that id")
    return service(scheme, council, site_url)


def about() -> dict[str, str]:
    """What GET / of an Open Referral API answers."""
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}
