"""Every button of the addon works when clicked.

The test finds every `<button type="object">` in the views as Odoo serves them to an
administrator (every extension applied, the smart button injected): form header and body
buttons, list header buttons, list row buttons, kanban cards and the lists inside a form. It
keeps those whose method this addon defines or overrides, finds a record of the fixture on which
the button shows (its `invisible` and its parents' evaluated as the web client does), and calls
the method as the web client does (`/web/dataset/call_button`): `call_kw` with the record's id,
or for a list header button with the selected ids (and with none, for `display="always"`), the
button's context merged in. The call must not raise, and what it returns must be an action the
client can run. A button shown on no record of the fixture fails the test too: give the fixture
a record it applies to."""
import logging
import re
from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.api import call_kw
from odoo.service.model import get_public_method
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.web.controllers.utils import clean_action

from .test_invoices import QboInvoiceCase

_logger = logging.getLogger(__name__)
MODULE = "qbo_financial_hub"
# run last: they end the connection the other buttons use
LAST = ("action_qbo_disconnect",)
NAMES = re.compile(r"\b[a-z_][a-z0-9_]*\b")


def addon_buttons(env):
    """[(root view, model, method, header?, display always?, [invisible expressions], context)]
    for every button of type object in the views this addon defines or extends, whose method
    the addon defines or overrides."""
    data = env["ir.model.data"].search([("module", "=", MODULE), ("model", "=", "ir.ui.view")])
    roots = env["ir.ui.view"]
    for view in env["ir.ui.view"].browse(data.mapped("res_id")):
        root = view
        while root.mode == "extension" and root.inherit_id:
            root = root.inherit_id
        roots |= root
    found = []
    for root in roots.sorted("id"):
        if root.type not in ("form", "list", "kanban"):
            continue
        arch = env[root.model].get_view(root.id, root.type)["arch"]
        _walk(env, root, root.model, etree.fromstring(arch), False, [], found)
    return [b for b in found if _ours(env, b[1], b[2])]


def _ours(env, model, method):
    """Defined or overridden by this addon (a method nobody defines is kept: its click fails)."""
    for cls in type(env[model]).mro():
        if method in vars(cls):
            return cls.__module__.startswith(f"odoo.addons.{MODULE}.")
    return True


def _walk(env, root, model, node, in_header, invisible, found):
    for child in node:
        if not isinstance(child.tag, str):
            continue
        conditions = invisible + ([child.get("invisible")] if child.get("invisible") else [])
        if child.tag == "button" and child.get("type") == "object" and child.get("name"):
            found.append((root, model, child.get("name"), in_header, child.get("display") == "always", conditions,
                          child.get("context")))
            continue
        if child.tag == "field" and len(child):
            field = env[model]._fields.get(child.get("name"))
            if field is not None and field.relational:
                # a list or form of the field's records: their own values decide
                _walk(env, root, field.comodel_name, child, False, [], found)
                continue
        _walk(env, root, model, child, in_header or (child.tag == "header" and node.tag == "list"), conditions,
              found)


def _values(record, expressions):
    """The names the expressions use, as the web client's evaluation context gives them."""
    values = {"id": record.id, "uid": record.env.uid, "context": dict(record.env.context),
              "True": True, "False": False, "None": None}
    for expression in expressions:
        for name in NAMES.findall(expression):
            field = record._fields.get(name)
            if field is None or name in values:
                continue
            value = record[name]
            if field.type == "many2one":
                value = value.id
            elif field.type in ("one2many", "many2many"):
                value = value.ids
            elif field.type in ("date", "datetime"):
                value = fields.Datetime.to_string(value) if value else False
            values[name] = value
    return values


def shown(record, conditions):
    values = _values(record, conditions)
    return not any(safe_eval(expression, dict(values)) for expression in conditions)


