import contextlib
import threading
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import requests

from odoo import api
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from ..qbo import RevokedError
from ..simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .common import QboHttpCase, QboTransactionCase


class _FormParser(HTMLParser):
    """Reads the simulator's consent page: its form's action and inputs, as a browser would."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.realms = None, {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
        elif tag in ("input", "button", "option") and attrs.get("name") in ("realm_id", "realmId", "realm"):
            self.realms.append((attrs["name"], attrs.get("value")))
        elif tag == "option" and attrs.get("value"):
            self.realms.append((None, attrs.get("value")))
        elif tag == "input" and attrs.get("name") and attrs.get("type") in ("hidden", None):
            self.fields[attrs["name"]] = attrs.get("value", "")


@tagged("post_install", "-at_install")
class TestOAuthFlow(QboHttpCase):

    def setUp(self):
        super().setUp()
        self.company = self.env.company
        self.qbo_configure(self.company, connect=False)
        self.redirect_uri = self.company._qbo_redirect_uri()
        self.sim.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [self.redirect_uri])

    def _consent(self, realm):
        """Start the flow in Odoo, approve it on the simulator's page; return the callback URL."""
        self.authenticate("admin", "admin")
        _page, start = self.qbo_oauth_start(self.company.id)
        self.assertEqual(start.status_code, 303, start.text[:500])
        authorize_url = start.headers["Location"]
        self.assertTrue(authorize_url.startswith(self.sim.url), authorize_url)
        page = requests.get(authorize_url, timeout=10)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Sim US Company", page.text)
        form = _FormParser()
        form.feed(page.text)
        data = dict(form.fields)
        data[next(name for name, _v in form.realms if name) if any(n for n, _v in form.realms) else "realm_id"] = realm
        answer = requests.post(urljoin(authorize_url, form.action or ""), data=data, allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302, answer.text[:500])
        callback = answer.headers["Location"]
        self.assertTrue(callback.startswith(self.redirect_uri), callback)
        return callback

    def _callback(self, url):
        parsed = urlparse(url)
        return self.url_open(f"{parsed.path}?{parsed.query}", allow_redirects=False)

    def test_connect_end_to_end(self):
        callback = self._consent(self.US_REALM)
        query = parse_qs(urlparse(callback).query)
        self.assertEqual(query["realmId"], [self.US_REALM])
        answer = self._callback(callback)
        self.assertIn(answer.status_code, (302, 303), answer.text[:500])
        company = self.company.sudo()
        company.invalidate_recordset()
        self.assertEqual(company.qbo_state, "connected")
        self.assertEqual(company.qbo_realm_id, self.US_REALM)
        self.assertTrue(company.qbo_access_token and company.qbo_refresh_token)
        self.assertGreater(company.qbo_access_token_expires_at, datetime.utcnow() + timedelta(minutes=50))
        self.assertEqual(company.qbo_country, "US")
        self.assertIn("Sim US Company", company.qbo_company_name)
        # the stored token really works against QBO
        self.assertEqual(company._qbo_client().company_info()["Country"], "US")

    def test_start_is_a_post_with_csrf(self):
        """A link or a form of another site cannot start a connection in an administrator's name."""
        self.authenticate("admin", "admin")
        answer = self.url_open(f"/qbo/oauth/start?company_id={self.company.id}", allow_redirects=False)
        self.assertEqual(answer.status_code, 405, "a GET changes nothing")
        answer = self.url_open("/qbo/oauth/start", data={"company_id": self.company.id}, allow_redirects=False)
        self.assertEqual(answer.status_code, 400, "a POST without Odoo's CSRF token is refused")
        answer = self.url_open("/qbo/oauth/start", data={"company_id": self.company.id, "csrf_token": "forged"},
                               allow_redirects=False)
        self.assertEqual(answer.status_code, 400)
        self.company.invalidate_recordset()
        self.assertFalse(self.company.sudo().qbo_oauth_nonce, "no state was issued")
        page, start = self.qbo_oauth_start(self.company.id)
        self.assertEqual(page.status_code, 200)
        self.assertIn("method='post'", page.text)
        self.assertEqual(start.status_code, 303)
        self.company.invalidate_recordset()
        self.assertTrue(self.company.sudo().qbo_oauth_nonce)

    def test_tampered_state_refused(self):
        callback = self._consent(self.US_REALM)
        parsed = urlparse(callback)
        query = parse_qs(parsed.query)
        payload, signature = query["state"][0].rsplit(".", 1)
        forged = f"{payload}.{signature[:-2]}{'00' if signature[-2:] != '00' else '11'}"
        answer = self.url_open(f"{parsed.path}?code={query['code'][0]}&realmId={self.US_REALM}&state={forged}",
                               allow_redirects=False)
        self.assertEqual(answer.status_code, 403)
        self.assertIn("not issued by this database", answer.text)
        self.company.invalidate_recordset()
        self.assertFalse(self.company.sudo().qbo_access_token)

    def test_replayed_state_refused(self):
        callback = self._consent(self.US_REALM)
        self.assertIn(self._callback(callback).status_code, (302, 303))
        again = self._callback(callback)
        self.assertEqual(again.status_code, 403)
        self.assertIn("already used", again.text)

    def test_error_answer_from_intuit(self):
        self._consent(self.US_REALM)
        state = self.company.with_user(self.env.ref("base.user_admin"))._qbo_make_oauth_state()
        self.env.flush_all()
        answer = self.url_open(f"/qbo/oauth/callback?error=access_denied&state={state}", allow_redirects=False)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("access_denied", answer.text)
        self.assertFalse(self.company.sudo().qbo_access_token)

    def test_user_without_rights_refused(self):
        new_test_user(self.env, login="qbo_plain", password="qbo_plain_pw1", groups="base.group_user")
        self.authenticate("qbo_plain", "qbo_plain_pw1")
        page, start = self.qbo_oauth_start(self.company.id)
        self.assertEqual(page.status_code, 403)
        self.assertIn("Only QuickBooks administrators", page.text)
        self.assertIsNone(start)
        answer = self.url_open("/qbo/oauth/callback?code=x&state=y&realmId=1", allow_redirects=False)
        self.assertEqual(answer.status_code, 403)


