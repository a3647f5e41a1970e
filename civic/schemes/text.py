"""Cleaning what people type: kept exactly as written, minus invisible control characters."""

from __future__ import annotations

import re
import unicodedata

# Control characters other than tab and newline: invisible, and PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Letters NFKD does not split into a base letter and an accent.
_LATIN = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"})
# Quotation marks phones type for the plain ones (iOS does by default), so "Anne’s" finds "Anne's".
_QUOTES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "“": '"', "”": '"'})
PHONE = re.compile(r"^\+?[0-9 ()\-]{10,20}$")


def typable(raw: str) -> str:
    """The text without characters no one types: NUL (which PostgreSQL refuses in text), the other
    control characters but tab and line breaks, and DEL."""
    return _CONTROL.sub("", raw)


def one_line(raw: str | None) -> str:
    """A name or title: whitespace (newlines too) collapsed to single spaces."""
    return " ".join(typable(raw or "").split())


def paragraphs(raw: str | None) -> str:
    """Longer text: line breaks kept (as \\n), control characters and outer whitespace dropped."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n")
    return typable(text).strip()


def slugify(name: str, max_length: int = 60) -> str:
    """'Cwtch Cymunedol – Llŷn' -> 'cwtch-cymunedol-llyn'; '' for a name with no letters or digits."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_LATIN)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def searchable(text: str) -> str:
    """Text as the directory's search compares it: 'Crèche CAFÉ, Łódź' -> 'creche cafe, lodz'.

    Accents are dropped (NFKD splits a letter from its marks), capitals folded (ß too, to ss), letters
    NFKD leaves whole made plain as in slugs, and curly quotation marks made straight. Letters of other
    scripts stay; their combining marks go too, which only ever finds more, never less.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN).translate(_QUOTES).casefold())
    # Folded again: a compatibility character can come apart into capitals ('㎒' is 'MHz').
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def number_up_to(raw: str | None, largest: int) -> int | None:
    """A whole number typed in ASCII digits, like '12'; None for anything else ('²', '1.5') or above largest."""
    text = (raw or "").strip()
    # Checked by length first: int() of thousands of digits is slow, then refused (a 500).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(largest)):
        return None
    value = int(text)
    return value if value <= largest else None


def valid_phone(raw: str) -> bool:
    digits = sum(ch.isdigit() for ch in raw)
    return bool(PHONE.match(raw)) and 10 <= digits <= 13
