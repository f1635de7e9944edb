"""The read-only QuickBooks status on links, companies and the synced records (see qbo_inbound.py)."""
from datetime import date, datetime, timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from .qbo_inbound import QBO_DOC_STATUSES
from .qbo_reason import _lt, log_note
from .qbo_rights import check_company_action

DEFAULT_ALLOWANCE = 500000
HARD_EXPIRY_NOTICE = timedelta(days=30)


class QboLink(models.Model):
    _inherit = "qbo.link"

    qbo_status = fields.Selection(QBO_DOC_STATUSES, string="Status in QuickBooks", copy=False)
    qbo_status_date = fields.Datetime("QuickBooks status since", copy=False)
    # qbo_total and qbo_balance (QuickBooks' total and open balance) are the reconciliation's fields
    qbo_changed_fields = fields.Char("Changed in QuickBooks", copy=False,
                                     help="Fields QuickBooks holds otherwise than Odoo would send them.")
    qbo_changed_at = fields.Datetime("Changed in QuickBooks on", copy=False)


class QboUsage(models.Model):
    """Calls made to QuickBooks, as Intuit meters them: reads, queries, CDC (each batch item
    counts) are metered "CorePlus" calls; writes are "Core" calls. One row per flush, summed
    per month; rows are only inserted, so workers never wait on each other."""
    _name = "qbo.usage"
    _description = "QuickBooks Online API usage"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    month = fields.Date(required=True, index=True)
    reads = fields.Integer()
    writes = fields.Integer()

    @api.model
    def _qbo_record(self, company_id, reads, writes):
        if reads or writes:
            self.env.cr.execute("""INSERT INTO qbo_usage (company_id, month, reads, writes)
                                   VALUES (%s, date_trunc('month', now() at time zone 'UTC')::date, %s, %s)""",
                                [company_id, reads, writes])

    @api.model
    def _qbo_month_totals(self, company, month=None):
        month = month or date.today().replace(day=1)
        self.env.cr.execute("SELECT COALESCE(sum(reads), 0), COALESCE(sum(writes), 0) FROM qbo_usage "
                            "WHERE company_id = %s AND month = %s", [company.id, month])
        return self.env.cr.fetchone()


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_webhook_verifier = fields.Char(
        "QuickBooks webhook verifier token", groups="base.group_system", copy=False,
        help="The Verifier Token of your Intuit app's webhooks: deliveries whose intuit-signature does "
             "not match it are refused.")
    qbo_cdc_cursor = fields.Char("QuickBooks changes read up to", copy=False, readonly=True)
    qbo_cdc_last_run = fields.Datetime("QuickBooks changes last read", copy=False, readonly=True)
    qbo_cdc_message = fields.Char("QuickBooks changes problem", copy=False, readonly=True)
    qbo_cdc_gap = fields.Boolean(
        "Full comparison needed", copy=False, readonly=True,
        help="Odoo did not read QuickBooks' changes for more than 30 days (the look-back of change data "
             "capture): run a full comparison.")
    qbo_cdc_full_requested = fields.Boolean(
        "Full comparison queued", copy=False, readonly=True,
        help="A full comparison was asked for: the inbound cron runs it at its next turn of this company.")
    qbo_conflict_winner = fields.Selection(
        [("odoo", "Odoo: the next push overwrites the change made in QuickBooks"),
         ("qbo", "QuickBooks: pushes of a record changed in QuickBooks wait for a person")],
        string="Record changed on both sides", default="odoo", required=True)
    qbo_metered_allowance = fields.Integer("Metered reads allowed per month", default=DEFAULT_ALLOWANCE)
    qbo_metered_warning = fields.Integer("Warn at (% of the allowance)", default=80)
    qbo_refresh_token_hard_expires_at = fields.Datetime(
        "Refresh token hard expiry", copy=False, readonly=True,
        help="Intuit's five-year cap: after this date only a new consent (Reconnect) works.")

    # --- token values and metering hooks -------------------------------------------------------
    def _qbo_token_values(self, tokens):
        vals = super()._qbo_token_values(tokens)
        if getattr(tokens, "refresh_hard_expires_at", None):
            vals["qbo_refresh_token_hard_expires_at"] = datetime.utcfromtimestamp(tokens.refresh_hard_expires_at)
        return vals

    def _qbo_client(self, **kwargs):
        kwargs.setdefault("on_usage", self._qbo_usage_recorder())
        return super()._qbo_client(**kwargs)

    def _qbo_usage_recorder(self):
        usage, company_id = self.env["qbo.usage"].sudo(), self.id
        return lambda reads, writes: usage._qbo_record(company_id, reads, writes)

    # --- URLs Intuit's app settings ask for -----------------------------------------------------
    def _qbo_base_url(self):
        return self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")

    def _qbo_webhook_url(self):
        return f"{self._qbo_base_url()}/qbo/webhook"

    def _qbo_reconnect_url(self):
        return f"{self._qbo_base_url()}/qbo/reconnect"

    def _qbo_disconnect_url(self):
        return f"{self._qbo_base_url()}/qbo/disconnected"

    # --- actions ----------------------------------------------------------------------------------
    def action_qbo_read_changes(self):
        """Read QuickBooks' changes now, in a transaction of its own (as the cron does): this
        request's transaction has written nothing of the company's yet."""
        self.ensure_one()
        self._qbo_check_manager()
        report = {}
        seen = self.env["qbo.webhook.event"]._qbo_inbound_company(self.id, report=report)
        if report.get("error"):
            return self._qbo_notify(self.env._("QuickBooks"), report["error"], "danger", sticky=True)
        return self._qbo_notify(self.env._("QuickBooks"),
                                self.env._("%(count)s change(s) read from QuickBooks.", count=seen))

    def action_qbo_full_compare(self):
        """Beyond CDC's 30 days: compare every linked record with QuickBooks, then read from the
        start of CDC's window on. The inbound cron does it at once, in its own transaction (one
        cursor writes the company; a comparison of many records outlasts a web request)."""
        self.ensure_one()
        self._qbo_check_manager()
        self.sudo().write({"qbo_cdc_full_requested": True})
        self.env.ref("qbo_financial_hub.ir_cron_qbo_inbound")._trigger()
        return self._qbo_notify(self.env._("QuickBooks"), self.env._(
            "The full comparison with QuickBooks runs in the background now; the Financial Hub shows when it ran."))

    @api.model
    def _qbo_warn_hard_expiry(self):
        """An activity for the QuickBooks administrators 30 days before the refresh token's hard expiry."""
        limit = fields.Datetime.now() + HARD_EXPIRY_NOTICE
        companies = self.sudo().search([("qbo_enabled", "=", True), ("qbo_refresh_token_hard_expires_at", "!=", False),
                                        ("qbo_refresh_token_hard_expires_at", "<=", limit)])
        if not companies:
            return
        group = self.env.ref("qbo_financial_hub.group_qbo_manager")
        activity_type = self.env.ref("mail.mail_activity_data_warning", raise_if_not_found=False)
        model = self.env["ir.model"]._get_id("res.company")
        Activity = self.env["mail.activity"].sudo()
        for company in companies:
            summary = self.env._("QuickBooks consent expires on %(date)s",
                                 date=fields.Date.to_string(company.qbo_refresh_token_hard_expires_at.date()))
            for user in group.users.filtered(lambda u: company in u.company_ids):
                if Activity.search_count([("res_model_id", "=", model), ("res_id", "=", company.id),
                                          ("user_id", "=", user.id), ("summary", "=", summary)]):
                    continue
                Activity.create({
                    "res_model_id": model, "res_id": company.id, "user_id": user.id, "summary": summary,
                    "activity_type_id": activity_type.id if activity_type else False,
                    "date_deadline": company.qbo_refresh_token_hard_expires_at.date() - timedelta(days=7),
                    "note": self.env._("Intuit ends the QuickBooks connection of %(company)s for good on %(date)s. "
                                       "Before then, reconnect from Settings > QuickBooks Online (%(url)s).",
                                       company=company.name, date=summary.rsplit(" ", 1)[-1],
                                       url=company._qbo_reconnect_url())})


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_webhook_verifier = fields.Char(related="company_id.qbo_webhook_verifier", readonly=False,
                                       groups="base.group_system")
    qbo_conflict_winner = fields.Selection(related="company_id.qbo_conflict_winner", readonly=False)
    qbo_metered_allowance = fields.Integer(related="company_id.qbo_metered_allowance", readonly=False)
    qbo_metered_warning = fields.Integer(related="company_id.qbo_metered_warning", readonly=False)
    qbo_webhook_url = fields.Char(compute="_compute_qbo_inbound_urls", string="Webhook endpoint URL")
    qbo_reconnect_url = fields.Char(compute="_compute_qbo_inbound_urls", string="Reconnect URL")
    qbo_disconnect_url = fields.Char(compute="_compute_qbo_inbound_urls", string="Disconnect landing URL")
    qbo_cdc_last_run = fields.Datetime(related="company_id.qbo_cdc_last_run")
    qbo_cdc_gap = fields.Boolean(related="company_id.qbo_cdc_gap")

    @api.depends("company_id")
    def _compute_qbo_inbound_urls(self):
        for settings in self:
            company = settings.company_id
            settings.qbo_webhook_url = company._qbo_webhook_url()
            settings.qbo_reconnect_url = company._qbo_reconnect_url()
            settings.qbo_disconnect_url = company._qbo_disconnect_url()

    def action_qbo_full_compare(self):
        return self.company_id.action_qbo_full_compare()


