"""Where tokens may go: a host of our own listens on 127.0.0.1 under a name that is not allowed
(`exfil.invalid`, which this test's resolver maps to 127.0.0.1, so that a request sent to it
would arrive), and the company's settings, a discovery document and a redirect all point at it.
Every call kind (API, batch, token refresh, revocation, discovery, attachments) is tried; the
host must receive nothing. The same calls with the host listed in the system parameter do reach
it: the wiring would deliver, only the rule stops it."""
import contextlib
import json
import logging
import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import _super_send

from ..qbo import QBOError
from .common import QboTransactionCase

_logger = logging.getLogger(__name__)
EXFIL = "exfil.invalid"   # .invalid never resolves (RFC 2606): only this test's resolver maps it
REFUSED = (QBOError, UserError, AccessError)


class _Recorder(BaseHTTPRequestHandler):
    """Records every request (method, path, headers, body); answers what its server is told to."""

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        status, headers, payload = self.server.answer(self)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args):
        pass


def _server(answer):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.seen, server.answer = [], answer
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def resolving(name, address="127.0.0.1"):
    """`name` resolves to `address` in this process (what a hostile DNS or hosts entry would do)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real(address if host == name else host, *args, **kwargs)
    with patch("socket.getaddrinfo", side_effect=getaddrinfo):
        yield


def discovery(base):
    return {"authorization_endpoint": f"{base}/connect/oauth2", "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke", "issuer": base, "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo"}


@tagged("post_install", "-at_install", "qbo_security")
class TestTokensGoOnlyWhereAllowed(QboTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the host that must receive nothing: it answers like a QuickBooks that accepts anything
        cls.exfil = _server(lambda handler: (200, {}, cls._exfil_answer(handler)))
        cls.exfil_url = f"http://{EXFIL}:{cls.exfil.server_address[1]}"
        # an allowed (loopback) host whose discovery document names the exfiltration host, and
        # whose API and token endpoint answer with a redirect to it
        cls.relay = _server(cls._relay_answer)
        cls.relay_url = f"http://127.0.0.1:{cls.relay.server_address[1]}"
        cls.addClassCleanup(cls.exfil.shutdown)
        cls.addClassCleanup(cls.relay.shutdown)
        cls.tried = []   # (scenario, call kind, requests the refused host received)
        cls.addClassCleanup(cls.summary)

    @classmethod
    def summary(cls):
        refused = [t for t in cls.tried if t[0] != "listed"]
        line = (f"security tokens: {len(refused)} calls of {len({t[1] for t in refused})} kinds sent toward a host "
                f"the rule refuses ({', '.join(sorted({t[0] for t in refused}))}): "
                f"{sum(t[2] for t in refused)} requests received; the same host listed received "
                f"{sum(t[2] for t in cls.tried if t[0] == 'listed')}")
        _logger.info(line)
        print(line)  # noqa: T201  # pylint: disable=print-used  # the figure the suite reports

    @classmethod
    def _request_handler(cls, s, r, **kw):
        """Odoo's test harness blocks every request to a host other than 127.0.0.1 (it would
        stop the exfiltration by itself, and prove nothing): this class lets the requests to
        the exfiltration host through, so that only the addon's rule stands in their way."""
        if urlsplit(r.url).hostname == EXFIL:
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def _exfil_answer(cls, handler):
        if handler.path.startswith("/.well-known"):
            return discovery(cls.exfil_url)
        if "tokens/bearer" in handler.path:
            return {"token_type": "bearer", "access_token": "STOLEN-ACCESS", "refresh_token": "STOLEN-REFRESH",
                    "expires_in": 3600, "x_refresh_token_expires_in": 8726400}
        return {"CompanyInfo": {"CompanyName": "Exfil", "Country": "US"}, "QueryResponse": {},
                "BatchItemResponse": [], "Preferences": {}}

    @classmethod
    def _relay_answer(cls, handler):
        if handler.path.startswith("/.well-known"):
            return 200, {}, discovery(cls.relay.document_base)
        return 307, {"Location": cls.exfil_url + handler.path}, None

    def setUp(self):
        super().setUp()
        self.exfil.seen.clear()
        self.relay.seen.clear()
        self.relay.document_base = self.exfil_url
        self.company = self.qbo_configure(self.env.company, self.US_REALM)
        self.admin = new_test_user(self.env, login="hosts_qbo_admin",
                                   groups="base.group_user,qbo_financial_hub.group_qbo_manager")
        self.ICP = self.env["ir.config_parameter"].sudo()
        self.ICP.set_param("qbo_financial_hub.allowed_hosts", "")
        self.partner = self.env["res.partner"].create({"name": "Hosts Test Customer", "is_company": True,
                                                       "qbo_hub": "active"})

    # ------------------------------------------------------------------------------
    def point_at(self, url):
        """Settings written before the rule existed (or by hand in the database): the rule is
        applied where requests are made, not only when the settings are saved."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_company SET qbo_environment = 'custom', qbo_custom_url = %s WHERE id = %s",
                            [url, self.company.id])
        self.env.invalidate_all()

    def expire_token(self):
        self.company.sudo().qbo_access_token_expires_at = datetime.utcnow() - timedelta(seconds=5)
        self.env.flush_all()

    def call_kinds(self):
        """Every kind of call the addon makes, as its buttons and crons make them: (kind, call)."""
        company = self.company.with_user(self.admin).with_context(allowed_company_ids=[self.company.id])
        env = self.env

        def drain(res_model, res_id):
            """The queue's cron for the company; what became of the job (its reason when it was not sent)."""
            env["qbo.job"]._qbo_process_company(self.company.id, client_options={"max_retries": 0,
                                                                                 "sleep": lambda s: None})
            env.invalidate_all()
            job = env["qbo.job"].search([("res_model", "=", res_model), ("res_id", "=", res_id)], limit=1)
            return f"job {job.state}: {job.error_message}"

        def push_and_drain():
            self.partner.with_company(self.company)._qbo_enqueue(self.company)
            env.flush_all()
            return drain("res.partner", self.partner.id)

        def attach_and_drain():
            move = env["account.move"].create({
                "move_type": "out_invoice", "partner_id": self.partner.id, "invoice_date": "2025-03-14",
                "invoice_line_ids": [(0, 0, {"name": "Work", "quantity": 1, "price_unit": 10.0})]})
            env["qbo.job"]._qbo_create_jobs(self.company, "account.move", move.ids, "invoice", operation="attach",
                                            mark_queued=False)
            env.flush_all()
            return drain("account.move", move.id)

        def batch():
            return self.company._qbo_client().batch([{"bId": "1", "Query": "SELECT * FROM Customer"}])

        def refresh():
            self.expire_token()
            self.company._qbo_client()

        def upload():
            self.company._qbo_client().upload("x.pdf", b"%PDF-1.4", "application/pdf", {"AttachableRef": []})

        return [
            ("API: Test connection", lambda: company.action_qbo_test_connection()),
            ("API: Read changes", lambda: company.action_qbo_read_changes()),
            ("batch: Refresh lists", lambda: company.action_qbo_refresh_references()),
            ("batch: a /batch request", batch),
            ("batch: the queue's lookup and writes", push_and_drain),
            ("refresh: an expired access token", refresh),
            ("revoke: Disconnect", lambda: company.action_qbo_disconnect()),
            ("discovery: Connect (authorization URL)",
             lambda: company._qbo_auth().authorization_url(company._qbo_make_oauth_state())),
            ("attachments: the invoice PDF upload", upload),
            ("attachments: the queue's attach job", attach_and_drain),
        ]

    def try_all(self, scenario):
        """Run every call kind in a savepoint always rolled back; returns what each did (the
        answer, or the error and its text)."""
        outcomes = {}
        for kind, call in self.call_kinds():
            received = len(self.exfil.seen)
            self.company.sudo().write({"qbo_state": "connected", "qbo_state_message": False})
            self.env.flush_all()
            with resolving(EXFIL), contextlib.closing(self.env.cr.savepoint()):
                try:
                    outcomes[kind] = f"returned {call()}"
                except REFUSED as exc:
                    outcomes[kind] = f"{type(exc).__name__}: {exc}"
                self.env.flush_all()
            self.env.invalidate_all()
            self.tried.append((scenario, kind, len(self.exfil.seen) - received))
        return outcomes

    # ------------------------------------------------------------------------------
    def test_custom_url_of_another_host_receives_nothing(self):
        self.point_at(self.exfil_url)
        outcomes = self.try_all("custom URL")
        _logger.info("custom URL %s: %s", self.exfil_url, json.dumps(outcomes, indent=1))
        self.assertEqual(self.exfil.seen, [], "the host received requests:\n%s" % json.dumps(outcomes, indent=1))
        for kind, outcome in outcomes.items():
            if kind != "revoke: Disconnect":   # Disconnect clears the tokens here all the same
                self.assertIn("neither Intuit's, nor loopback", outcome, kind)
        # the links that open a record in QuickBooks follow the same rule
        self.assertFalse(self.company._qbo_app_url("customerdetail?nameId=1"))

    def test_discovery_document_naming_another_host_receives_nothing(self):
        self.point_at(self.relay_url)
        outcomes = self.try_all("discovery document")
        _logger.info("discovery at %s naming %s: %s", self.relay_url, self.exfil_url, json.dumps(outcomes, indent=1))
        self.assertEqual(self.exfil.seen, [], "the host received requests:\n%s" % json.dumps(outcomes, indent=1))
        for kind in ("refresh: an expired access token", "discovery: Connect (authorization URL)"):
            self.assertIn("named by the OAuth discovery document", outcomes[kind], kind)
        # the API and batch calls went to the allowed host, which answered with a redirect: not followed
        self.assertIn("redirect", outcomes["API: Test connection"])
        self.assertTrue(any(path.startswith("/v3/") for _m, path, _h, _b in self.relay.seen))

    def test_redirect_of_the_token_endpoint_is_not_followed(self):
        self.relay.document_base = self.relay_url   # its own endpoints, which redirect to the other host
        self.point_at(self.relay_url)
        outcomes = self.try_all("redirect")
        self.assertEqual(self.exfil.seen, [], "the host received requests:\n%s" % json.dumps(outcomes, indent=1))
        self.assertTrue(any("tokens/bearer" in path for _m, path, _h, _b in self.relay.seen))
        self.assertIn("An OAuth request refused", outcomes["refresh: an expired access token"])

    def test_the_same_calls_reach_the_host_once_it_is_listed(self):
        """The control: listed, the host does receive the calls, Bearer token and client secret
        included. Without the rule, that is what any custom URL would have received."""
        self.ICP.set_param("qbo_financial_hub.allowed_hosts", EXFIL)
        self.point_at(self.exfil_url)
        self.try_all("listed")
        paths = [path for _m, path, _h, _b in self.exfil.seen]
        self.assertTrue(any(p.startswith("/.well-known") for p in paths), paths)
        self.assertTrue(any(p.startswith(f"/v3/company/{self.US_REALM}/") for p in paths), paths)
        self.assertTrue(any("tokens/bearer" in p for p in paths), paths)
        self.assertTrue(any("tokens/revoke" in p for p in paths), paths)
        self.assertTrue(any(p.startswith(f"/v3/company/{self.US_REALM}/batch") for p in paths), paths)
        self.assertTrue(any(p.startswith(f"/v3/company/{self.US_REALM}/upload") for p in paths), paths)
        bearer = [h.get("Authorization") for _m, p, h, _b in self.exfil.seen if p.startswith("/v3/")]
        self.assertTrue(bearer and all(b and b.startswith("Bearer ") for b in bearer))
        basic = [h.get("Authorization") for _m, p, h, _b in self.exfil.seen if "tokens/bearer" in p]
        self.assertTrue(basic and all(b.startswith("Basic ") for b in basic), "the client secret went along")

    # ------------------------------------------------------------------------------
    def test_only_system_administrators_choose_where_tokens_go(self):
        company = self.company.with_user(self.admin).with_context(allowed_company_ids=[self.company.id])
        for vals in ({"qbo_environment": "custom", "qbo_custom_url": "http://127.0.0.1:1"},
                     {"qbo_custom_url": self.exfil_url}, {"qbo_realm_id": self.CA_REALM},
                     {"qbo_environment": "sandbox"}):
            with self.assertRaises(AccessError, msg=vals):
                company.write(vals)
        settings = self.env["res.config.settings"].with_user(self.admin)
        for field in ("qbo_environment", "qbo_custom_url", "qbo_realm_id"):
            self.assertNotIn(field, settings.fields_get(), "hidden from the settings of a QuickBooks administrator")
        # still theirs: the switches and the mapping
        company.write({"qbo_customer_match": "email"})
        # a system administrator chooses, within the rule
        system = new_test_user(self.env, login="hosts_system", groups="base.group_user,base.group_system")
        as_system = self.company.with_user(system)
        as_system.write({"qbo_environment": "custom", "qbo_custom_url": "http://localhost:8899"})
        with self.assertRaises(ValidationError):
            as_system.write({"qbo_custom_url": self.exfil_url})
        self.ICP.set_param("qbo_financial_hub.allowed_hosts", f"{EXFIL}, sim.lan")
        as_system.write({"qbo_custom_url": self.exfil_url})
        self.assertEqual(self.company._qbo_endpoints().api_base, self.exfil_url)
