import logging

from markupsafe import escape

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..qbo import QBOError

_logger = logging.getLogger(__name__)

SETTINGS_URL = "/odoo/action-account.action_account_config"
CONNECTED_URL = "/odoo/action-qbo_financial_hub.qbo_connected_action?cids=%s"


def _page(title, message, status):
    """A plain page that says what happened and leads back to the settings."""
    body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'>"
            f"<h1>{escape(title)}</h1><p class='qbo-message'>{escape(message)}</p>"
            f"<p><a href='{SETTINGS_URL}'>{escape(request.env._('Back to the settings'))}</a></p></body></html>")
    return request.make_response(body, headers=[("Content-Type", "text/html; charset=utf-8")], status=status)


class QboOAuthController(http.Controller):

    def _check_manager(self):
        if not request.env.user.has_group("qbo_financial_hub.group_qbo_manager"):
            raise AccessError(request.env._("Only QuickBooks administrators can connect a company to QuickBooks."))

    def _company(self, company_id):
        self._check_manager()
        company = request.env["res.company"].browse(int(company_id or request.env.company.id)).exists()
        if not company or company not in request.env.user.company_ids:
            raise AccessError(request.env._("You have no access to that company."))
        return _on_this_host(company)

    @http.route("/qbo/oauth/connect", type="http", auth="user", methods=["GET"])
    def qbo_oauth_connect(self, company_id=None, **kwargs):
        """The page the settings' Connect button opens: it changes nothing, and posts the start
        of the connection with Odoo's CSRF token (a plain link cannot start it for someone)."""
        try:
            company = self._company(company_id)
        except (AccessError, ValueError) as exc:
            return _page(request.env._("QuickBooks connection not started"), _message(exc), 403)
        title = request.env._("Connect %(company)s to QuickBooks", company=company.name)
        body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
                f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'><h1>{escape(title)}</h1>"
                f"<form method='post' action='/qbo/oauth/start'>"
                f"<input type='hidden' name='csrf_token' value='{escape(request.csrf_token())}'/>"
                f"<input type='hidden' name='company_id' value='{company.id}'/>"
                f"<button type='submit'>{escape(request.env._('Continue to QuickBooks'))}</button></form>"
                f"<script>document.forms[0].submit();</script></body></html>")
        return request.make_response(body, headers=[("Content-Type", "text/html; charset=utf-8")])

    @http.route("/qbo/oauth/start", type="http", auth="user", methods=["POST"], csrf=True)
    def qbo_oauth_start(self, company_id=None, **kwargs):
        """Send the administrator to Intuit's consent page with a signed, single-use state.
        A POST carrying Odoo's CSRF token: another site cannot start it in the user's name."""
        try:
            company = self._company(company_id)
            url = company._qbo_auth().authorization_url(company._qbo_make_oauth_state())
        except (AccessError, UserError, QBOError, ValueError) as exc:
            return _page(request.env._("QuickBooks connection not started"), _message(exc), 403 if isinstance(exc, AccessError) else 400)
        return request.redirect(url, local=False)

    @http.route("/qbo/oauth/callback", type="http", auth="user")
    def qbo_oauth_callback(self, code=None, state=None, realmId=None, error=None, error_description=None, **kwargs):
        """Where Intuit sends the administrator back, with a code or an error."""
        try:
            self._check_manager()
            company = _on_this_host(request.env["res.company"]._qbo_check_oauth_state(state))
        except AccessError as exc:
            _logger.warning("QuickBooks OAuth callback refused for user %s: %s", request.env.uid, exc)
            return _page(request.env._("QuickBooks connection refused"), _message(exc), 403)
        if error:
            reason = error_description or error
            company.sudo().write({"qbo_state_message": request.env._("QuickBooks answered: %(reason)s", reason=reason)})
            return _page(request.env._("QuickBooks connection not made"),
                         request.env._("QuickBooks answered: %(reason)s. Nothing was changed.", reason=reason), 400)
        if not code or not realmId:
            return _page(request.env._("QuickBooks connection not made"),
                         request.env._("QuickBooks sent no authorization code or company id."), 400)
        try:
            company._qbo_connect_with_code(code, realmId)
        except (QBOError, UserError) as exc:
            _logger.warning("QuickBooks code exchange failed for company %s: %s", company.id, _message(exc))
            return _page(request.env._("QuickBooks connection failed"), _message(exc), 400)
        # "Connected to <QuickBooks company>", then the Financial Hub of that company
        return request.redirect(CONNECTED_URL % company.id)


def _on_this_host(company):
    """Intuit sends the administrator back to the host they started from, where their session is."""
    return company.with_context(qbo_redirect_base=request.httprequest.url_root)


def _message(exc):
    return exc.user_message() if isinstance(exc, QBOError) else str(exc.args[0] if exc.args else exc)