class QboSyncMixin(models.AbstractModel):
    _inherit = "qbo.sync.mixin"

    qbo_changed_fields = fields.Char("Changed in QuickBooks", compute="_compute_qbo_remote")
    qbo_changed_at = fields.Datetime("Changed in QuickBooks on", compute="_compute_qbo_remote")

    @api.depends_context("company")
    def _compute_qbo_remote(self):
        links = self._qbo_links(self.env.company) if self.ids else {}
        for record in self:
            link = links.get(record.id)
            record.qbo_changed_fields = link.qbo_changed_fields if link else False
            record.qbo_changed_at = link.qbo_changed_at if link else False

    def _qbo_held_by_remote_change(self, company):
        """The pre-flight problem of a record changed in QuickBooks while QuickBooks wins."""
        if company.sudo().qbo_conflict_winner != "qbo":
            return []
        link = self._qbo_links(company).get(self.id)
        if link and link.qbo_changed_fields and link.qbo_id:
            return [_lt("Changed in QuickBooks (%(fields)s) and the settings let QuickBooks win: use 'Push "
                               "Odoo's version' to overwrite it, or 'Keep QuickBooks' version'.",
                               fields=link.qbo_changed_fields)]
        return []

    def _qbo_clear_remote_change(self):
        links = self.env["qbo.link"].sudo().search([("company_id", "=", self.env.company.id),
                                                    ("res_model", "=", self._name), ("res_id", "in", self.ids)])
        links.write({"qbo_changed_fields": False, "qbo_changed_at": False})
        self.invalidate_recordset(["qbo_changed_fields", "qbo_changed_at"])

    def action_qbo_push_odoo_version(self):
        """Overwrite QuickBooks' change with Odoo's version."""
        self._qbo_check_push_rights()
        self._qbo_clear_remote_change()
        return self.action_qbo_push()

    def action_qbo_keep_qbo_version(self):
        """Acknowledge QuickBooks' change; nothing is sent now."""
        self._qbo_check_push_rights()
        for record in self:
            record._qbo_message_log(_lt("QuickBooks' change acknowledged (%(fields)s); nothing was sent.",
                                               fields=record.qbo_changed_fields or "-"))
        self._qbo_clear_remote_change()
        return True


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _qbo_preflight(self, company):
        return super()._qbo_preflight(company) + self._qbo_held_by_remote_change(company)


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _qbo_preflight(self, company):
        return super()._qbo_preflight(company) + self._qbo_held_by_remote_change(company)


