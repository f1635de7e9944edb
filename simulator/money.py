"""Decimal helpers: QBO rounds money half-up to cents."""
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from .errors import QBOError

CENT = Decimal("0.01")
ZERO = Decimal(0)


def num(value, element=None):
    """Parse a JSON number or numeric string; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise QBOError("2010", "Invalid number %r for %s" % (value, element), element)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise QBOError("2010", "Invalid number %r for %s" % (value, element), element) from None


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def out(value):
    """Decimal to a JSON number (int when whole, like QBO's 100 or 100.5)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)