@tagged("post_install", "-at_install")
class TestEveryButton(QboInvoiceCase):
    """A fixture with a record of every kind in every state a button of the addon shows in."""

    def setUp(self):
        super().setUp()
        admin = self.env.ref("base.user_admin")
        for group in ("qbo_financial_hub.group_qbo_manager", "base.group_system", "account.group_account_manager",
                      "sales_team.group_sale_manager", "analytic.group_analytic_accounting"):
            admin.groups_id |= self.env.ref(group)
        self.company.write({"qbo_sync_payments": True})
        self.aenv = self.env(user=admin, context={"allowed_company_ids": [self.company.id]})
        # customers: synced, in error (a delivery address whose company is not in the hub)
        farm = self.env["res.partner"].create({"name": "Green Valley Farms", "is_company": True})
        self.barn = self.env["res.partner"].create({"name": "North Barn", "parent_id": farm.id, "type": "delivery",
                                                    "qbo_hub": "active"})
        # documents: pushed, posted but not pushed, draft; a quotation pushed, one not
        self.pushed = self.invoice()
        self.pushed.action_qbo_push()
        self.unpushed = self.invoice()
        self.draft = self.invoice(post=False)
        Order = self.env["sale.order"]
        line = [Command.create({"product_id": self.fitting.id, "product_uom_qty": 2, "price_unit": 45.5,
                                "tax_id": [Command.clear()]})]
        self.estimate = Order.create({"partner_id": self.customer.id, "order_line": line})
        self.estimate.action_qbo_push()
        self.quotation = Order.create({"partner_id": self.customer.id, "order_line": line})
        self.drain()
        self.assertEqual(self.pushed.qbo_state, "synced", self.pushed.qbo_error)
        self.assertEqual(self.barn.qbo_state, "error")
        # a payment of the pushed invoice, in QuickBooks
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.pushed.ids).create({"payment_date": "2025-03-20"})
        self.payment = wizard._create_payments()
        self.drain()
        self.assertEqual(self.payment.qbo_state, "synced", self.payment.qbo_error)
        # a QuickBooks invoice of the customer that the unpushed one can be linked to, and one of another total
        for number, amount in (("QB-77", self.unpushed.amount_total), ("QB-78", 1.0)):
            self.sim._company(self.US_REALM).write("Invoice", {
                "CustomerRef": {"value": self.customer.qbo_id}, "DocNumber": number, "TxnDate": "2025-03-14",
                "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount,
                          "SalesItemLineDetail": {"ItemRef": {"value": self.fitting.qbo_id}, "Qty": 1,
                                                  "UnitPrice": amount, "TaxCodeRef": {"value": "NON"}}}]})
        # imports: one that failed, one waiting
        Import = self.env["qbo.import"]
        self.imports = Import.create([{"company_id": self.company.id, "kind": "customer", "state": "error"},
                                      {"company_id": self.company.id, "kind": "product", "state": "queued"}])
        self.company._qbo_reconcile()
        self.env.flush_all()

    # ------------------------------------------------------------------------------
    # the records each button is tried on: (label, builder returning records)
    # ------------------------------------------------------------------------------
    def _link(self, record):
        return self.env["qbo.link"].search([("company_id", "=", self.company.id), ("res_model", "=", record._name),
                                            ("res_id", "=", record.id)])

    def _changed_in_quickbooks(self, record):
        self._link(record).write({"qbo_changed_fields": "DisplayName", "qbo_changed_at": fields.Datetime.now()})
        return record

    def _in_error(self, record):
        self._link(record).write({"state": "error", "error_message": "Refused"})
        return record

    def _voided_in_quickbooks(self):
        self._link(self.pushed).write({"qbo_status": "voided", "qbo_status_date": fields.Datetime.now()})
        return self.pushed

    def _company_flag(self, **vals):
        self.company.sudo().write(vals)
        return self.company

    def _wizard(self):
        action = self.unpushed.with_env(self.aenv).action_qbo_link_wizard()
        return self.aenv[action["res_model"]].browse(action["res_id"])

    def fixtures(self):
        env = self.aenv
        later = fields.Datetime.now() + timedelta(days=3)
        dashboard = [
            ("dashboard", lambda: env["qbo.dashboard"].create({})),
            ("dashboard, QuickBooks' lists never read", lambda: self._company_flag(qbo_references_date=False)
                and env["qbo.dashboard"].create({})),
            ("dashboard, reconnect needed", lambda: self._company_flag(qbo_state="reconnect")
                and env["qbo.dashboard"].create({})),
            ("dashboard, hard expiry soon", lambda: self._company_flag(qbo_refresh_token_hard_expires_at=later)
                and env["qbo.dashboard"].create({})),
            ("dashboard, changes not read for 30 days", lambda: self._company_flag(qbo_cdc_gap=True)
                and env["qbo.dashboard"].create({})),
        ]
        return {
            "res.partner": [("synced customer", lambda: self.customer),
                            ("customer in error", lambda: self.barn),
                            ("customer changed in QuickBooks", lambda: self._changed_in_quickbooks(self.customer))],
            "product.product": [("synced product", lambda: self.chair),
                                ("product changed in QuickBooks", lambda: self._changed_in_quickbooks(self.chair)),
                                ("product in error", lambda: self._in_error(self.fitting))],
            "product.template": [("template", lambda: self.chair.product_tmpl_id),
                                 ("template in error", lambda: self._in_error(self.fitting).product_tmpl_id)],
            "account.move": [("pushed invoice", lambda: self.pushed),
                             ("posted invoice not pushed", lambda: self.unpushed),
                             ("draft invoice", lambda: self.draft),
                             ("invoice voided in QuickBooks", self._voided_in_quickbooks)],
            "sale.order": [("quotation pushed", lambda: self.estimate),
                           ("quotation not pushed", lambda: self.quotation)],
            "account.payment": [("payment in QuickBooks", lambda: self.payment)],
            "qbo.payment": [("payment row", lambda: self.env["qbo.payment"].search(
                [("move_id", "=", self.payment.move_id.id)]))],
            "qbo.job": [("job in error", lambda: self.env["qbo.job"].search(
                            [("res_model", "=", "res.partner"), ("res_id", "=", self.barn.id), ("state", "=", "error")],
                            limit=1)),
                        ("job done", lambda: self.env["qbo.job"].search([("state", "=", "done")], limit=1))],
            "qbo.import": [("import in error", lambda: self.imports[0]),
                           ("import waiting", lambda: self.imports[1])],
            "qbo.dashboard": dashboard,
            "qbo.reconciliation.line": [("reconciliation rows", lambda: self.env["qbo.reconciliation.line"].search(
                [("company_id", "=", self.company.id), ("qbo_id", "!=", False)], limit=1))],
            "res.company": [("company", lambda: self.company),
                            ("company, changes not read for 30 days", lambda: self._company_flag(qbo_cdc_gap=True))],
            "res.config.settings": [("settings", lambda: env["res.config.settings"].create({})),
                                    ("settings, changes not read for 30 days", lambda: self._company_flag(
                                        qbo_cdc_gap=True) and env["res.config.settings"].create({}))],
            "account.move.qbo.link": [("link wizard", self._wizard)],
            "account.move.qbo.link.line": [
                ("a QuickBooks invoice of the same total", lambda: self._wizard().line_ids.filtered(
                    lambda line: line.doc_number == "QB-77")),
                ("a QuickBooks invoice of another total", lambda: self._wizard().line_ids.filtered(
                    lambda line: line.doc_number == "QB-78"))],
        }

    # ------------------------------------------------------------------------------
    def click(self, model, method, ids, button_context, values):
        """What /web/dataset/call_button does, then what the client does with the answer."""
        context = dict(self.aenv.context)
        if button_context:
            context.update(safe_eval(button_context, dict(values)))
        records = self.aenv[model]
        get_public_method(records, method)
        result = call_kw(records, method, [ids], {"context": context})
        if isinstance(result, dict) and result.get("type") != "":
            result = clean_action(result, env=self.aenv)
            kind = result["type"]
            if kind == "ir.actions.act_window":
                self.assertIn(result["res_model"], self.env, f"{model}.{method} opens an unknown model")
                if result.get("res_id"):
                    self.assertTrue(self.env[result["res_model"]].browse(result["res_id"]).exists(),
                                    f"{model}.{method} opens a record that does not exist")
            elif kind == "ir.actions.act_url":
                self.assertTrue(result.get("url"), f"{model}.{method} opens no URL")
            elif kind == "ir.actions.client":
                self.assertTrue(result.get("tag"), f"{model}.{method} runs a client action without a tag")
            else:
                self.assertIn(kind, ("ir.actions.act_window_close", "ir.actions.server", "ir.actions.report"),
                              f"{model}.{method} answers {result!r}")
        else:
            self.assertIn(result, (None, True, False), f"{model}.{method} answers {result!r}")
        return result

    def test_every_button(self):
        occurrences = {}
        for root, model, method, header, always, conditions, button_context in addon_buttons(self.aenv):
            occurrences.setdefault((model, method, header), []).append((root, always, conditions, button_context))
        self.assertGreater(len(occurrences), 40, "the views' buttons were found")
        fixtures = self.fixtures()
        problems = []
        for (model, method, header), places in sorted(occurrences.items(), key=lambda o: (o[0][1] in LAST, o[0])):
            where = f"{model}.{method}{' (list header)' if header else ''}"
            if model not in fixtures:
                problems.append(f"{where}: the fixture has no {model} record")
                continue
            clicked = False
            for label, build in fixtures[model]:
                savepoint = self.env.cr.savepoint()
                try:
                    records = build().with_env(self.aenv)
                    self.assertTrue(records, f"fixture '{label}' is empty")
                    record = records[:1]
                    place = next((p for p in places if header or shown(record, p[2])), None)
                    if not place:
                        continue
                    _root, always, _conditions, button_context = place
                    values = _values(record, [button_context or ""])
                    with self.subTest(button=where, record=label):
                        self.click(model, method, records.ids if header else record.ids, button_context, values)
                        if header and always:
                            self.click(model, method, [], button_context, values)
                        self.env.flush_all()
                    clicked = True
                    break
                finally:
                    savepoint.close(rollback=True)
                    self.env.invalidate_all(flush=False)
            if not clicked:
                views = ", ".join(sorted({p[0].xml_id or p[0].name for p in places}))
                problems.append(f"{where} in {views}: shown on no record of the fixture "
                                f"({', '.join(label for label, _build in fixtures[model])})")
        self.assertFalse(problems, "\n".join(problems))
        _logger.info("%s buttons clicked as the web client does", len(occurrences))
