"""Reading what officers and residents type: whole numbers, amounts of money, local times."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from civic.counting import Number, exact

LONDON = ZoneInfo("Europe/London")
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


class Unreadable(ValueError):
    """The text is not what the field asks for; the message says what to type."""


def whole_number(raw: str, *, label: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number typed into a form, like '40' (not '4.5', '-1' when minimum is 0, or 'ten')."""
    text = (raw or "").strip().replace(",", "")
    if not text:
        raise Unreadable(f"Enter {label}")
    if not re.fullmatch(r"[+-]?\d+", text):
        if re.fullmatch(r"[+-]?\d*\.\d+", text):
            raise Unreadable(f"{label[0].upper()}{label[1:]} must be a whole number, like 5")
        raise Unreadable(f"{label[0].upper()}{label[1:]} must be a number, like 5")
    value = int(text)
    if minimum is not None and value < minimum:
        raise Unreadable(f"{label[0].upper()}{label[1:]} must be {minimum} or more")
    if maximum is not None and value > maximum:
        raise Unreadable(f"{label[0].upper()}{label[1:]} must be {maximum} or fewer")
    return value


# A round's budget and a priority's cost are DecimalField(max_digits=16, decimal_places=2): below this.
MONEY_LIMIT = Decimal("100000000000000")
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def money(raw: str, *, label: str) -> Decimal:
    """An amount like '£1,250,000' or '99.50'; never negative, at most pence, and small enough to store."""
    text = re.sub(r"[£€$,\s]", "", raw or "")
    if not text:
        raise Unreadable(f"Enter {label}")
    # Digits and a point only: Decimal would also read '1e999', 'Infinity' and 'NaN'.
    if not _AMOUNT.fullmatch(text):
        raise Unreadable(f"Enter {label} in pounds, like 250000 or 99.50")
    value = Decimal(text)
    if value < 0:
        raise Unreadable(f"{label[0].upper()}{label[1:]} must be £0 or more")
    # Before rounding to pence: quantize refuses a number with more digits than Decimal's precision.
    if value >= MONEY_LIMIT:
        raise Unreadable(f"{label[0].upper()}{label[1:]} must be less than {format_money(MONEY_LIMIT)}")
    if value != value.quantize(Decimal("0.01")):
        raise Unreadable(f"{label[0].upper()}{label[1:]} can have at most two decimal places (pence)")
    return value.quantize(Decimal("0.01"))


def local_time(raw: str, *, label: str) -> datetime:
    """A date and time typed in UK time ('2026-05-01T09:00' from a datetime-local field), in UTC."""
    text = (raw or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            naive = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=LONDON).astimezone(ZoneInfo("UTC"))
    raise Unreadable(f"Enter {label} as a date and time, like 2026-05-01 09:00")


def datetime_local_value(moment: datetime | None) -> str:
    """The value a datetime-local field shows for a stored time."""
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M") if moment else ""


def when(moment: datetime | None) -> str:
    """'Friday 1 May 2026 at 9:00am', in UK time."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    hour = local.strftime("%I").lstrip("0")
    suffix = local.strftime("%p").lower()
    return f"{local:%A} {local.day} {local:%B %Y} at {hour}:{local.minute:02d}{suffix}"


def format_money(amount: Number | Decimal | str | None, currency: str = "GBP") -> str:
    """'£1,250,000' or '£99.50'; other currencies as '1,250,000 PLN'."""
    if amount is None:
        return ""
    if isinstance(amount, Fraction):
        value = Decimal(amount.numerator) / Decimal(amount.denominator)
    else:
        value = Decimal(str(amount))
    whole = value == value.to_integral_value()
    text = f"{value:,.0f}" if whole else f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def as_number(value: Decimal | None) -> Number | None:
    """A stored amount as the counting engine's exact number."""
    return None if value is None else exact(value)
