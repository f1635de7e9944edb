import logging
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ADDON = Path(__file__).resolve().parent.parent


@tagged("post_install", "-at_install")
class TestFrenchCanada(TransactionCase):
    """The fr_CA translation (Quebec's Charter of the French language): every string of the
    .pot translated, loaded without a warning, and the interface then speaks French."""

    def test_complete_and_loads_without_warnings(self):
        import polib
        pot = polib.pofile(str(ADDON / "i18n" / "qbo_financial_hub.pot"))
        po = polib.pofile(str(ADDON / "i18n" / "fr_CA.po"))
        translated = {entry.msgid for entry in po if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags}
        missing = [entry.msgid for entry in pot if entry.msgid and entry.msgid not in translated]
        self.assertFalse(missing, "strings of the .pot without a French translation")
        for entry in po:
            for placeholder in ("%(", "{"):
                self.assertEqual(entry.msgid.count(placeholder), entry.msgstr.count(placeholder), entry.msgid)
        self.env["res.lang"]._activate_lang("fr_CA")
        with self.assertNoLogs("odoo.tools.translate", level=logging.WARNING):
            # what installing the language does (and QBO_DEMO_LANG=fr_CA make demo)
            self.env["ir.module.module"].search([("name", "=", "qbo_financial_hub")])._update_translations(
                ["fr_CA"], overwrite=True)
        self.env.invalidate_all()
        env = self.env(context=dict(self.env.context, lang="fr_CA"))
        self.assertEqual(env._("Only QuickBooks users can push records to QuickBooks."),
                         "Seuls les utilisateurs QuickBooks peuvent envoyer des enregistrements à QuickBooks.")
        menu = env.ref("qbo_financial_hub.qbo_job_menu")
        self.assertEqual(menu.name, "Historique de synchronisation")
        states = dict(env["res.partner"]._fields["qbo_state"]._description_selection(env))
        self.assertEqual(states["synced"], "Synchronisé")
