"""The QuickBooks reconciliation: what Odoo says each customer owes and what QuickBooks says.

QuickBooks meters reads (CorePlus calls), so a refresh reads as little as it can: the figures
QuickBooks last gave (TotalAmt, Balance, UnappliedAmt) are kept on the links, and a refresh asks
only for what changed since the previous one, in ONE change-data-capture call for customers,
invoices, credit memos and payments. The first refresh, one older than CDC's 30-day look-back,
or a CDC answer at its 1,000-object cap reads the lists whole instead, 1,000 rows a query, only
the few fields compared. The report is then built from Odoo and those figures without any read.
"""
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields, models

from .qbo_rights import USER_GROUP, check_company_action

_logger = logging.getLogger(__name__)

ENTITY_MODELS = {"Customer": "res.partner", "Invoice": "account.move", "CreditMemo": "account.move",
                 "Payment": "qbo.payment"}
FIELDS = {"Customer": "Id, Balance, BalanceWithJobs, CurrencyRef, Active",
          "Invoice": "Id, TotalAmt, Balance, CurrencyRef",
          "CreditMemo": "Id, TotalAmt, Balance, CurrencyRef",
          "Payment": "Id, TotalAmt, UnappliedAmt, CurrencyRef"}
CUSTOMER_IDS = 200        # customer ids in one query of a refresh
CDC_LIMIT = 1000          # objects one CDC answer holds at most
CDC_LOOKBACK = timedelta(days=29)
CDC_MARGIN = timedelta(minutes=5)   # clocks of Odoo and QuickBooks need not agree to the second


class QboLink(models.Model):
    _inherit = "qbo.link"

    qbo_total = fields.Float("QuickBooks total", digits=(16, 2), copy=False)
    qbo_balance = fields.Float("QuickBooks open balance", digits=(16, 2), copy=False,
                               help="Balance of an invoice or credit memo, unapplied amount of a payment, "
                                    "balance with sub-customers of a customer.")
    qbo_remote_state = fields.Selection([("known", "Known"), ("deleted", "Deleted in QuickBooks")], copy=False)


