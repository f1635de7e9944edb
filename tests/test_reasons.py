"""Reasons in the reader's language (issue 21 point 5): a reason written by a cron worker,
which has no language, is stored as its sentence and parameters and read in French by a fr_CA
bookkeeper, in English by an English reader: the record's error, the job's and the link's
reason, the chatter note and QuickBooks' own errors."""
import html

from odoo.addons.mail.tools.discuss import Store
from odoo.tests import new_test_user, tagged

from ..models.qbo_reason import _lt, join_reasons, qbo_error_reason, reason_json, reason_text
from ..qbo import DuplicateNameError
from .test_sync_customers import QboSyncCase


@tagged("post_install", "-at_install")
class TestReasonsInTheReadersLanguage(QboSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_CA")
        cls.env["ir.module.module"].search([("name", "=", "qbo_financial_hub")])._update_translations(
            ["fr_CA"], overwrite=True)

    def setUp(self):
        super().setUp()
        self.bookkeeper = new_test_user(self.env, login="qbo_fr_bookkeeper", lang="fr_CA",
                                        groups="base.group_user,base.group_partner_manager,"
                                               "qbo_financial_hub.group_qbo_user,account.group_account_invoice")

    def test_worker_reason_reads_in_french_and_in_english(self):
        partner = self.Partner.create({"name": "Bad Email Shop", "is_company": True,
                                       "email": "ap@bad.example\nx", "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_state, "error")
        english = partner.with_context(lang="en_US").qbo_error
        self.assertIn("holds a line break or a tab: QuickBooks accepts none", english)
        french = partner.with_user(self.bookkeeper).with_context(lang="fr_CA")
        self.assertIn("contient un saut de ligne ou une tabulation : QuickBooks n'en accepte aucun", french.qbo_error)
        self.assertNotIn("line break", french.qbo_error)
        self.assertIn("ap@bad.example", french.qbo_error, "the parameters are kept as they were")
        # the job and the link: the English text stays for logs; the reason reads in French
        job = self.env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertIn("holds a line break", job.error_message)
        self.assertIn("saut de ligne", job.with_context(lang="fr_CA").error_text)
        self.assertIn("holds a line break", job.with_context(lang="en_US").error_text)
        link = self.env["qbo.link"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertIn("saut de ligne", link.with_context(lang="fr_CA").error_text)
        # the chatter note: the body keeps the English text, the chatter shows the reader's language
        note = partner.message_ids.filtered("qbo_reason")[:1]
        self.assertTrue(note, "the failure note carries its reason")
        self.assertIn("QuickBooks push failed", note.body)
        for lang, expected, absent in (("fr_CA", "Échec de l'envoi à QuickBooks (pre-flight) : Le courriel", "push failed"),
                                       ("en_US", "QuickBooks push failed (pre-flight): The email", "saut de ligne")):
            store = Store()
            note.with_user(self.bookkeeper).with_context(lang=lang)._to_store(store)
            body = html.unescape(str(store.get_result()["mail.message"][0]["body"]))
            self.assertIn(expected, body)
            self.assertNotIn(absent, body)

    def test_quickbooks_error_keeps_its_words_and_translates_the_advice(self):
        error = DuplicateNameError("Duplicate Name Exists Error", code="6240",
                                   detail="The name supplied already exists. : Another customer")
        reason = qbo_error_reason(error)
        self.assertEqual(reason, error.user_message(), "the English text is the client's own")
        french = reason_text(reason_json(reason), "fr_CA")
        self.assertIn("The name supplied already exists", french, "QuickBooks' own words are shown as they came")
        self.assertNotIn("use a different name", french)
        self.assertIn("6240", french)

    def test_nested_and_joined_reasons_keep_every_part(self):
        inner = _lt("The customer has no name.")
        outer = _lt("QuickBooks push failed (%(code)s): %(message)s", code="pre-flight",
                    message=join_reasons([inner, "plain text of QuickBooks"]))
        self.assertEqual(outer, "QuickBooks push failed (pre-flight): The customer has no name.\nplain text of QuickBooks")
        stored = reason_json(outer)
        french = reason_text(stored, "fr_CA")
        self.assertNotIn("has no name", french)
        self.assertIn("plain text of QuickBooks", french)
        self.assertEqual(reason_text(stored, "en_US"), outer)
