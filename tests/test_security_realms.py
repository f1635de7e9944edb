"""A QuickBooks company (realm) belongs to one Odoo company: the constraint, the OAuth callback,
a branch, and the webhook route that delivers a realm's events to exactly one company."""
import json
import logging

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..models.qbo_inbound import intuit_signature
from .common import QboTransactionCase

_logger = logging.getLogger(__name__)
VERIFIER = "one-intuit-app-verifier"


def delivery(realm, entity="Customer", entity_id="1", operation="Update", deleted_id=None, uid="ev"):
    data = {"deletedid": deleted_id} if deleted_id else {}
    return json.dumps([{"specversion": "1.0", "id": f"{uid}-{realm}-{entity_id}", "source": "intuit.test",
                        "type": f"qbo.{entity.lower()}.{operation.lower()}d", "intuitaccountid": realm,
                        "intuitentityid": entity_id, "time": "2026-01-01T00:00:00Z", "data": data}]).encode()


@tagged("post_install", "-at_install", "qbo_security")
class TestRealmBelongsToOneCompany(QboTransactionCase):

    def setUp(self):
        super().setUp()
        self.company_a = self.qbo_configure(self.env.company, self.US_REALM)
        self.company_b = self.env["res.company"].create({"name": "Realm B Ltd"})
        self.qbo_configure(self.company_b, self.CA_REALM)
        (self.company_a | self.company_b).sudo().write({"qbo_webhook_verifier": VERIFIER})
        self.system_b = new_test_user(self.env, login="realm_system_b", groups="base.group_user,base.group_system",
                                      company_id=self.company_b.id, company_ids=[(6, 0, [self.company_b.id])])
        self.Event = self.env["qbo.webhook.event"]

    def events_of(self, company):
        return self.Event.search([("company_id", "=", company.id)])

    def test_a_realm_is_refused_to_a_second_company_with_a_readable_message(self):
        with self.assertRaises(ValidationError) as caught:
            self.company_b.sudo().write({"qbo_realm_id": self.US_REALM})
        message = str(caught.exception)
        self.assertIn(f"QuickBooks company {self.US_REALM} is already connected to", message)
        self.assertIn(self.company_a.name, message, "a superuser may see which company holds it")
        # a system administrator of B alone is not told the name of a company they cannot see
        with self.assertRaises(ValidationError) as caught:
            self.company_b.with_user(self.system_b).write({"qbo_realm_id": self.US_REALM})
        self.assertIn("another company of this database", str(caught.exception))
        self.assertNotIn(self.company_a.name, str(caught.exception))
        # the same for a company created with it
        with self.assertRaises(ValidationError):
            self.env["res.company"].create({"name": "Realm C Ltd", "qbo_realm_id": self.CA_REALM})
        # a realm freed by its company can be taken
        self.company_b.sudo().write({"qbo_realm_id": False})
        self.company_b.sudo().write({"qbo_realm_id": self.US2_REALM})

    def test_the_database_refuses_a_second_holder_too(self):
        """Two transactions giving one realm at once both pass the constraint's search: the unique
        index refuses the second."""
        self.env.flush_all()
        with self.assertRaises(Exception) as caught, self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
            self.env.cr.execute("UPDATE res_company SET qbo_realm_id = %s WHERE id = %s",
                                [self.US_REALM, self.company_b.id])
        self.assertIn("res_company_qbo_realm_unique", str(caught.exception))

    def test_a_branch_connects_to_a_realm_of_its_own(self):
        branch = self.env["res.company"].create({"name": "Realm A Branch", "parent_id": self.company_a.id})
        with self.assertRaises(ValidationError) as caught:
            branch.sudo().write({"qbo_realm_id": self.US_REALM})
        self.assertIn("a branch too", str(caught.exception))
        self.qbo_configure(branch, self.US2_REALM)
        branch.sudo().qbo_webhook_verifier = VERIFIER
        self.assertEqual(branch.qbo_realm_id, self.US2_REALM)
        self.assertEqual(self.company_a.qbo_realm_id, self.US_REALM, "the parent keeps its own")
        # its events go to the branch only
        for company, realm in ((self.company_a, self.US_REALM), (branch, self.US2_REALM)):
            body = delivery(realm, uid=f"branch-{company.id}")
            status, result = self.Event._qbo_receive(body, intuit_signature(VERIFIER, body))
            self.assertEqual((status, result["accepted"]), (200, 1))
        self.assertEqual(self.events_of(branch).mapped("realm"), [self.US2_REALM])
        self.assertEqual(self.events_of(self.company_a).mapped("realm"), [self.US_REALM])

    def test_oauth_callback_refuses_a_realm_held_elsewhere_before_any_token(self):
        tokens_before = self.sim.counters().get("token", 0)
        with self.assertRaises(UserError) as caught:
            self.company_b._qbo_connect_with_code("code-for-a-realm", self.US_REALM)
        self.assertIn("already connected to", str(caught.exception))
        self.assertEqual(self.sim.counters().get("token", 0), tokens_before, "no code exchanged, no token obtained")
        self.assertEqual(self.company_b.qbo_realm_id, self.CA_REALM)

    def test_oauth_callback_refuses_another_realm_for_linked_records(self):
        partner = self.env["res.partner"].create({"name": "Linked Realm Customer", "is_company": True})
        self.env["qbo.link"].sudo().create({"company_id": self.company_b.id, "res_model": "res.partner",
                                            "res_id": partner.id, "qbo_id": "58", "state": "synced"})
        tokens_before = self.sim.counters().get("token", 0)
        with self.assertRaises(UserError) as caught:
            self.company_b._qbo_connect_with_code("code-for-another-realm", self.CA2_REALM)
        self.assertIn(f"linked to QuickBooks company {self.CA_REALM}", str(caught.exception))
        self.assertEqual(self.sim.counters().get("token", 0), tokens_before)

    def test_webhook_delivers_a_realm_to_its_one_company(self):
        """With one Intuit app (one verifier for every company), each realm's events go to the
        company that holds it and nowhere else."""
        body = delivery(self.US_REALM, "Customer", "1", "Merge", deleted_id="2", uid="merge")
        status, result = self.Event._qbo_receive(body, intuit_signature(VERIFIER, body))
        self.assertEqual((status, result["accepted"], result["ignored"]), (200, 1, 0))
        self.assertEqual(len(self.events_of(self.company_a)), 1)
        self.assertFalse(self.events_of(self.company_b), "company B receives nothing of A's realm")
        body = delivery(self.CA_REALM, uid="b")
        self.Event._qbo_receive(body, intuit_signature(VERIFIER, body))
        self.assertEqual(self.events_of(self.company_b).mapped("realm"), [self.CA_REALM])
        # a realm nobody here holds is ignored
        body = delivery("4620816365999999999", uid="none")
        status, result = self.Event._qbo_receive(body, intuit_signature(VERIFIER, body))
        self.assertEqual((status, result["accepted"], result["ignored"]), (200, 0, 1))

    def test_a_realm_held_twice_by_an_old_database_goes_to_neither(self):
        """A database from before the rule may hold a realm twice: its events are delivered to
        neither company (and the log says why), never to the last one found."""
        self.env.flush_all()
        self.env.cr.execute("DROP INDEX res_company_qbo_realm_unique")   # rolled back with the test
        self.env.cr.execute("UPDATE res_company SET qbo_realm_id = %s WHERE id = %s", [self.US_REALM, self.company_b.id])
        self.env.invalidate_all()
        body = delivery(self.US_REALM, uid="twice")
        with self.assertLogs("odoo.addons.qbo_financial_hub.models.qbo_inbound", "WARNING") as logs:
            status, result = self.Event._qbo_receive(body, intuit_signature(VERIFIER, body))
        self.assertEqual((status, result["accepted"], result["ignored"]), (200, 0, 1))
        self.assertIn("is held by companies", "\n".join(logs.output))
        self.assertFalse(self.events_of(self.company_a) | self.events_of(self.company_b))