class QboReconciliationLine(models.Model):
    _name = "qbo.reconciliation.line"
    _inherit = ["qbo.company.walled"]
    _description = "QuickBooks reconciliation line"
    _order = "company_id, equal, kind, partner_id, name"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    kind = fields.Selection([("customer", "Customer"), ("document", "Document"), ("payment", "Payment")],
                            required=True)
    name = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", "Customer", ondelete="cascade", check_company=True)
    res_model = fields.Char()
    res_id = fields.Many2oneReference(model_field="res_model")
    qbo_id = fields.Char("QuickBooks Id")
    currency_id = fields.Many2one("res.currency")
    odoo_total = fields.Monetary("Odoo total")
    odoo_open = fields.Monetary("Odoo open")
    qbo_total = fields.Monetary("QuickBooks total")
    qbo_open = fields.Monetary("QuickBooks open")
    difference = fields.Monetary(help="Odoo open minus QuickBooks open (or the totals' difference when only they differ).")
    equal = fields.Boolean(index=True)
    note = fields.Char()
    qbo_url = fields.Char("Open in QuickBooks", compute="_compute_qbo_url")

    @api.depends("qbo_id", "kind", "res_model")
    def _compute_qbo_url(self):
        for line in self:
            path = None
            if line.qbo_id:
                record = self.env[line.res_model].browse(line.res_id) if line.res_model in self.env else None
                if record and record.exists() and hasattr(record, "_qbo_app_path"):
                    path = record._qbo_app_path(line.qbo_id)
            line.qbo_url = line.company_id._qbo_app_url(path) if path else False

    def action_open_record(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        if not self.res_model or self.res_model not in self.env:
            return False
        record = self.env[self.res_model].browse(self.res_id)
        if self.res_model == "qbo.payment":
            return record.action_open_source()
        return {"type": "ir.actions.act_window", "res_model": self.res_model, "res_id": self.res_id,
                "view_mode": "form", "target": "current"}

    def action_open_qbo(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"} if self.qbo_url else False


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_reconciled_at = fields.Datetime("QuickBooks figures read at", copy=False, readonly=True,
                                        help="Changes in QuickBooks since this moment are read at the next refresh.")
    qbo_reconciliation_reads = fields.Integer("Read calls of the last refresh", copy=False, readonly=True)
    qbo_reconciliation_differences = fields.Integer("Reconciliation differences", copy=False, readonly=True)
    qbo_reconciliation_message = fields.Char("Reconciliation problem", copy=False, readonly=True,
                                             help="Why the last refresh of the report failed; empty after one that worked.")

    # ------------------------------------------------------------------------------
    # reading QuickBooks' figures
    # ------------------------------------------------------------------------------
    def _qbo_read_figures(self, client):
        """Bring the kept QuickBooks figures up to date; returns the number of read calls."""
        self.ensure_one()
        calls = {"n": 0}

        def on_read(*_args):
            calls["n"] += 1
        now = datetime.utcnow()
        since = self.qbo_reconciled_at
        full = set()
        rows = defaultdict(list)
        if since and now - since < CDC_LOOKBACK:
            stamp = (since - CDC_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")
            answer = client.cdc(list(ENTITY_MODELS), stamp)
            calls["n"] += 1
            total = 0
            for block in answer or []:
                for response in block.get("QueryResponse") or []:
                    for entity, found in response.items():
                        if entity in ENTITY_MODELS and isinstance(found, list):
                            rows[entity].extend(found)
                            total += len(found)
            if total >= CDC_LIMIT:   # capped: what is missing is read by query
                full = set(ENTITY_MODELS)
                rows.clear()
            else:
                # a customer's balance moves with its documents without the customer itself
                # changing: the customers of the changed documents are read, a query per 200
                wanted = sorted(self._qbo_customers_of(rows) - {str(r.get("Id")) for r in rows["Customer"]})
                for start in range(0, len(wanted), CUSTOMER_IDS):
                    chunk = ", ".join(f"'{qbo_id}'" for qbo_id in wanted[start:start + CUSTOMER_IDS])
                    rows["Customer"].extend(client.query_rows(
                        f"SELECT {FIELDS['Customer']} FROM Customer WHERE Active IN (true, false) AND Id IN ({chunk}) "
                        f"MAXRESULTS 1000"))
                    calls["n"] += 1
        else:
            full = set(ENTITY_MODELS)
        for entity in sorted(full):
            where = "Active IN (true, false)" if entity == "Customer" else None
            page = []
            for row in client.query_all(entity, where=where, select=FIELDS[entity]):
                page.append(row)
            calls["n"] += len(page) // 1000 + 1
            rows[entity] = page
        self._qbo_store_figures(rows, full)
        self.sudo().write({"qbo_reconciled_at": now, "qbo_reconciliation_reads": calls["n"]})
        return calls["n"]

    def _qbo_customers_of(self, rows):
        """QuickBooks ids of the customers whose balance the changed transactions of `rows`
        may have moved: the CustomerRef of each, and the customer (the commercial partner,
        whose balance includes its sub-customers') of the Odoo record linked to each, which
        also covers the deleted ones QuickBooks reports without a CustomerRef."""
        ids = set()
        changed = defaultdict(list)
        for entity in ("Invoice", "CreditMemo", "Payment"):
            for row in rows.get(entity, []):
                ref = (row.get("CustomerRef") or {}).get("value")
                if ref:
                    ids.add(str(ref))
                changed[ENTITY_MODELS[entity]].append(str(row.get("Id")))
        Link = self.env["qbo.link"].sudo()
        partners = self.env["res.partner"]
        for model, qbo_ids in changed.items():
            links = Link.search([("company_id", "=", self.id), ("res_model", "=", model), ("qbo_id", "in", qbo_ids)])
            records = self.env[model].sudo().browse(links.mapped("res_id")).exists()
            partners |= records.mapped("partner_id").commercial_partner_id
        ids |= {link.qbo_id for link in partners._qbo_links(self).values() if link.qbo_id}
        return ids

    def _qbo_store_figures(self, rows, full):
        """Keep the figures of `rows` ({entity: rows}) on the links; a linked record missing
        from a whole read of its entities, or reported deleted, is marked deleted."""
        Link = self.env["qbo.link"].sudo()
        for model in sorted(set(ENTITY_MODELS.values())):
            entities = [e for e, m in ENTITY_MODELS.items() if m == model]
            links = Link.search([("company_id", "=", self.id), ("res_model", "=", model), ("qbo_id", "!=", False)])
            by_qbo = {link.qbo_id: link for link in links}
            seen = Link.browse()
            for entity in entities:
                for row in rows.get(entity, []):
                    link = by_qbo.get(str(row.get("Id")))
                    if not link:
                        continue
                    seen |= link
                    if row.get("status") == "Deleted":
                        link.write({"qbo_remote_state": "deleted"})
                        continue
                    if entity == "Customer":
                        total, balance = 0.0, row.get("BalanceWithJobs", row.get("Balance"))
                    elif entity == "Payment":
                        total, balance = row.get("TotalAmt"), row.get("UnappliedAmt")
                    else:
                        total, balance = row.get("TotalAmt"), row.get("Balance")
                    link.write({"qbo_total": float(total or 0.0), "qbo_balance": float(balance or 0.0),
                                "qbo_remote_state": "known"})
            if all(entity in full for entity in entities):
                (links - seen).write({"qbo_remote_state": "deleted"})

    # ------------------------------------------------------------------------------
    # the report
    # ------------------------------------------------------------------------------
    def _qbo_reconcile(self, client=None):
        """Refresh QuickBooks' figures (at a few read calls) and rebuild the report rows of
        this company. Returns (number of rows, number of differences)."""
        self.ensure_one()
        company = self.sudo()
        client = client or company._qbo_client()
        company._qbo_read_figures(client)
        lines = company._qbo_reconciliation_values()
        Line = self.env["qbo.reconciliation.line"].sudo()
        Line.search([("company_id", "=", company.id)]).unlink()
        Line.create(lines)
        differences = sum(1 for vals in lines if not vals["equal"])
        company.qbo_reconciliation_differences = differences
        # open reports and dashboards redraw when the refresh is committed
        self.env["qbo.live"]._qbo_broadcast(company, ["qbo.reconciliation.line"])
        return len(lines), differences

    def _qbo_reconciliation_values(self):
        """Rows comparing Odoo and the kept QuickBooks figures; no QuickBooks read."""
        self.ensure_one()
        company = self
        Link = self.env["qbo.link"].sudo()
        values = []

        def row(kind, name, partner, res_model, res_id, link, currency, odoo_total, odoo_open, note=None):
            known = link and link.qbo_remote_state == "known"
            qbo_total = link.qbo_total if known else 0.0
            qbo_open = link.qbo_balance if known else 0.0
            if not link or not link.qbo_id:
                note = note or self.env._("Not in QuickBooks.")
            elif link.qbo_remote_state == "deleted":
                note = note or self.env._("Deleted in QuickBooks.")
            elif not known:
                note = note or self.env._("QuickBooks' figures not read yet.")
            equal = bool(known) and not currency.compare_amounts(odoo_open, qbo_open) and (
                kind == "customer" or not currency.compare_amounts(odoo_total, qbo_total))
            difference = odoo_open - qbo_open if currency.compare_amounts(odoo_open, qbo_open) else odoo_total - qbo_total
            values.append({"company_id": company.id, "kind": kind, "name": name,
                           "partner_id": partner.id if partner else False, "res_model": res_model, "res_id": res_id,
                           "qbo_id": link.qbo_id if link else False, "currency_id": currency.id,
                           "odoo_total": odoo_total, "odoo_open": odoo_open, "qbo_total": qbo_total, "qbo_open": qbo_open,
                           "difference": 0.0 if equal else currency.round(difference), "equal": equal,
                           "note": False if equal else note})

        # documents: every linked invoice and credit note
        doc_links = Link.search([("company_id", "=", company.id), ("res_model", "=", "account.move"),
                                 ("qbo_id", "!=", False)])
        moves = self.env["account.move"].browse(doc_links.mapped("res_id")).exists()
        links_by_move = {link.res_id: link for link in doc_links}
        for move in moves.filtered(lambda m: m.move_type in ("out_invoice", "out_refund")):
            posted = move.state == "posted"
            row("document", move.name, move.partner_id.commercial_partner_id, "account.move", move.id,
                links_by_move[move.id], move.currency_id, move.amount_total if posted else 0.0,
                move.amount_residual if posted else 0.0)
        # payments and credits applied
        pay_links = Link.search([("company_id", "=", company.id), ("res_model", "=", "qbo.payment"),
                                 ("qbo_id", "!=", False)])
        rows = self.env["qbo.payment"].sudo().browse(pay_links.mapped("res_id")).exists()
        links_by_row = {link.res_id: link for link in pay_links}
        for pay in rows:
            active = pay._qbo_active()
            receivable = pay._qbo_receivable_lines() if active else self.env["account.move.line"]
            currency = pay.move_id.currency_id or company.currency_id
            if pay.kind == "credit":
                total, open_amount = 0.0, 0.0
            else:
                total = -sum(receivable.mapped("amount_currency"))
                open_amount = -sum(receivable.mapped("amount_residual_currency"))
            row("payment", pay.name, pay.partner_id, "qbo.payment", pay.id, links_by_row[pay.id], currency,
                total, open_amount)
        # customers: Odoo's open receivable against QuickBooks' balance (with sub-customers)
        cust_links = Link.search([("company_id", "=", company.id), ("res_model", "=", "res.partner"),
                                  ("qbo_id", "!=", False)])
        partners = self.env["res.partner"].browse(cust_links.mapped("res_id")).exists()
        commercial = partners.filtered(lambda p: p == p.commercial_partner_id)
        links_by_partner = {link.res_id: link for link in cust_links}
        receivable = defaultdict(float)
        currencies = {}
        if commercial:
            groups = self.env["account.move.line"].sudo()._read_group(
                [("company_id", "=", company.id), ("partner_id", "in", commercial.ids), ("parent_state", "=", "posted"),
                 ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False)],
                ["partner_id", "currency_id"], ["amount_residual_currency:sum"])
            for partner, currency, amount in groups:
                receivable[(partner.id, currency.id)] += amount
                currencies.setdefault(partner.id, set()).add(currency)
        for partner in commercial:
            found = currencies.get(partner.id) or {company.currency_id}
            note = None
            if len(found) > 1:
                note = self.env._("Odoo holds receivables in several currencies (%(c)s); QuickBooks keeps one per "
                                  "customer.", c=", ".join(sorted(c.name for c in found)))
            currency = sorted(found, key=lambda c: c.id)[0] if len(found) == 1 else company.currency_id
            amount = sum(receivable[(partner.id, c.id)] for c in found)
            row("customer", partner.display_name, partner, "res.partner", partner.id, links_by_partner[partner.id],
                currency, 0.0, amount, note)
        return values

    # ------------------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------------------
    def action_qbo_reconcile(self):
        """Queue a refresh of the report now (it runs in the background)."""
        check_company_action(self.env, self or self.env.company, group=USER_GROUP)
        cron = self.env.ref("qbo_financial_hub.ir_cron_qbo_reconciliation")
        cron._trigger()
        return self._qbo_notify(self.env._("QuickBooks reconciliation"),
                                self.env._("The reconciliation is being refreshed in the background."))

    @api.model
    def _cron_qbo_reconcile(self):
        """Nightly (and on demand): refresh every connected company, each in a transaction of
        its own, so one company's failure leaves the others' reports done."""
        company_ids = self.search([("qbo_enabled", "=", True), ("qbo_state", "=", "connected")]).ids
        for company_id in company_ids:
            self._qbo_reconcile_company(company_id)

    @api.model
    def _qbo_reconcile_company(self, company_id, client_options=None):
        """One company's refresh, in a transaction of its own. Never raises: whatever fails
        (QuickBooks' answer, Odoo's own code) is logged and written on the company, and the
        next company still runs. Returns (rows, differences), or None when it failed."""
        try:
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                company = env["res.company"].browse(company_id)
                try:
                    client = company._qbo_client(**client_options) if client_options else None
                    result = company._qbo_reconcile(client)
                    company.qbo_reconciliation_message = False
                    cr.commit()  # pylint: disable=invalid-commit  # the cursor opened above, for this company alone
                    return result
                except Exception as exc:  # noqa: BLE001 - one company's failure never stops the others
                    cr.rollback()
                    env.invalidate_all()
                    message = env["res.company"]._qbo_failure_text(
                        exc, company_id, env._("The reconciliation was not refreshed"))
                    env["res.company"].browse(company_id).qbo_reconciliation_message = message[:1000]
                    cr.commit()  # pylint: disable=invalid-commit  # the cursor opened above, for this company alone
        except Exception:  # noqa: BLE001 - even the message could not be written (the database)
            _logger.exception("QuickBooks reconciliation of company %s: the failure could not be recorded", company_id)
        return None


class QboReconciliationLineActions(models.Model):
    _inherit = "qbo.reconciliation.line"

    def action_qbo_reconcile_refresh(self):
        """The list's Refresh now: the web client passes the selected rows (or none); the
        current company's report is refreshed either way."""
        return self.env.company.action_qbo_reconcile()


class QboDashboard(models.TransientModel):  # pylint: disable=no-wizard-in-models  # the dashboard, not a wizard
    _inherit = "qbo.dashboard"

    reconciliation_differences = fields.Integer(related="company_id.qbo_reconciliation_differences",
                                                string="Differences with QuickBooks")
    reconciliation_date = fields.Datetime(related="company_id.qbo_reconciled_at", string="Last reconciled")
    reconciliation_message = fields.Char(related="company_id.qbo_reconciliation_message")

    def action_open_reconciliation(self):
        return self.env["ir.actions.act_window"]._for_xml_id("qbo_financial_hub.qbo_reconciliation_action")

    def action_reconcile_now(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        return self.company_id.action_qbo_reconcile()
