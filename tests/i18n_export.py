"""The addon's .pot as Odoo exports it (``odoo-bin --i18n-export=... --modules=qbo_financial_hub``),
whatever the checkout: used by scripts/export_pot.py to write i18n/qbo_financial_hub.pot and by
tests/test_i18n.py to prove the committed .pot is not stale.

Odoo's exporter walks its addons paths following links. The scripts and the tests reach the addon
through the link ``.run/addons/qbo_financial_hub``, and the addon directory holds that link again
(and, in the main checkout, ``.venv`` full of third-party Python): the walk would come back through
it level after level, giving doubled references (``code:addons/qbo_financial_hub/.run/addons/...``)
and strings that are not the addon's. Hidden directories hold no part of an addon (a clean
checkout has none): they are left out of the walk, and the export is the one of a clean checkout.
"""
import contextlib
import io
import os
from unittest import mock

from odoo import SUPERUSER_ID, api, release
from odoo.tools.translate import trans_export

MODULE = "qbo_financial_hub"


@contextlib.contextmanager
def _hidden_directories_skipped():
    walk = os.walk

    def pruned_walk(top, *args, **kwargs):
        for root, dirs, files in walk(top, *args, **kwargs):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            yield root, dirs, files

    with mock.patch("os.walk", pruned_walk):
        yield


def export_pot(cr):
    """The .pot of the addon installed in `cr`'s database, as bytes (Odoo's own trans_export)."""
    buffer = io.BytesIO()
    with _hidden_directories_skipped():
        # Odoo 18 exports from a cursor, 19 from an environment
        source = cr if release.version_info[0] < 19 else api.Environment(cr, SUPERUSER_ID, {})
        trans_export(None, [MODULE], buffer, "po", source)
    return buffer.getvalue()