@tagged("post_install", "-at_install")
class TestTokens(QboTransactionCase):

    def setUp(self):
        super().setUp()
        self.company = self.qbo_configure(self.env.company, self.US_REALM)

    def _expire_access_token(self):
        self.company.sudo().qbo_access_token_expires_at = datetime.utcnow() - timedelta(seconds=1)
        self.env.flush_all()
        self.sim.advance(3601)

    def test_refresh_rotation_persisted(self):
        company = self.company.sudo()
        old_access, old_refresh = company.qbo_access_token, company.qbo_refresh_token
        self._expire_access_token()
        info = company._qbo_client().company_info()
        self.assertEqual(info["Country"], "US")
        company.invalidate_recordset()
        self.assertNotEqual(company.qbo_access_token, old_access)
        self.assertNotEqual(company.qbo_refresh_token, old_refresh, "the rotated refresh token is stored")
        self.assertGreater(company.qbo_access_token_expires_at, datetime.utcnow() + timedelta(minutes=50))

    def test_refresh_on_401_then_retry(self):
        """A token QBO refuses before its recorded expiry is refreshed once and the call retried."""
        company = self.company.sudo()
        old_refresh = company.qbo_refresh_token
        self.sim.advance(3601)  # QBO considers it expired; Odoo still thinks it is valid
        self.assertEqual(company._qbo_client().company_info()["Country"], "US")
        company.invalidate_recordset()
        self.assertNotEqual(company.qbo_refresh_token, old_refresh)

    def test_concurrent_refreshes_keep_newest_token(self):
        company = self.company.sudo()
        stale = company.qbo_access_token
        self._expire_access_token()
        tokens_before = self.sim.counters().get("token", 0)
        results, errors = [], []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, self.env.uid, {})
                    results.append(env["res.company"].browse(company.id)._qbo_refresh_access_token(stale))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertFalse(errors)
        self.assertEqual(len(results), 2)
        self.assertEqual(results[0], results[1], "the second worker reuses the first one's token")
        self.assertEqual(self.sim.counters().get("token", 0) - tokens_before, 1, "QBO saw one refresh")
        company.invalidate_recordset()
        self.assertEqual(company.qbo_access_token, results[0])
        # the refresh token stored is the newest: it refreshes again
        self._expire_access_token()
        self.assertEqual(company._qbo_client().company_info()["Country"], "US")

    def test_revoked_token_needs_reconnect(self):
        self.sim.revoke_all(self.US_REALM)
        self._expire_access_token()
        # not self.assertRaises: Odoo's rolls the test back to before the block, and what
        # must be checked here is precisely what the failed refresh committed
        with contextlib.suppress(RevokedError):
            self.company._qbo_client().company_info()
            self.fail("a revoked connection must raise")
        company = self.company.sudo()
        company.invalidate_recordset()
        self.assertEqual(company.qbo_state, "reconnect")
        self.assertIn("connect to QuickBooks again", company.qbo_state_message)
        self.assertTrue(company.qbo_refresh_token, "the stored token is kept for diagnosis, not dropped")

    def test_test_connection_and_disconnect(self):
        action = self.company.action_qbo_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Sim US Company", action["params"]["message"])
        access = self.company.sudo().qbo_access_token
        self.company.action_qbo_disconnect()
        company = self.company.sudo()
        self.assertEqual(company.qbo_state, "disconnected")
        self.assertFalse(company.qbo_access_token or company.qbo_refresh_token)
        answer = requests.get(f"{self.sim.api_base}/company/{self.US_REALM}/companyinfo/{self.US_REALM}",
                              headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
                              timeout=10)
        self.assertEqual(answer.status_code, 401, "the revoked token no longer opens QBO")

    def test_plain_user_cannot_read_tokens(self):
        for index, groups in enumerate(("base.group_user", "qbo_financial_hub.group_qbo_user",
                                        "qbo_financial_hub.group_qbo_manager,account.group_account_manager")):
            user = new_test_user(self.env, login=f"qbo_reader_{index}", groups=groups)
            company = self.company.with_user(user)
            for field in ("qbo_access_token", "qbo_refresh_token", "qbo_client_secret"):
                with self.assertRaises(AccessError, msg=f"{groups} must not read {field}"):
                    company.read([field])
        admin = self.env.ref("base.user_admin")
        self.assertTrue(self.company.with_user(admin).read(["qbo_access_token"])[0]["qbo_access_token"])

    def test_neutralize_clears_secrets(self):
        self.env.flush_all()
        for query in get_neutralization_queries(["qbo_financial_hub"]):
            self.env.cr.execute(query)
        company = self.company.sudo()
        company.invalidate_recordset()
        self.assertFalse(company.qbo_enabled)
        self.assertFalse(company.qbo_access_token or company.qbo_refresh_token or company.qbo_client_secret)
        self.assertEqual(company.qbo_state, "disconnected")


