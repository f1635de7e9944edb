"""The deterministic naming rule for QBO DisplayName (customers) and Name (items).

QBO refuses ':' (it separates levels in FullyQualifiedName), tabs and newlines, and wants
the name unique: a customer's DisplayName across customers, vendors and employees, active
or not; an item's Name across items. The rule, applied the same way every time:

1. Clean: every run of spaces around a ':' becomes ' - ' ('O'Brien: "Fish & Chips"' ->
   'O'Brien - "Fish & Chips"'); tabs, newlines and repeated spaces become one space;
   leading and trailing spaces go. Quotes, ampersands and other characters are kept.
2. Shorten to the limit (500 for DisplayName, 100 for item Name).
3. If QBO holds the clean name for another record that is not ours to take (a vendor, an
   employee, an inactive customer, an item with another SKU), the record is pushed as
   '<clean name> (<reference>)', the reference being the Odoo internal reference when
   set, else 'Odoo <id>'; the name is shortened so that the suffix always fits.
"""
import re

_COLON = re.compile(r"\s*:\s*")
_SPACES = re.compile(r"\s+")


def clean_name(name, limit):
    text = _COLON.sub(" - ", name or "")
    text = _SPACES.sub(" ", text).strip()
    return text[:limit].rstrip()


def suffixed_name(name, reference, limit):
    suffix = f" ({clean_name(reference, 60)})"
    return clean_name(name, limit - len(suffix)) + suffix


DELETED_SUFFIX = " (deleted)"


def held_name(row, field="DisplayName"):
    """The name a QBO record holds: QBO answers an inactive customer, vendor, employee or account
    with ' (deleted)' after its DisplayName / Name, and the plain name stays taken."""
    name = row.get(field) or ""
    if row.get("Active") is False and name.endswith(DELETED_SUFFIX):
        return name[:-len(DELETED_SUFFIX)]
    return name
