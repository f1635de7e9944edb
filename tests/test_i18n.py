import logging
import re
from pathlib import Path

from odoo.tests import TransactionCase, tagged

from .i18n_export import export_pot

ADDON = Path(__file__).resolve().parent.parent
POT = ADDON / "i18n" / "qbo_financial_hub.pot"
FR_CA = ADDON / "i18n" / "fr_CA.po"
REGENERATE = "regenerate with `python scripts/export_pot.py --po` and translate the new strings in i18n/fr_CA.po"
# what Python's %-formatting, Odoo's _(..., name=...) and str.format read in a string
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%%|%[-#0+]*\d*(?:\.\d+)?[sdrfi]|\{[^{}]*\}")
# what Odoo writes in a .pot: a file of the addon or a record of it
# (no hidden directory: not through the test runner's link .run/addons/qbo_financial_hub)
REFERENCE = re.compile(r"^(?:code:addons/qbo_financial_hub/(?:[\w-]+/)*[\w-]+\.(?:py|js|xml)"
                       r"|model(?:_terms)?:[\w.]+,\w+:qbo_financial_hub\.\w+)$")


@tagged("post_install", "-at_install")
class TestFrenchCanada(TransactionCase):
    """The fr_CA translation (Quebec's Charter of the French language): the committed .pot is the
    one Odoo exports from the code, every string of it is translated with its placeholders, the
    translation loads without a warning, and the interface then speaks French."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import polib
        cls.pot = polib.pofile(str(POT))
        cls.po = polib.pofile(str(FR_CA))

    def test_pot_is_the_export_of_the_code(self):
        """A string added to (or removed from) the code, a view or a field fails here until the
        .pot is regenerated: a late string cannot slip out of the translation."""
        import polib
        exported = polib.pofile(export_pot(self.env.cr).decode())
        exported_ids = {entry.msgid for entry in exported if entry.msgid}
        committed_ids = {entry.msgid for entry in self.pot if entry.msgid and not entry.obsolete}
        self.assertGreater(len(exported_ids), 500, "the export found the addon's strings")
        self.assertEqual(sorted(exported_ids - committed_ids), [],
                         f"strings of the code missing from the committed .pot: {REGENERATE}")
        self.assertEqual(sorted(committed_ids - exported_ids), [],
                         f"strings of the committed .pot no longer in the code: {REGENERATE}")
        # references as Odoo's own .pot files carry them, not through the test runner's link
        references = {ref for entry in self.pot for ref, _line in entry.occurrences}
        self.assertTrue(references)
        self.assertEqual(sorted(ref for ref in references if not REFERENCE.match(ref)), [])
        self.assertEqual({ref for entry in exported for ref, _line in entry.occurrences}, references,
                         f"the .pot's references are not the export's: {REGENERATE}")

    def test_every_string_translated_with_its_placeholders(self):
        translations = {entry.msgid: entry for entry in self.po if not entry.obsolete}
        self.assertEqual(self.po.metadata.get("Language"), "fr_CA")
        missing, fuzzy, placeholders = [], [], []
        for entry in self.pot:
            if not entry.msgid:
                continue
            translation = translations.get(entry.msgid)
            if translation is None or not translation.msgstr.strip():
                missing.append(entry.msgid)
            elif "fuzzy" in translation.flags:
                fuzzy.append(entry.msgid)
            elif sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(translation.msgstr)):
                placeholders.append((entry.msgid, translation.msgstr))
        self.assertEqual(missing, [], f"strings of the .pot without a French translation: {REGENERATE}")
        self.assertEqual(fuzzy, [], "fuzzy French translations (Odoo does not load them)")
        self.assertEqual(placeholders, [], "French translations that do not keep their placeholders")

    def test_loads_without_warnings_and_speaks_french(self):
        self.env["res.lang"]._activate_lang("fr_CA")
        with self.assertNoLogs("odoo", level=logging.WARNING):
            # what installing the language does (and QBO_DEMO_LANG=fr_CA make demo)
            self.env["ir.module.module"].search([("name", "=", "qbo_financial_hub")])._update_translations(
                ["fr_CA"], overwrite=True)
            self.env.invalidate_all()
            env = self.env(context=dict(self.env.context, lang="fr_CA"))
            # a string of the code (through a name of its own: the test's strings are not exported
            # to the .pot), a menu, a selection, a field label, a view's text
            translate = env._
            self.assertEqual(translate("Only QuickBooks users can push records to QuickBooks."),
                             "Seuls les utilisateurs QuickBooks peuvent envoyer des enregistrements à QuickBooks.")
            self.assertEqual(translate("Only QuickBooks administrators can run a full comparison."),
                             "Seuls les administrateurs QuickBooks peuvent lancer une comparaison complète.")
            self.assertEqual(env.ref("qbo_financial_hub.qbo_job_menu").name, "Historique de synchronisation")
            states = dict(env["res.partner"]._fields["qbo_state"]._description_selection(env))
            self.assertEqual(states["synced"], "Synchronisé")
            field = env["ir.model.fields"]._get("res.company", "qbo_line_product_id")
            self.assertEqual(field.field_description, "Lignes sans produit")
            arch = env.ref("qbo_financial_hub.view_move_form_qbo_inbound").arch_db
            self.assertIn('string="Envoyer de nouveau à QuickBooks"', arch)
            self.assertIn("Les écritures d'Odoo sont inchangées.", arch)