class AccountMove(models.Model):
    _inherit = "account.move"

    qbo_remote_status = fields.Selection(QBO_DOC_STATUSES, string="In QuickBooks", compute="_compute_qbo_remote_status",
                                         search="_search_qbo_remote_status")
    qbo_remote_balance = fields.Float("Balance in QuickBooks", compute="_compute_qbo_remote_status")
    qbo_remote_status_date = fields.Datetime("QuickBooks status since", compute="_compute_qbo_remote_status")
    qbo_remote_label = fields.Char("QuickBooks status", compute="_compute_qbo_remote_status")

    qbo_payment_hint = fields.Char("What to do about the payment", compute="_compute_qbo_payment_hint")

    @api.depends("payment_state", "amount_residual", "state")
    @api.depends_context("company")
    def _compute_qbo_payment_hint(self):
        """One line when Odoo and QuickBooks disagree on what is still owed: which side is ahead,
        and what to do about it (QuickBooks' payments never become Odoo's by themselves)."""
        def counterparts(moves):
            lines = moves.line_ids
            return lines.matched_credit_ids.credit_move_id.move_id | lines.matched_debit_ids.debit_move_id.move_id

        rows = self.env["qbo.payment"].sudo().search([("move_id", "in", counterparts(self).ids)]) if self.ids else []
        for move in self:
            move.qbo_payment_hint = False
            status = move.qbo_remote_status
            if move.state != "posted" or status not in ("open", "partial", "paid"):
                continue
            currency = move.currency_id
            odoo_due, qbo_due = move.amount_residual, move.qbo_remote_balance
            if not currency.compare_amounts(odoo_due, qbo_due):
                continue
            values = {"odoo": formatLang(self.env, odoo_due, currency_obj=currency),
                      "qbo": formatLang(self.env, qbo_due, currency_obj=currency)}
            if currency.compare_amounts(odoo_due, qbo_due) > 0:
                move.qbo_payment_hint = (
                    self.env._("Paid in QuickBooks, not in Odoo: register the payment in Odoo, or let the reconciliation "
                               "list it.") if status == "paid" else
                    self.env._("More is paid in QuickBooks than in Odoo (%(qbo)s due there, %(odoo)s here): register the "
                               "payment in Odoo, or let the reconciliation list it.", **values))
                continue
            paid_by = counterparts(move)
            states = {row.with_company(move.company_id).qbo_state for row in rows if row.move_id in paid_by}
            if "queued" in states:
                move.qbo_payment_hint = self.env._("Odoo's payment is on its way to QuickBooks.")
            elif "error" in states:
                move.qbo_payment_hint = self.env._("Odoo's payment could not be pushed to QuickBooks: open the payment to "
                                                   "see why.")
            else:
                move.qbo_payment_hint = self.env._(
                    "Paid in Odoo, not in QuickBooks (%(qbo)s due there, %(odoo)s here): push the payment to QuickBooks "
                    "(Push to QuickBooks on the payment, or switch on Push customer payments in the settings).", **values)

    @api.depends_context("company")
    def _compute_qbo_remote_status(self):
        labels = dict(QBO_DOC_STATUSES)
        links = {}
        for company in self.company_id:
            links.update(self.filtered(lambda m: m.company_id == company)._qbo_links(company) if self.ids else {})
        for move in self:
            link = links.get(move.id)
            status = link.qbo_status if link and link.qbo_id else False
            move.qbo_remote_status = status
            move.qbo_remote_balance = link.qbo_balance if status else 0.0
            move.qbo_remote_status_date = link.qbo_status_date if status else False
            label = labels.get(status, "") if status else False
            if status in ("voided", "deleted") and link.qbo_status_date:
                label = self.env._("%(label)s on %(date)s", label=label,
                                   date=fields.Date.to_string(link.qbo_status_date.date()))
            move.qbo_remote_label = label

    def _search_qbo_remote_status(self, operator, value):
        if operator not in ("=", "in", "!=", "not in"):
            raise NotImplementedError(self.env._("Unsupported search on the QuickBooks status."))
        values = [value] if isinstance(value, str) or value is False else list(value)
        subquery = SQL("(SELECT res_id FROM qbo_link WHERE res_model = %s AND company_id IN %s AND qbo_status IN %s)",
                       self._name, tuple(self.env.companies.ids), tuple(v for v in values if v) or ("",))
        return [("id", "in" if operator in ("=", "in") else "not in", subquery)]

    def _qbo_preflight(self, company):
        problems = super()._qbo_preflight(company)
        link = self._qbo_links(company).get(self.id) if self.state == "posted" else None
        if link and link.qbo_status in ("voided", "deleted"):
            problems.append(_lt("%(label)s: choose Push again or Unlink.", label=self.qbo_remote_label))
        return problems

    def action_qbo_push_again(self):
        """A document voided or deleted in QuickBooks is sent again from Odoo's version: a deleted
        one is created anew, a voided one is updated back to Odoo's lines."""
        self._qbo_check_push_rights(self.company_id)
        for company, moves in self._qbo_moves_by_company():
            links = moves._qbo_links(company)
            for move in moves.filtered(lambda m: m.state == "posted"):
                link = links.get(move.id)
                if not link or link.qbo_status not in ("voided", "deleted"):
                    continue
                vals = {"qbo_status": False, "qbo_status_date": False, "qbo_balance": 0.0}
                if link.qbo_status == "deleted":
                    vals.update({"qbo_id": False, "qbo_sync_token": False, "qbo_doc_number": False})
                log_note(move, _lt("Pushed again to QuickBooks after it was deleted there.")
                                        if link.qbo_status == "deleted"
                                        else _lt("Pushed again to QuickBooks after it was voided there."))
                link.sudo().write(vals)
        self.invalidate_recordset()
        return self.action_qbo_push()


