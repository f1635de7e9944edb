"""The addon's data where Odoo 18.0 and 19.0 name things differently (docs/odoo-series.md): one set
of XML files loads on both, and each series ends with the same rights and screens."""
from odoo import release
from odoo.tests import TransactionCase, tagged

SERIES = release.version_info[0]
# (server action, the group that may run it)
ACTIONS = [
    ("qbo_financial_hub.account_move_action_qbo_push", "qbo_financial_hub.group_qbo_user"),
    ("qbo_financial_hub.sale_order_action_qbo_push", "qbo_financial_hub.group_qbo_user"),
    ("qbo_financial_hub.res_partner_action_qbo_link", "qbo_financial_hub.group_qbo_user"),
    ("qbo_financial_hub.product_product_action_qbo_link", "qbo_financial_hub.group_qbo_user"),
    ("qbo_financial_hub.res_company_qbo_settings_action", "qbo_financial_hub.group_qbo_manager"),
]


@tagged("post_install", "-at_install")
class TestSeriesData(TransactionCase):

    def test_administrators_are_quickbooks_administrators(self):
        manager = self.env.ref("qbo_financial_hub.group_qbo_manager").with_context(active_test=False)  # root is inactive
        members = manager["user_ids" if SERIES >= 19 else "users"]
        for xmlid in ("base.user_root", "base.user_admin"):
            self.assertIn(self.env.ref(xmlid), members, f"{xmlid} is a QuickBooks administrator after install")
        user = self.env.ref("qbo_financial_hub.group_qbo_user")
        self.assertIn(user, manager.implied_ids)
        self.assertIn(self.env.ref("account.group_account_invoice"), user.implied_ids)

    def test_groups_are_one_choice_under_quickbooks_online(self):
        """The two groups show as one QuickBooks Online choice on the user form: under the category
        on 18, under a privilege of that category on 19."""
        category = self.env.ref("qbo_financial_hub.module_category_qbo")
        groups = self.env.ref("qbo_financial_hub.group_qbo_user") | self.env.ref("qbo_financial_hub.group_qbo_manager")
        if SERIES >= 19:
            self.assertEqual(groups.privilege_id.category_id, category)
            self.assertEqual(len(groups.privilege_id), 1)
        else:
            self.assertEqual(groups.category_id, category)

    def test_actions_offered_to_their_group_only(self):
        for action_xmlid, group_xmlid in ACTIONS:
            action = self.env.ref(action_xmlid)
            groups = action["group_ids" if SERIES >= 19 else "groups_id"]
            self.assertEqual(groups, self.env.ref(group_xmlid), action_xmlid)

    def test_account_form_shows_the_quickbooks_fields(self):
        """The account form's fields are placed after its tags (18's allowed journals are gone in 19)."""
        arch = self.env["account.account"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="qbo_account_ref_id"', arch)
        self.assertLess(arch.index('name="tag_ids"'), arch.index('name="qbo_account_ref_id"'))

    def test_manifest_version_is_series_less(self):
        """One manifest for both series: Odoo prefixes a series-less x.y.z with its own series."""
        module = self.env["ir.module.module"].search([("name", "=", "qbo_financial_hub")])
        self.assertTrue(module.latest_version.startswith(f"{release.major_version}."), module.latest_version)
