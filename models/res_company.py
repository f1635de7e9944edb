import base64
import json
import logging
import secrets
import time
from datetime import datetime, timedelta

import psycopg2
import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import consteq, mute_logger
from odoo.tools.misc import hmac as hmac_sign

from ..qbo import (
    PRODUCTION, SANDBOX, QBOAuth, QBOClient, QBOError, RevokedError, TokenSet,
)
from ..qbo.hosts import CUSTOM, endpoints, parse_hosts
from .qbo_rate import PgRateLimiter
from .qbo_rights import check_company_action, check_system_write, qbo_admin_write

_logger = logging.getLogger(__name__)

ALLOWED_HOSTS_PARAM = "qbo_financial_hub.allowed_hosts"
TOKEN_FIELDS = [
    "qbo_access_token", "qbo_refresh_token",
    "qbo_access_token_expires_at", "qbo_refresh_token_expires_at",
]
QBO_REFERENCE_FIELDS = (
    "qbo_tax_default_id", "qbo_tax_zero_id", "qbo_tax_exempt_id", "qbo_product_tax_default_id",
    "qbo_product_tax_zero_id", "qbo_income_account_id", "qbo_expense_account_id", "qbo_asset_account_id",
    "qbo_receivable_account_id",
)
# what a QuickBooks administrator sets on a company (secrets are not here, nor where tokens go: the
# environment, the custom URL and the realm are the system administrator's, or the OAuth callback's)
QBO_SETTINGS_FIELDS = frozenset({
    "qbo_enabled", "qbo_customer_match",
    "qbo_product_match", "qbo_invoice_number", "qbo_sync_customers", "qbo_sync_products",
    "qbo_auto_push_invoices", "qbo_auto_push_quotations", "qbo_invoice_template", "qbo_estimate_template",
    "qbo_memo_template", "qbo_private_note_template", *QBO_REFERENCE_FIELDS,
})
OAUTH_STATE_SCOPE = "qbo_financial_hub.oauth_state"
OAUTH_STATE_MAX_AGE = 15 * 60
# An access token this close to expiry is refreshed before use rather than after a 401.
ACCESS_TOKEN_MARGIN = 120


