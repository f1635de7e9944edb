"""Query quoting and building."""
import datetime

import pytest

from qbo import in_list, quote, select


def test_quote():
    assert quote("O'Brien") == "'O\\'Brien'"
    assert quote("50% off") == "'50% off'"
    assert quote("back\\slash") == "'back\\\\slash'"
    assert quote("trail\\") == "'trail\\\\'"          # cannot escape the closing quote
    assert quote("\\'") == "'\\\\\\''"
    assert quote(42) == "'42'"
    assert quote(True) == "true" and quote(False) == "false"
    assert quote(datetime.date(2024, 1, 31)) == "'2024-01-31'"
    for bad in (None, "a\nb"):
        with pytest.raises(ValueError):
            quote(bad)


def test_in_list():
    assert in_list(["a", "b"]) == "('a', 'b')"
    assert in_list(("O'B", 3)) == "('O\\'B', '3')"
    with pytest.raises(ValueError):
        in_list([])


def test_select():
    assert select("Customer") == "SELECT * FROM Customer"
    assert select("Item", where="Name = 'x'", select="*, Sku", order_by="Id", start=1,
                  max_results=1000) == \
        "SELECT *, Sku FROM Item WHERE Name = 'x' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000"
    with pytest.raises(ValueError):
        select("Customer; drop")
