"""Shared set-up for the Odoo suite: one local QuickBooks Online simulator per test process,
reset before every test, and helpers that connect an Odoo company to one of its realms."""
import contextlib
import re
import threading
from datetime import datetime, timedelta

from odoo.tests import HttpCase, TransactionCase

from ..simulator import CA_REALM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM, Simulator
from ..simulator.seed import realm_ids

# a QuickBooks company belongs to one Odoo company: tests that connect a third or fourth company
# use copies of the US and Canadian companies (realms 3 and 4 of the simulator)
US2_REALM, CA2_REALM = realm_ids(4)[2:4]

_lock = threading.Lock()
_simulator = None


def get_simulator():
    """The process-wide simulator, started on a free localhost port on first use."""
    global _simulator
    with _lock:
        if _simulator is None:
            _simulator = Simulator(host="127.0.0.1", port=0, realms=4).start()
        return _simulator


class QboCommonMixin:
    US_REALM = US_REALM
    CA_REALM = CA_REALM
    US2_REALM = US2_REALM
    CA2_REALM = CA2_REALM

    @classmethod
    def _qbo_setup_simulator(cls):
        cls.sim = get_simulator()

    def _qbo_reset_simulator(self):
        self.sim.reset()

    def qbo_configure(self, company, realm=None, connect=True):
        """Point `company` at the simulator; with `connect`, give it fresh tokens for `realm`."""
        vals = {
            "qbo_enabled": True,
            "qbo_environment": "custom",
            "qbo_custom_url": self.sim.url,
            "qbo_client_id": DEFAULT_CLIENT_ID,
            "qbo_client_secret": DEFAULT_CLIENT_SECRET,
        }
        if connect:
            realm = realm or US_REALM
            tokens = self.sim.issue_tokens(realm)
            vals.update({
                "qbo_realm_id": realm,
                "qbo_access_token": tokens["access_token"],
                "qbo_refresh_token": tokens["refresh_token"],
                "qbo_access_token_expires_at": datetime.utcnow() + timedelta(seconds=tokens["expires_in"]),
                "qbo_state": "connected",
            })
        company.sudo().write(vals)
        # the connector reads the connection from its own cursors, as a cron worker does
        self.env.flush_all()
        return company


    def qbo_oauth_start(self, company_id):
        """What the settings' Connect button does in an HttpCase: open /qbo/oauth/connect, which
        posts the start with Odoo's CSRF token. Returns (connect page answer, start answer)."""
        page = self.url_open(f"/qbo/oauth/connect?company_id={company_id}", allow_redirects=False)
        token = re.search(r"name='csrf_token' value='([^']+)'", page.text)
        if not token:
            return page, None
        start = self.url_open("/qbo/oauth/start", data={"csrf_token": token.group(1), "company_id": company_id},
                              allow_redirects=False)
        return page, start

    def qbo_server_open(self):
        """Odoo's test HTTP server open to requests that are not the test's own, such as the
        simulator delivering Intuit's webhooks (which carry no cookie, as Intuit's do not): Odoo 19
        serves only requests bearing the test's cookie, and lets the request's thread open its test
        cursor, inside allow_requests(all_requests=True) (as 19's own XML-RPC test transport does);
        18 serves any request."""
        allow = getattr(self, "allow_requests", None)
        return allow(all_requests=True) if allow else contextlib.nullcontext()


try:  # Odoo 19: the test thread holds this lock except while it lets requests or other threads in
    from odoo.tests.common import release_test_lock
except ImportError:  # Odoo 18: other threads' test cursors wait only for each other
    release_test_lock = contextlib.nullcontext


class QboTransactionCase(QboCommonMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._qbo_setup_simulator()
        # The connector opens cursors of its own (token refresh, queue claims), as a cron
        # worker does; in test mode they are savepoints of the test's transaction.
        if hasattr(cls.registry, "enter_test_mode"):   # Odoo 18
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)
        else:                                           # Odoo 19: the test case patches the registry
            cls.registry_enter_test_mode_cls()

    def setUp(self):
        super().setUp()
        # The drain's sender threads open test cursors while the test waits for them: on 19 the
        # test thread lets them in for the whole test, as 18 does (re-taken before Odoo's own
        # end-of-test check of the lock)
        self.enterContext(release_test_lock())
        self._qbo_reset_simulator()


class QboHttpCase(QboCommonMixin, HttpCase):
    """Odoo's HTTP server and the simulator, reset before every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._qbo_setup_simulator()

    def setUp(self):
        super().setUp()
        self._qbo_reset_simulator()