class QboJob(models.Model):
    _inherit = "qbo.job"

    def _qbo_apply(self, company, outcome, *args, **kwargs):
        finished = super()._qbo_apply(company, outcome, *args, **kwargs)
        done = [job_id for job_id, result in outcome.items() if result.get("state") == "done"]
        if done:
            # Odoo's version is in QuickBooks now: what was changed there is overwritten
            self.env.cr.execute("""
                UPDATE qbo_link l SET qbo_changed_fields = NULL, qbo_changed_at = NULL
                  FROM qbo_job j
                 WHERE j.id IN %s AND j.state = 'done' AND l.company_id = j.company_id
                   AND l.res_model = j.res_model AND l.res_id = j.res_id AND l.qbo_changed_fields IS NOT NULL""",
                [tuple(done)])
            self.env["qbo.link"].invalidate_model(["qbo_changed_fields", "qbo_changed_at"])
        return finished


class QboDashboard(models.TransientModel):  # pylint: disable=no-wizard-in-models
    _inherit = "qbo.dashboard"

    metered_reads = fields.Integer("Metered reads this month", compute="_compute_qbo_usage")
    core_writes = fields.Integer("Writes this month", compute="_compute_qbo_usage")
    metered_allowance = fields.Integer(related="company_id.qbo_metered_allowance")
    metered_share = fields.Float("Share of the allowance (%)", compute="_compute_qbo_usage")
    metered_warning = fields.Boolean(compute="_compute_qbo_usage")
    qbo_refresh_token_hard_expires_at = fields.Datetime(related="company_id.qbo_refresh_token_hard_expires_at")
    hard_expiry_soon = fields.Boolean(compute="_compute_qbo_usage")
    qbo_cdc_last_run = fields.Datetime(related="company_id.qbo_cdc_last_run")
    qbo_cdc_gap = fields.Boolean(related="company_id.qbo_cdc_gap")
    qbo_cdc_message = fields.Char(related="company_id.qbo_cdc_message")
    qbo_cdc_full_requested = fields.Boolean(related="company_id.qbo_cdc_full_requested")
    webhook_pending = fields.Integer("Webhook events waiting", compute="_compute_qbo_usage")

    @api.depends("company_id")
    def _compute_qbo_usage(self):
        for dash in self:
            company = dash.company_id or self.env.company
            reads, writes = self.env["qbo.usage"].sudo()._qbo_month_totals(company)
            allowance = company.qbo_metered_allowance or 0
            dash.metered_reads, dash.core_writes = reads, writes
            dash.metered_share = 100.0 * reads / allowance if allowance else 0.0
            dash.metered_warning = bool(allowance) and dash.metered_share >= (company.qbo_metered_warning or 0)
            expiry = company.qbo_refresh_token_hard_expires_at
            dash.hard_expiry_soon = bool(expiry) and expiry <= fields.Datetime.now() + HARD_EXPIRY_NOTICE
            dash.webhook_pending = self.env["qbo.webhook.event"].sudo().search_count(
                [("company_id", "=", company.id), ("state", "=", "pending")])

    def action_full_compare(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, message=self.env._(
            "Only QuickBooks administrators can run a full comparison."))
        return self.company_id.action_qbo_full_compare()
