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
MAX_BODY = 5 * 1024 * 1024   # Intuit's deliveries are small; anything larger is refused unchecked
READ_CHUNK = 64 * 1024


class QboInboundController(http.Controller):

    @http.route("/qbo/webhook", type="http", auth="none", methods=["POST"], csrf=False, save_session=False,
                readonly=False)
    def qbo_webhook(self, **kwargs):
        """Intuit's webhook deliveries (CloudEvents or the older format). The signature is checked,
        the events are stored (a replayed event id is ignored) and the answer goes back at once;
        the inbound cron reads the changes."""
        body = self._body()
        if body is None:
            return self._answer(413, {"error": "payload too large"})
        signature = request.httprequest.headers.get("intuit-signature")
        # the database is the one Odoo serves for this host (dbfilter, or a single database)
        env = api.Environment(request.env.cr, SUPERUSER_ID, {})
        status, result = env["qbo.webhook.event"]._qbo_receive(body, signature)
        return self._answer(status, result)

    @staticmethod
    def _body():
        """The request body, read MAX_BODY + 1 bytes at most whatever Content-Length says (a
        chunked body has none); None when it is larger. Kept on the request: a retried
        transaction reads it again."""
        httprequest = request.httprequest
        if getattr(httprequest, "_qbo_body", False) is not False:
            return httprequest._qbo_body
        body = None
        if (httprequest.content_length or 0) <= MAX_BODY:
            # werkzeug's own request (Odoo's HTTPRequest wraps it and exposes get_data() only, which
            # reads the whole body, up to Odoo's 128 MB limit): its stream, read a bounded amount
            stream = getattr(httprequest, "_HTTPRequest__wrapped", httprequest).stream
            chunks, size = [], 0
            while size <= MAX_BODY:
                chunk = stream.read(min(READ_CHUNK, MAX_BODY + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            body = b"".join(chunks) if size <= MAX_BODY else None
        httprequest._qbo_body = body
        return body

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
        try:
            company_id = int(company.id if company else (company_id or request.env.company.id))
        except (TypeError, ValueError):
            company_id = request.env.company.id
        # the connect page posts the start with Odoo's CSRF token (the start accepts a POST only)
        return request.redirect(f"/qbo/oauth/connect?company_id={company_id}")

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
