"""A council's own settings, changed by its administrators: name, branding, and where urgent things go.

The duty address gets the alerts nobody must miss (a concern past its time, a referral that never
reached its team); the children's front-door number is on the concern start page beside 999. A council
made by `civic council create` has neither until an administrator sets them here. The council's own
phone number, email address and contact page are shown wherever a page tells residents to contact it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from civic import audit
from civic.accounts import User, normalise_email, require_role
from civic.councils import HEX_COLOUR, Council
from civic.db import in_transaction
from civic.errors import Invalid

FIELDS = (
    "name", "logo_url", "brand_colour", "emergency_phone", "childrens_front_door_phone", "duty_email",
    "contact_phone", "contact_email", "contact_url",
)
FIELD_NAMES = {
    "name": "name",
    "logo_url": "logo address",
    "brand_colour": "colour",
    "emergency_phone": "emergency number",
    "childrens_front_door_phone": "children's front-door number",
    "duty_email": "duty address",
    "contact_phone": "phone number for residents",
    "contact_email": "email address for residents",
    "contact_url": "contact page",
}
# A telephone number as people write them: digits, spaces, a leading +, brackets and hyphens.
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{1,28}")
# White text sits on the council's colour (the header, buttons): WCAG AA asks 4.5:1 for text.
MINIMUM_CONTRAST = 4.5


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of white on a colour given as #rrggbb."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def _a_page(address: str) -> bool:
    """An https address of at most 500 characters, with no spaces: a logo or a contact page."""
    return address.startswith("https://") and len(address) <= 500 and not any(c.isspace() for c in address)


def check(raw: Mapping[str, str]) -> dict[str, str]:
    """The settings as they will be stored; Invalid with a message by every field that is wrong."""
    values = {name: (raw.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter the council's name"
    elif len(values["name"]) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if values["logo_url"] and not _a_page(values["logo_url"]):
        errors["logo_url"] = "Enter the logo's address starting https://, or leave it blank"
    colour = values["brand_colour"].lower()
    if not HEX_COLOUR.match(colour):
        errors["brand_colour"] = "Enter a colour as # and six hex digits, like #1d70b8"
    elif contrast_with_white(colour) < MINIMUM_CONTRAST:
        errors["brand_colour"] = (
            f"White text on {colour} is hard to read (contrast {contrast_with_white(colour):.1f} to 1; it needs "
            f"{MINIMUM_CONTRAST:g} to 1). Choose a darker colour"
        )
    values["brand_colour"] = colour
    if not PHONE.fullmatch(values["emergency_phone"]):
        errors["emergency_phone"] = "Enter the emergency number, like 999"
    for name in ("childrens_front_door_phone", "contact_phone"):
        if values[name] and not PHONE.fullmatch(values[name]):
            errors[name] = "Enter a telephone number, like 01632 960 000, or leave it blank"
    for name, what, like in (("duty_email", "the duty address", "duty@council.example"), ("contact_email", "the email address", "contact@council.example")):
        if values[name]:
            try:
                values[name] = normalise_email(values[name])
            except Invalid:
                errors[name] = f"Enter {what} in the correct format, like {like}, or leave it blank"
    if values["contact_url"] and not _a_page(values["contact_url"]):
        errors["contact_url"] = "Enter the contact page's address starting https://, or leave it blank"
    if errors:
        raise Invalid(errors)
    return values


async def change(actor: User | None, council: Council, raw: Mapping[str, str]) -> list[str]:
    """An administrator changes the council's settings; audited by the names of what changed. Returns those names."""
    await require_role(actor, council, "admin")
    values = check(raw)
    async with in_transaction():
        fresh = await Council.select_for_update().get(id=council.id)
        changed = [name for name in FIELDS if getattr(fresh, name) != values[name]]
        if changed:
            await Council.filter(id=council.id).update(**{name: values[name] for name in changed})
            await audit.record(actor, "council.settings_changed", council, council=council, reason="changed " + ", ".join(FIELD_NAMES[n] for n in changed))
            if "duty_email" in changed and values["duty_email"] and not fresh.duty_email:
                # Concerns that went past their time while nobody could be told are told now, at the
                # worker's next run, rather than never.
                from civic.concerns import escalation

                await escalation.rearm_untold(council)
    return [FIELD_NAMES[n] for n in changed]


async def current(actor: User | None, council: Council) -> dict[str, str]:
    """The settings as they are, for an administrator's form."""
    await require_role(actor, council, "admin")
    # Read again: each process keeps the council it serves for a few seconds, and a change just saved
    # must show on this form at once.
    fresh = await Council.get(id=council.id)
    return {name: getattr(fresh, name) or "" for name in FIELDS}