class ResCompany(models.Model):
    _inherit = "res.company"

    # --- connection -------------------------------------------------------------------
    qbo_enabled = fields.Boolean("QuickBooks Online enabled")
    qbo_environment = fields.Selection(
        [(PRODUCTION, "Production"), (SANDBOX, "Intuit sandbox"), (CUSTOM, "Custom URL (simulator)")],
        string="QuickBooks environment", default=PRODUCTION, required=True,
        help="Set by system administrators only: where the tokens and the app's secret are sent.")
    qbo_custom_url = fields.Char(
        "QuickBooks custom URL",
        help="Root URL of a QuickBooks Online compatible service, e.g. the local simulator "
             "http://127.0.0.1:8899. Its OpenID discovery document is read at "
             "/.well-known/openid_configuration and its API answers under /v3. Only a loopback host "
             "(localhost, 127.x.x.x, ::1) or a host listed in the system parameter "
             "qbo_financial_hub.allowed_hosts is accepted. Set by system administrators only.")
    qbo_client_id = fields.Char("QuickBooks client id", groups="base.group_system", copy=False)
    qbo_client_secret = fields.Char("QuickBooks client secret", groups="base.group_system", copy=False)
    qbo_realm_id = fields.Char("QuickBooks company id (realm)", copy=False)
    qbo_access_token = fields.Char(groups="base.group_system", copy=False)
    qbo_refresh_token = fields.Char(groups="base.group_system", copy=False)
    qbo_access_token_expires_at = fields.Datetime("Access token expires", copy=False)
    qbo_refresh_token_expires_at = fields.Datetime("Refresh token expires", copy=False)
    qbo_oauth_nonce = fields.Char(groups="base.group_system", copy=False)
    qbo_state = fields.Selection(
        [("disconnected", "Not connected"), ("connected", "Connected"),
         ("reconnect", "Reconnect needed"), ("error", "Error")],
        string="QuickBooks connection", default="disconnected", required=True, copy=False)
    qbo_state_message = fields.Text("QuickBooks connection message", copy=False)
    qbo_company_name = fields.Char("QuickBooks company", copy=False, readonly=True)
    qbo_country = fields.Char("QuickBooks country", copy=False, readonly=True)
    qbo_tax_model = fields.Selection(
        [("us", "United States (TAX/NON line codes)"), ("global", "Tax code on every line")],
        string="QuickBooks tax model", copy=False, readonly=True)
    qbo_home_currency = fields.Char("QuickBooks home currency", copy=False, readonly=True)
    qbo_multicurrency = fields.Boolean("QuickBooks multi-currency", copy=False, readonly=True)
    qbo_references_date = fields.Datetime("QuickBooks lists imported", copy=False, readonly=True)

    # --- matching keys and switches ---------------------------------------------------
    qbo_customer_match = fields.Selection(
        [("name", "Display name"), ("email", "Email")],
        string="Match customers by", default="name", required=True)
    qbo_product_match = fields.Selection(
        [("sku", "Internal reference as SKU"), ("name", "Name")],
        string="Match products by", default="sku", required=True)
    qbo_invoice_number = fields.Selection(
        [("odoo", "Odoo invoice number"), ("template", "Naming template")],
        string="QuickBooks invoice number", default="odoo", required=True)
    qbo_sync_customers = fields.Boolean("Create customers in QuickBooks", default=True)
    qbo_sync_products = fields.Boolean("Create products in QuickBooks", default=True)
    qbo_auto_push_invoices = fields.Boolean("Push posted invoices automatically")
    qbo_auto_push_quotations = fields.Boolean("Push quotations automatically")

    # --- mapping ----------------------------------------------------------------------
    qbo_tax_default_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Customer tax: default", domain="[('kind', '=', 'taxcode')]")
    qbo_tax_zero_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Customer tax: zero-rated", domain="[('kind', '=', 'taxcode')]")
    qbo_tax_exempt_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Customer tax: tax-exempt", domain="[('kind', '=', 'taxcode')]")
    qbo_product_tax_default_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Product tax: default", domain="[('kind', '=', 'taxcode')]")
    qbo_product_tax_zero_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Product tax: zero-rated", domain="[('kind', '=', 'taxcode')]")
    qbo_income_account_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Default income account", domain="[('kind', '=', 'account')]")
    qbo_expense_account_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Default expense account", domain="[('kind', '=', 'account')]")
    qbo_asset_account_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Default inventory asset account", domain="[('kind', '=', 'account')]")
    qbo_receivable_account_id = fields.Many2one(
        "qbo.reference", check_company=True, string="Receivable account", domain="[('kind', '=', 'account')]")
    qbo_line_product_id = fields.Many2one(
        "product.product", string="Lines without a product",
        help="The product (a service) whose QuickBooks item carries invoice and quotation lines that have no "
             "product, such as free-text lines, cash rounding and early-payment discounts. An income account "
             "can name another one (field 'QuickBooks item for lines without a product' on the account).")
    qbo_mapping_problems = fields.Text(compute="_compute_qbo_mapping_problems")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_system_write(self.env, vals)
            other = self._qbo_realm_holder(vals["qbo_realm_id"]) if vals.get("qbo_realm_id") else None
            if other:   # said before the row is inserted (the unique index would refuse it without a word)
                raise ValidationError(self._qbo_realm_taken_message(vals["qbo_realm_id"], other))
        return super().create(vals_list)

    def write(self, vals):
        check_system_write(self.env, vals)
        done = qbo_admin_write(self, vals, QBO_SETTINGS_FIELDS, lambda companies, v: super(ResCompany, companies).write(v))
        return super().write(vals) if done is None else done

    def init(self):
        res = super().init()
        # a realm belongs to one company (see _check_qbo_realm_owner); the index also holds against two
        # transactions giving one realm at once. A database that already holds a realm twice keeps
        # working (the webhook route ignores that realm) and is told so in the log.
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                self.env.cr.execute("""CREATE UNIQUE INDEX IF NOT EXISTS res_company_qbo_realm_unique
                                           ON res_company (qbo_realm_id) WHERE qbo_realm_id IS NOT NULL""")
        except psycopg2.IntegrityError:
            _logger.warning("QuickBooks: some realms are held by several companies; give each realm to one company "
                            "(Settings > QuickBooks Online): until then, their webhook events are ignored.")
        return res

    @api.constrains("qbo_realm_id")
    def _check_qbo_realm_owner(self):
        """A QuickBooks company (realm) belongs to one Odoo company, a branch included: its
        webhooks, its change feed, its request budget and its links are that company's alone."""
        for company in self.sudo().filtered("qbo_realm_id"):
            other = company._qbo_realm_holder(company.qbo_realm_id)
            if other:
                raise ValidationError(self._qbo_realm_taken_message(company.qbo_realm_id, other))

    def _qbo_realm_holder(self, realm):
        """The other company (archived ones included) that holds `realm`, read as stored: the
        value being written is not flushed first (the unique index would refuse it without a word)."""
        self.env.cr.execute("SELECT id FROM res_company WHERE qbo_realm_id = %s AND id != %s LIMIT 1",
                            [realm, self.id or 0])
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _qbo_realm_taken_message(self, realm, other):
        """Why `realm` cannot be this company's: `other` holds it (named only to a user who works in it)."""
        name = other.name if other in self.env.user.company_ids else self.env._("another company of this database")
        return self.env._(
            "QuickBooks company %(realm)s is already connected to %(company)s. A QuickBooks company belongs to one "
            "Odoo company (a branch too: it connects to a QuickBooks company of its own, or to none). Disconnect "
            "it there and clear its company id first, or connect this company to another QuickBooks company.",
            realm=realm, company=name)

    @api.constrains("qbo_environment", "qbo_custom_url")
    def _check_qbo_endpoints(self):
        """A custom URL is accepted only on a host the rule allows (qbo/hosts.py)."""
        for company in self.sudo():
            if company.qbo_environment == CUSTOM and company.qbo_custom_url:
                try:
                    company._qbo_endpoints()
                except QBOError as exc:
                    raise ValidationError(self.env._(
                        "This custom QuickBooks URL is refused: only a loopback host (localhost, 127.x.x.x, ::1) or "
                        "a host listed in the system parameter %(param)s may receive the QuickBooks tokens. "
                        "(%(reason)s)", param=ALLOWED_HOSTS_PARAM, reason=exc.message)) from None

    @api.model
    def action_qbo_open_settings(self):
        """QuickBooks → Configuration → Settings: the current company's QuickBooks settings,
        for QuickBooks administrators who are not Odoo administrators."""
        self._qbo_check_manager()
        return {"type": "ir.actions.act_window", "res_model": "res.company", "res_id": self.env.company.id,
                "view_mode": "form", "target": "current", "name": self.env._("QuickBooks settings"),
                "views": [(self.env.ref("qbo_financial_hub.res_company_view_form_qbo").id, "form")]}

    def action_qbo_connect(self):
        self.ensure_one()
        self._qbo_check_manager()
        return {"type": "ir.actions.act_url", "target": "self", "url": f"/qbo/oauth/connect?company_id={self.id}"}

    @api.constrains(*QBO_REFERENCE_FIELDS)
    def _check_qbo_references_company(self):
        """A company maps only to its own QuickBooks lists."""
        # the message names the fields only: another company's QuickBooks list names stay hidden
        for company in self.sudo():
            foreign = [f for f in QBO_REFERENCE_FIELDS if company[f] and company[f].company_id != company]
            if foreign:
                raise UserError(self.env._("A QuickBooks list entry of another company cannot be mapped (%(fields)s).",
                                           fields=", ".join(company._fields[f].string for f in foreign)))

    # ==================================================================================
    # URLs: where requests go is decided in one place, qbo/hosts.py
    # ==================================================================================
    @api.model
    def _qbo_allowed_hosts(self):
        """Hosts besides Intuit's and loopback ones that may receive requests (system parameter)."""
        return parse_hosts(self.env["ir.config_parameter"].sudo().get_param(ALLOWED_HOSTS_PARAM) or "")

    def _qbo_endpoints(self):
        """This company's API base, app base and discovery document (qbo.hosts.Endpoints), or
        ConnectionConfigError when its settings point anywhere the rule does not allow."""
        self.ensure_one()
        company = self.sudo()
        return endpoints(company.qbo_environment, company.qbo_custom_url, self._qbo_allowed_hosts())

    def _qbo_api_base_url(self):
        return self._qbo_endpoints().api_base

    def _qbo_discovery(self):
        """The environment as intuitlib understands it: a name, or a discovery document URL."""
        return self._qbo_endpoints().discovery

    def _qbo_app_url(self, path):
        """A link that opens a record in QuickBooks' own web app (or the simulator's pages); False
        when the settings point where the rule does not allow."""
        self.ensure_one()
        try:
            return f"{self._qbo_endpoints().app_base}/app/{path}"
        except QBOError:
            return False

    def _qbo_redirect_uri(self):
        # the host the administrator browses from (its session is there), else Odoo's base URL
        base = self.env.context.get("qbo_redirect_base") or \
            self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return f"{base.rstrip('/')}/qbo/oauth/callback"

    # ==================================================================================
    # OAuth and tokens
    # ==================================================================================
    def _qbo_auth(self):
        self.ensure_one()
        company = self.sudo()
        if not company.qbo_client_id or not company.qbo_client_secret:
            raise UserError(self.env._("Enter the QuickBooks client id and client secret of your Intuit app first."))
        return QBOAuth(company.qbo_client_id, company.qbo_client_secret,
                       self._qbo_redirect_uri(), self._qbo_discovery(), allowed_hosts=self._qbo_allowed_hosts())

    def _qbo_make_oauth_state(self):
        """An HMAC-signed, single-use state bound to the user and the company."""
        self.ensure_one()
        nonce = secrets.token_urlsafe(16)
        self.sudo().qbo_oauth_nonce = nonce
        payload = base64.urlsafe_b64encode(json.dumps(
            {"uid": self.env.uid, "cid": self.id, "nonce": nonce, "ts": int(time.time())},
            separators=(",", ":")).encode()).decode()
        return f"{payload}.{hmac_sign(self.env(su=True), OAUTH_STATE_SCOPE, payload)}"

    @api.model
    def _qbo_check_oauth_state(self, state):
        """Return the company a state was issued for, or raise with the reason it is refused.
        The nonce is consumed, so a state is accepted once."""
        try:
            payload, signature = (state or "").rsplit(".", 1)
        except ValueError:
            raise AccessError(self.env._("The QuickBooks answer carried no valid state: start the connection again."))
        expected = hmac_sign(self.env(su=True), OAUTH_STATE_SCOPE, payload)
        if not consteq(expected, signature):
            raise AccessError(self.env._("The QuickBooks answer carried a state that was not issued by this database."))
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        if data.get("uid") != self.env.uid:
            raise AccessError(self.env._("This QuickBooks connection was started by another user."))
        if time.time() - data.get("ts", 0) > OAUTH_STATE_MAX_AGE:
            raise AccessError(self.env._("The QuickBooks connection took too long: start it again."))
        company = self.browse(data.get("cid")).exists()
        if not company or company not in self.env.user.company_ids:
            raise AccessError(self.env._("You have no access to the company this connection was started for."))
        stored = company.sudo().qbo_oauth_nonce
        if not stored or not consteq(stored, data.get("nonce") or ""):
            raise AccessError(self.env._("This QuickBooks answer was already used: start the connection again."))
        company.sudo().qbo_oauth_nonce = False
        return company

    def _qbo_token_values(self, tokens: TokenSet):
        vals = {
            "qbo_access_token": tokens.access_token,
            "qbo_refresh_token": tokens.refresh_token,
            "qbo_access_token_expires_at": datetime.utcfromtimestamp(tokens.expires_at),
            "qbo_state": "connected",
            "qbo_state_message": False,
        }
        if tokens.refresh_expires_at:
            vals["qbo_refresh_token_expires_at"] = datetime.utcfromtimestamp(tokens.refresh_expires_at)
        return vals

    def _qbo_connect_with_code(self, code, realm_id):
        """The OAuth callback: the realm Intuit names is checked before the code is exchanged (no
        token is obtained for a realm this company may not hold)."""
        self.ensure_one()
        realm_id = str(realm_id)
        self.flush_model(["qbo_realm_id"])
        other = self._qbo_realm_holder(realm_id)
        if other:
            raise UserError(self._qbo_realm_taken_message(realm_id, other))
        current = self.sudo().qbo_realm_id
        if current and current != realm_id and self.env["qbo.link"].sudo().search_count(
                [("company_id", "=", self.id), ("qbo_id", "!=", False)], limit=1):
            raise UserError(self.env._(
                "The records of %(company)s are linked to QuickBooks company %(current)s, and the consent was given "
                "for QuickBooks company %(realm)s: their ids mean other records there. Connect again and choose "
                "QuickBooks company %(current)s on Intuit's page.", company=self.name, current=current, realm=realm_id))
        tokens = self._qbo_auth().exchange_code(code, realm_id)
        self.sudo().write(dict(self._qbo_token_values(tokens), qbo_realm_id=realm_id, qbo_enabled=True))
        self._qbo_fetch_company_info()

    def _qbo_refresh_access_token(self, failed_token=None):
        """Refresh the access token, serialised across workers by a row lock on the company.

        The refresh runs in its own transaction, committed at once: QBO rotates the refresh
        token and the previous one dies 24 hours later, so the new one must be persisted even
        if the caller's transaction rolls back. A worker that waited on the lock finds the
        token another worker just obtained and uses it instead of refreshing again."""
        self.ensure_one()
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = '15s'")
                token = self.with_env(self.env(cr=cr))._qbo_refresh_locked(failed_token, commit=True)
        except psycopg2.errors.LockNotAvailable:
            # Only our own transaction can hold the row that long (it wrote the company in this
            # request): refresh inside it, and leave its commit or rollback to its owner. The lock
            # it holds still serialises the other workers, and should it roll back, the previous
            # refresh token stays valid for a day, so the next refresh succeeds all the same.
            _logger.info("QuickBooks token refresh runs in the caller's transaction (row busy), uncommitted.")
            token = self._qbo_refresh_locked(failed_token, commit=False)
        self.invalidate_recordset(TOKEN_FIELDS + ["qbo_state", "qbo_state_message"])
        return token

    def _qbo_refresh_locked(self, failed_token, commit):
        """Refresh under the company row's lock; `commit` only when `self.env.cr` is a cursor
        opened for this refresh alone."""
        cr = self.env.cr
        cr.execute("""SELECT qbo_access_token, qbo_refresh_token, qbo_access_token_expires_at
                        FROM res_company WHERE id = %s FOR UPDATE""", [self.id])
        access, refresh, expires_at = cr.fetchone()
        fresh_until = datetime.utcnow() + timedelta(seconds=ACCESS_TOKEN_MARGIN)
        if access and access != failed_token and expires_at and expires_at > fresh_until:
            return access  # another worker refreshed while we waited for the lock
        company = self.sudo()
        company.invalidate_recordset(TOKEN_FIELDS)
        if not refresh:
            company.write({"qbo_state": "reconnect",
                           "qbo_state_message": self.env._("No refresh token is stored: connect to QuickBooks again.")})
            if commit:
                cr.commit()  # pylint: disable=invalid-commit  # our own cursor (commit is False on the caller's)
            raise RevokedError(message="No refresh token", detail="Connect to QuickBooks again.")
        try:
            tokens = self._qbo_auth().refresh(refresh)
        except RevokedError as exc:
            company.write({"qbo_state": "reconnect", "qbo_state_message": self.env._(
                "QuickBooks refused the stored refresh token (%(reason)s). The queue is paused and "
                "nothing is lost: connect to QuickBooks again.", reason=exc.user_message())})
            if commit:
                cr.commit()  # pylint: disable=invalid-commit  # our own cursor (commit is False on the caller's)
            raise
        company.write(self._qbo_token_values(tokens))
        if commit:
            # our own cursor: the rotated refresh token survives whatever the caller does
            cr.commit()  # pylint: disable=invalid-commit  # our own cursor (commit is False on the caller's)
        return tokens.access_token

    def _qbo_mark_reconnect(self, message):
        """Put the company in "Reconnect needed" with `message`, once and on one cursor: in a
        transaction of its own, committed at once, as the token refresh writes it, and not again
        when it is already so. The caller's transaction (a queue worker's) never writes the
        company row: had the refresh committed the same row meanwhile, its commit would fail
        (SerializationFailure) and lose what it was applying."""
        self.ensure_one()
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = '15s'")
                cr.execute("SELECT qbo_state FROM res_company WHERE id = %s FOR UPDATE", [self.id])
                if cr.fetchone()[0] != "reconnect":
                    self.with_env(self.env(cr=cr)).sudo().write({"qbo_state": "reconnect",
                                                                 "qbo_state_message": str(message)})
        except psycopg2.errors.LockNotAvailable:
            # only the caller's own transaction holds the row that long: it writes it
            if self.sudo().qbo_state != "reconnect":
                self.sudo().write({"qbo_state": "reconnect", "qbo_state_message": str(message)})
        self.invalidate_recordset(["qbo_state", "qbo_state_message"])

    def _qbo_client(self, **kwargs):
        """A QBO API client for this company, refreshing tokens as needed. Its requests count in
        the realm's budget shared with the queue's workers (qbo_rate.py) unless the caller
        brings a rate limiter of its own (the drain does)."""
        self.ensure_one()
        company = self.sudo()
        if not company.qbo_enabled:
            raise UserError(self.env._("QuickBooks Online is not enabled for %(company)s.", company=self.name))
        if company.qbo_state == "reconnect":
            raise RevokedError(message="Reconnect needed", detail=company.qbo_state_message or "")
        if not company.qbo_realm_id or not (company.qbo_access_token or company.qbo_refresh_token):
            raise UserError(self.env._("%(company)s is not connected to QuickBooks Online yet.", company=self.name))
        base_url = self._qbo_api_base_url()   # refused before any request, the token refresh's included
        access = company.qbo_access_token
        expires = company.qbo_access_token_expires_at
        if not access or not expires or expires <= datetime.utcnow() + timedelta(seconds=ACCESS_TOKEN_MARGIN):
            access = self._qbo_refresh_access_token(failed_token=access)
        state = {"token": access}

        def refresh():
            state["token"] = self._qbo_refresh_access_token(failed_token=state["token"])
            return state["token"]

        if "rate_limiter" not in kwargs:
            kwargs["rate_limiter"] = PgRateLimiter(self.env.cr.dbname, company.qbo_realm_id,
                                                   self.env["qbo.job"].sudo()._qbo_budgets(), transient=True)
        return QBOClient(company.qbo_realm_id, base_url, access, refresh=refresh,
                         allowed_hosts=self._qbo_allowed_hosts(), **kwargs)

    # ==================================================================================
    # Actions
    # ==================================================================================
    def _qbo_fetch_company_info(self):
        self.ensure_one()
        client = self._qbo_client()
        info = client.company_info()
        prefs = client.preferences()
        country = info.get("Country") or (info.get("CompanyAddr") or {}).get("Country") or ""
        currency = ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
        self.sudo().write({
            "qbo_company_name": info.get("CompanyName"),
            "qbo_country": country,
            "qbo_tax_model": "us" if country in ("US", "USA") else "global",
            "qbo_home_currency": currency,
            "qbo_multicurrency": bool((prefs.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled")),
            "qbo_state": "connected",
            "qbo_state_message": False,
            **self._qbo_prefs_values(prefs),
        })
        return info

    def _qbo_prefs_values(self, prefs):
        """Company values read from QuickBooks' Preferences, for other modules to extend."""
        return {}

    def action_qbo_test_connection(self):
        self.ensure_one()
        self._qbo_check_manager()
        try:
            self._qbo_fetch_company_info()
        except QBOError as exc:
            self.sudo().write({"qbo_state": "reconnect" if isinstance(exc, RevokedError) else "error",
                               "qbo_state_message": exc.user_message()})
            return self._qbo_notify(self.env._("QuickBooks connection failed"), exc.user_message(), "danger")
        return self._qbo_notify(
            self.env._("Connected to QuickBooks"),
            self.env._("%(name)s (%(country)s)", name=self.qbo_company_name, country=self.qbo_country), "success")

    def action_qbo_disconnect(self):
        self.ensure_one()
        self._qbo_check_manager()
        company = self.sudo()
        token = company.qbo_refresh_token or company.qbo_access_token
        message = False
        if token:
            try:
                self._qbo_auth().revoke(token)
            except (QBOError, UserError) as exc:
                message = self.env._("The tokens were cleared here, but QuickBooks did not confirm the revocation: %(e)s",
                            e=exc.user_message() if isinstance(exc, QBOError) else str(exc))
        company.write({f: False for f in TOKEN_FIELDS} | {
            "qbo_state": "disconnected", "qbo_state_message": message})
        return True

    def action_qbo_refresh_references(self):
        self.ensure_one()
        self._qbo_check_manager()
        self.env["qbo.reference"]._qbo_import(self)
        return True

    def _qbo_check_manager(self):
        """The wall of the connection's buttons (these companies, or the current one for a model
        call): a QuickBooks administrator working in the company, before anything runs as superuser."""
        check_company_action(self.env, self or self.env.company, message=self.env._(
            "Only QuickBooks administrators can change the QuickBooks connection."))

    @api.model
    def _qbo_failure_text(self, exc, company_id, action):
        """A cron's turn of one company failed with `exc`: log it (with the raw answer of an answer of
        unexpected shape, with the traceback of Odoo's own failure) and return the sentence written on
        the company (or the import): `action` and QuickBooks' message, or Odoo's error."""
        if isinstance(exc, QBOError):
            raw = getattr(exc, "raw", "")
            _logger.warning("QuickBooks company %s: %s: %s%s", company_id, action, exc, f" (answer: {raw})" if raw else "")
            return f"{action}: {exc.user_message()}"
        if isinstance(exc, UserError):
            _logger.warning("QuickBooks company %s: %s: %s", company_id, action, exc)
            return f"{action}: {exc}"
        _logger.exception("QuickBooks company %s: %s", company_id, action)
        error = f"{type(exc).__name__}: {exc}"[:300]
        return self.env._("%(action)s: Odoo failed (%(error)s). The other companies went on; the next run tries again.",
                          action=action, error=error)

    @api.model
    def _qbo_notify(self, title, message, kind="info", sticky=False):
        # then the screen the button was pressed on redraws (a form shows its record Queued)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": title, "message": message, "type": kind, "sticky": sticky,
                           "next": {"type": "ir.actions.act_window_close"}}}

    # ==================================================================================
    # Mapping checks
    # ==================================================================================
    @api.depends("qbo_enabled", "qbo_state", "qbo_references_date", "qbo_income_account_id",
                 "qbo_tax_default_id", "qbo_product_tax_default_id", "qbo_tax_model", "currency_id",
                 "qbo_home_currency", "qbo_multicurrency")
    def _compute_qbo_mapping_problems(self):
        for company in self:
            problems = company._qbo_mapping_problems() if company.qbo_enabled else []
            company.qbo_mapping_problems = "\n".join(f"• {p}" for p in problems) or False

    def _qbo_mapping_problems(self, scope=("customer", "product", "invoice")):
        """Every missing piece of configuration a push in `scope` would need, at once."""
        self.ensure_one()
        company = self.sudo()
        problems = []
        if company.qbo_state != "connected" or not company.qbo_realm_id:
            problems.append(self.env._("The company is not connected to QuickBooks Online."))
        if not company.qbo_references_date:
            problems.append(self.env._("QuickBooks terms, tax codes and accounts were never imported: press Refresh lists."))
        if "product" in scope or "item" in scope:
            if not company.qbo_income_account_id:
                problems.append(self.env._("No default income account is mapped for products."))
            if company.qbo_tax_model == "global" and not company.qbo_product_tax_default_id:
                problems.append(self.env._("No QuickBooks tax code is mapped for the product tax 'default'."))
        if "customer" in scope and company.qbo_tax_model == "global" and not company.qbo_tax_default_id:
            problems.append(self.env._("No QuickBooks tax code is mapped for the customer tax treatment 'default'."))
        if "invoice" in scope:
            terms = self.env["account.payment.term"].with_company(company).search(
                [("company_id", "in", [False, company.id])])
            unmapped = terms.filtered(lambda t: not t.qbo_term_ref_id)
            if unmapped:
                problems.append(self.env._("Payment terms without a QuickBooks term: %(names)s",
                                  names=", ".join(unmapped.mapped("name"))))
            taxes = self.env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale")])
            groups = taxes.filtered(lambda t: t.amount_type == "group")

            def carried(tax):
                # a tax used inside groups needs no code of its own when its groups have one
                if not tax.qbo_tax_code_problem:
                    return True
                parents = groups.filtered(lambda g: tax in g.children_tax_ids)
                return tax.amount_type != "group" and parents and not any(parents.mapped("qbo_tax_code_problem"))
            unmapped = taxes.filtered(lambda t: not carried(t))
            if unmapped:
                problems.append(self.env._("Sales taxes QuickBooks cannot carry: %(names)s",
                                  names="; ".join(unmapped.mapped("qbo_tax_code_problem"))))
            problems += company._qbo_currency_problems()
        return problems

    def _qbo_currency_problems(self):
        """A QuickBooks home currency other than the company currency is accepted only when every
        document's rate can be derived from Odoo's rates: QuickBooks must be multi-currency (the
        company currency is foreign there) and Odoo must hold rates of the home currency."""
        self.ensure_one()
        company = self.sudo()
        home = company.qbo_home_currency
        if not home or home == company.currency_id.name:
            return []
        if not company.qbo_multicurrency:
            return [self.env._(
                "The QuickBooks home currency %(h)s is not the company currency %(c)s and multi-currency is off in "
                "QuickBooks: documents would be booked at par. Connect the QuickBooks company kept in %(c)s, or "
                "turn multi-currency on in QuickBooks and press Refresh lists.", h=home, c=company.currency_id.name)]
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", home)], limit=1)
        if not currency.active or not currency.rate_ids.filtered(lambda r: not r.company_id or r.company_id == company):
            return [self.env._(
                "The QuickBooks home currency %(h)s is not the company currency %(c)s: QuickBooks' exchange rates are "
                "derived from Odoo's rates of %(h)s, and Odoo has none. Activate %(h)s and give it rates.",
                h=home, c=company.currency_id.name)]
        return []