@tagged("post_install", "-at_install")
class TestReferencesAndMapping(QboTransactionCase):

    def test_import_us_company_lists(self):
        company = self.qbo_configure(self.env.company, self.US_REALM)
        company.action_qbo_refresh_references()
        refs = self.env["qbo.reference"].search([("company_id", "=", company.id)])
        terms = refs.filtered(lambda r: r.kind == "term")
        self.assertTrue({"Due on receipt", "Net 15", "Net 30", "Net 60"} <= set(terms.mapped("name")))
        self.assertEqual(terms.filtered(lambda r: r.name == "Net 30").due_days, 30)
        accounts = refs.filtered(lambda r: r.kind == "account")
        self.assertIn("Income", accounts.mapped("account_type"))
        self.assertIn("Accounts Receivable", accounts.mapped("account_type"))
        taxcodes = refs.filtered(lambda r: r.kind == "taxcode")
        self.assertTrue(taxcodes)
        self.assertTrue(any(abs(rate - 8.25) < 1e-6 for rate in taxcodes.mapped("rate")), taxcodes.mapped("rate"))
        self.assertEqual(company.qbo_tax_model, "us")
        self.assertEqual(company.qbo_home_currency, "USD")

    def test_import_canadian_company_lists(self):
        company = self.qbo_configure(self.env.company, self.CA_REALM)
        company.action_qbo_refresh_references()
        taxcodes = self.env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", "taxcode")])
        rates = {r.name: r.rate for r in taxcodes}
        gst = [rate for name, rate in rates.items() if name.startswith("GST") and "PST" not in name]
        self.assertTrue(gst and abs(gst[0] - 5.0) < 1e-6, rates)
        self.assertEqual(company.qbo_country, "CA")
        self.assertEqual(company.qbo_tax_model, "global")
        self.assertEqual(company.qbo_home_currency, "CAD")

    def test_vanished_entries_archived_not_deleted(self):
        company = self.qbo_configure(self.env.company, self.US_REALM)
        ghost = self.env["qbo.reference"].create(
            {"company_id": company.id, "kind": "term", "qbo_id": "999999", "name": "Net 999"})
        company.action_qbo_refresh_references()
        self.assertTrue(ghost.exists())
        self.assertFalse(ghost.active)

    def test_two_companies_two_realms(self):
        us = self.qbo_configure(self.env.company, self.US_REALM)
        ca = self.qbo_configure(self.env["res.company"].create({"name": "QBO Canada Co"}), self.CA_REALM)
        us.action_qbo_refresh_references()
        ca.action_qbo_refresh_references()
        self.assertEqual((us.qbo_country, ca.qbo_country), ("US", "CA"))
        Ref = self.env["qbo.reference"].sudo()
        self.assertTrue(Ref.search_count([("company_id", "=", us.id)]))
        self.assertTrue(Ref.search_count([("company_id", "=", ca.id)]))

    def test_mapping_problems_listed_at_once(self):
        company = self.qbo_configure(self.env.company, self.CA_REALM)
        problems = company._qbo_mapping_problems()
        self.assertTrue(any("never imported" in p for p in problems), problems)
        company.action_qbo_refresh_references()
        tax = self.env["account.tax"].create({"name": "QBO test GST 5%", "amount": 5, "type_tax_use": "sale",
                                              "company_id": company.id})
        term = self.env["account.payment.term"].create({"name": "QBO test 45 days", "company_id": company.id})
        problems = company._qbo_mapping_problems()
        text = "\n".join(problems)
        self.assertIn("income account", text)
        self.assertIn("product tax 'default'", text)
        self.assertIn("customer tax treatment 'default'", text)
        self.assertIn("QBO test 45 days", text)
        self.assertIn("QBO test GST 5%", text)
        self.assertEqual(company.qbo_mapping_problems.count("•"), len(problems), "one message lists them all")
        # saving an incomplete mapping is allowed; completing it clears the messages
        Ref = self.env["qbo.reference"]
        gst = Ref.search([("company_id", "=", company.id), ("kind", "=", "taxcode"), ("rate", "=", 5.0)], limit=1)
        income = Ref.search([("company_id", "=", company.id), ("kind", "=", "account"), ("account_type", "=", "Income")], limit=1)
        net30 = Ref.search([("company_id", "=", company.id), ("kind", "=", "term"), ("name", "=", "Net 30")], limit=1)
        company.write({"qbo_income_account_id": income.id, "qbo_product_tax_default_id": gst.id,
                       "qbo_tax_default_id": gst.id})
        self.env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale")]).write(
            {"qbo_tax_code_ref_id": gst.id})
        self.env["account.payment.term"].with_company(company).search(
            [("company_id", "in", [False, company.id])]).write({"qbo_term_ref_id": net30.id})
        # per-line rounding is no problem any more (Odoo's tax is sent explicitly); this USD company
        # connected to the Canadian realm (home CAD, one currency) is
        company.tax_calculation_rounding_method = "round_per_line"
        remaining = company._qbo_mapping_problems()
        self.assertEqual(len(remaining), 1, remaining)
        self.assertIn("home currency CAD is not the company currency USD", remaining[0])
        self.assertTrue(term.with_company(company).qbo_term_ref_id)
        self.assertTrue(tax.qbo_tax_code_ref_id)

    def test_settings_page_shows_the_block(self):
        self.qbo_configure(self.env.company, self.US_REALM)
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.qbo_enabled)
        self.assertEqual(settings.qbo_state, "connected")
        arch = self.env["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn("qbo_financial_hub_setting_container", arch)
