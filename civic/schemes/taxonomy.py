"""The scheme taxonomy: the one place that says which categories and audiences a scheme can have."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# Stable namespace for the taxonomy's UUIDs in the Open Referral feed: the same term has the same id
# in every deployment, so directories that import several councils' feeds can match them.
TAXONOMY_NAMESPACE = uuid.UUID("5d0c6c3e-2f0b-4a57-9b1e-6b3c2a7e9f10")


@dataclass(frozen=True)
class Term:
    slug: str
    name: str
    description: str
    taxonomy: str

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(TAXONOMY_NAMESPACE, f"{self.taxonomy}:{self.slug}")


CATEGORY_TAXONOMY = "civic-scheme-category"
AUDIENCE_TAXONOMY = "civic-scheme-audience"

CATEGORIES: dict[str, Term] = {
    term.slug: term
    for term in (
        Term("older-people", "Older people", "Support for older neighbours and their carers", CATEGORY_TAXONOMY),
        Term("families", "Families and children", "Help for parents, carers and young children", CATEGORY_TAXONOMY),
        Term("young-people", "Young people", "Activities and support for young people", CATEGORY_TAXONOMY),
        Term("food", "Food", "Food pantries, shared meals and food deliveries", CATEGORY_TAXONOMY),
        Term("transport", "Transport", "Lifts to appointments, shopping and community transport", CATEGORY_TAXONOMY),
        Term("health", "Health and wellbeing", "Staying well in body and mind", CATEGORY_TAXONOMY),
        Term("befriending", "Isolation and befriending", "Company and friendship for people who are alone", CATEGORY_TAXONOMY),
        Term("practical", "Practical help", "Odd jobs, gardening, forms and paperwork", CATEGORY_TAXONOMY),
        Term("other", "Other", "Anything else neighbours do for each other", CATEGORY_TAXONOMY),
    )
}

AUDIENCES: dict[str, Term] = {
    term.slug: term
    for term in (
        Term("everyone", "Everyone", "Open to anyone", AUDIENCE_TAXONOMY),
        Term("older-people", "Older people", "People over 65", AUDIENCE_TAXONOMY),
        Term("adults", "Adults", "People aged 18 and over", AUDIENCE_TAXONOMY),
        Term("families", "Parents and families", "Parents, carers and their children", AUDIENCE_TAXONOMY),
        Term("children", "Children", "Children under 11", AUDIENCE_TAXONOMY),
        Term("young-people", "Young people", "Young people aged 11 to 25", AUDIENCE_TAXONOMY),
        Term("carers", "Carers", "People who look after someone", AUDIENCE_TAXONOMY),
        Term("disabled-people", "Disabled people", "Disabled people and people with long-term conditions", AUDIENCE_TAXONOMY),
    )
}


def category_choices() -> list[tuple[str, str]]:
    return [(term.slug, term.name) for term in CATEGORIES.values()]


def audience_choices() -> list[tuple[str, str]]:
    return [(term.slug, term.name) for term in AUDIENCES.values()]


def term_by_id(raw: str) -> Term | None:
    """The category or audience with this Open Referral taxonomy term id."""
    for term in (*CATEGORIES.values(), *AUDIENCES.values()):
        if str(term.id) == raw:
            return term
    return None
