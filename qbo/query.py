"""Safe building blocks for QBO's query language.

QBO strings sit in single quotes and a quote inside is escaped with a
backslash (``'Bob\\'s'``). QBO documents no escape for the backslash itself;
we double it (``\\`` -> ``\\\\``) so that a trailing backslash can never escape
the closing quote and let the rest of a value through as query text. The
backslash is escaped FIRST, then the quote.

``%`` needs no escaping with ``=``; with ``LIKE`` it is the wildcard and QBO
offers no way to match a literal ``%`` (the caller must use ``=`` for that).
"""
import datetime
import decimal
import re

_ENTITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def quote(value):
    """Render ``value`` as a QBO query literal.

    str (and anything else, via ``str()``) -> quoted and escaped; bool ->
    ``true``/``false``; date/datetime -> quoted ISO 8601; None -> ValueError
    (QBO has no NULL literal).
    """
    if value is None:
        raise ValueError("QBO queries have no NULL literal")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        value = value.isoformat()
    elif isinstance(value, (int, float, decimal.Decimal)):
        value = str(value)
    text = str(value)
    if any(ch in text for ch in "\r\n\x00"):
        raise ValueError("QBO query values cannot contain newlines or NUL characters")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def in_list(values):
    """``['a', 'b']`` -> ``"('a', 'b')"`` for ``WHERE Id IN ...``. Empty -> ValueError."""
    values = list(values)
    if not values:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(quote(v) for v in values) + ")"


def check_entity(entity):
    """Entity names go into URLs and queries unquoted: allow letters and digits only."""
    if not isinstance(entity, str) or not _ENTITY_RE.match(entity):
        raise ValueError("invalid QBO entity name: %r" % (entity,))
    return entity


def select(entity, where=None, select="*", order_by=None, start=None, max_results=None):
    """Build ``SELECT .. FROM entity [WHERE ..] [ORDERBY ..] [STARTPOSITION n] [MAXRESULTS n]``.

    ``where`` is query text (build values with :func:`quote` / :func:`in_list`).
    """
    sql = "SELECT %s FROM %s" % (select, check_entity(entity))
    if where:
        sql += " WHERE " + where
    if order_by:
        sql += " ORDERBY " + order_by
    if start is not None:
        sql += " STARTPOSITION %d" % int(start)
    if max_results is not None:
        sql += " MAXRESULTS %d" % int(max_results)
    return sql
