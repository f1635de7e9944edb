"""Routes Intuit's app settings point at: the webhook endpoint, the Reconnect URL and the
Disconnect landing page."""
import json
import logging

from odoo import SUPERUSER_ID, api, http
from odoo.exceptions import AccessError
from odoo.http import request

from ..qbo import QBOError, RevokedError
from .main import _message, _page

_logger = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024   # Intuit's deliveries are small; anything larger is refused unread


class QboInboundController(http.Controller):

    @http.route("/qbo/webhook", type="http", auth="none", methods=["POST"], csrf=False, save_session=False,
                readonly=False)
    def qbo_webhook(self, **kwargs):
        """Intuit's webhook deliveries (CloudEvents or the older format). The signature is checked,
        the events are stored (a replayed event id is ignored) and the answer goes back at once;
        the inbound cron reads the changes."""
        length = request.httprequest.content_length or 0
        if length > MAX_BODY:
            return self._answer(413, {"error": "payload too large"})
        body = request.httprequest.get_data()   # cached: a retried transaction reads it again
        signature = request.httprequest.headers.get("intuit-signature")
        # the database is the one Odoo serves for this host (dbfilter, or a single database)
        env = api.Environment(request.env.cr, SUPERUSER_ID, {})
        status, result = env["qbo.webhook.event"]._qbo_receive(body, signature)
        return self._answer(status, result)

    @staticmethod
    def _answer(status, result):
        return request.make_response(json.dumps(result), headers=[("Content-Type", "application/json")],
                                     status=status)

    @http.route("/qbo/reconnect", type="http", auth="user")
    def qbo_reconnect(self, realmId=None, company_id=None, **kwargs):
        """Intuit's Reconnect URL: start the consent again, for the company of `realmId` when given."""
        user = request.env.user
        if not user.has_group("qbo_financial_hub.group_qbo_manager"):
            return _page(request.env._("QuickBooks connection not started"),
                         request.env._("Only QuickBooks administrators can reconnect a company to QuickBooks."), 403)
        company = None
        if realmId:
            company = user.company_ids.filtered(lambda c: c.sudo().qbo_realm_id == str(realmId))[:1]
            if not company:
                return _page(request.env._("QuickBooks connection not started"),
                             request.env._("None of your companies is connected to QuickBooks company %(realm)s.",
                                           realm=realmId), 404)
        company_id = company.id if company else (company_id or request.env.company.id)
        return request.redirect(f"/qbo/oauth/start?company_id={int(company_id)}")

    @http.route("/qbo/disconnected", type="http", auth="user")
    def qbo_disconnected(self, realmId=None, **kwargs):
        """Intuit's Disconnect landing page, where a user arrives after disconnecting the app in
        QuickBooks. The connection is checked (nothing is changed on the word of a link alone)."""
        user = request.env.user
        companies = user.company_ids.filtered(
            lambda c: c.sudo().qbo_enabled and (not realmId or c.sudo().qbo_realm_id == str(realmId)))
        if not user.has_group("qbo_financial_hub.group_qbo_manager") or not companies:
            return _page(request.env._("QuickBooks disconnected"),
                         request.env._("The app was disconnected in QuickBooks. A QuickBooks administrator can "
                                       "connect it again from the settings."), 200)
        lines = []
        for company in companies:
            try:
                company._qbo_fetch_company_info()
                lines.append(request.env._("%(company)s: still connected.", company=company.name))
            except RevokedError as exc:
                company.sudo().write({"qbo_state": "reconnect", "qbo_state_message": exc.user_message()})
                lines.append(request.env._("%(company)s: disconnected; the queue waits, nothing is lost. "
                                           "Reconnect from the settings.", company=company.name))
            except (QBOError, AccessError) as exc:
                lines.append(f"{company.name}: {_message(exc)}")
        return _page(request.env._("QuickBooks disconnected"), " ".join(lines), 200)
