import json

from odoo import api, fields, models

# The QBO list entities cached per company, with the Odoo name of each kind.
REFERENCE_KINDS = [
    ("term", "Term"),
    ("taxcode", "Tax code"),
    ("account", "Account"),
    ("class", "Class"),
    ("department", "Location"),
]
QBO_ENTITY_BY_KIND = {"term": "Term", "taxcode": "TaxCode", "account": "Account", "class": "Class",
                      "department": "Department"}


class QboReference(models.Model):
    """A row of one of QuickBooks Online's own lists (terms, tax codes, accounts), cached per
    company so that mappings can offer QBO's names in drop-downs. Rows that vanish from QBO are
    archived, never deleted, so that existing mappings keep pointing somewhere meaningful."""

    _name = "qbo.reference"
    _description = "QuickBooks Online list entry"
    _order = "kind, name"
    _rec_names_search = ["name", "qbo_id"]

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    kind = fields.Selection(REFERENCE_KINDS, required=True, index=True)
    qbo_id = fields.Char("QuickBooks Id", required=True)
    name = fields.Char(required=True)
    active = fields.Boolean(default=True, help="Inactive in QuickBooks, or no longer returned by it.")
    account_type = fields.Char(help="QuickBooks account type, for accounts.")
    rate = fields.Float("Rate (%)", digits=(16, 4), help="Total sales rate, for tax codes.")
    taxable = fields.Boolean(help="For tax codes: whether the code charges tax.")
    tax_rates = fields.Text(help="For tax codes: the QuickBooks sales rates of the code, as JSON "
                                 "[{id, name, rate}] (a group code such as GST/PST BC has several).")
    due_days = fields.Integer(help="For terms: days until due.")

    _sql_constraints = [
        ("qbo_reference_unique", "unique(company_id, kind, qbo_id)",
         "A QuickBooks list entry is cached once per company."),
    ]

    @api.depends("name", "qbo_id", "kind", "rate", "account_type")
    def _compute_display_name(self):
        for ref in self:
            label = ref.name or ""
            if ref.kind == "taxcode" and ref.rate:
                label = f"{label} ({ref.rate:g}%)"
            elif ref.kind == "account" and ref.account_type:
                label = f"{label} [{ref.account_type}]"
            ref.display_name = label

    def _qbo_rates(self):
        """[{id, name, rate}] of a tax code, in QuickBooks' order."""
        self.ensure_one()
        try:
            return json.loads(self.tax_rates or "[]")
        except ValueError:
            return []

    # ------------------------------------------------------------------------------
    @api.model
    def _qbo_import(self, company):
        """Refresh the cached QBO lists of `company` (terms, tax codes with their rates,
        accounts) and its country, tax model and currency. Entries QBO no longer returns
        are archived, so mappings that point at them stay readable and are reported."""
        company.ensure_one()
        client = company._qbo_client()
        company._qbo_fetch_company_info()
        rate_rows = {r["Id"]: r for r in client.query_all("TaxRate")}
        rates = {rid: float(r.get("RateValue") or 0.0) for rid, r in rate_rows.items()}
        rows = {"term": [], "taxcode": [], "account": [], "class": [], "department": []}
        for term in client.query_all("Term"):
            rows["term"].append({"qbo_id": term["Id"], "name": term.get("Name"),
                                 "active": term.get("Active", True), "due_days": term.get("DueDays") or 0})
        for code in client.query_all("TaxCode"):
            details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
            rate_ids = [(d.get("TaxRateRef") or {}).get("value") for d in details]
            rate = sum(rates.get(rid, 0.0) for rid in rate_ids)
            code_rates = json.dumps([{"id": rid, "name": (rate_rows.get(rid) or {}).get("Name") or rid,
                                      "rate": rates.get(rid, 0.0)} for rid in rate_ids if rid])
            rows["taxcode"].append({"qbo_id": code["Id"], "name": code.get("Name"), "rate": rate,
                                    "tax_rates": code_rates,
                                    "active": code.get("Active", True),
                                    "taxable": bool(code.get("Taxable", rate > 0))})
        for account in client.query_all("Account"):
            rows["account"].append({"qbo_id": account["Id"], "name": account.get("FullyQualifiedName") or account.get("Name"),
                                    "active": account.get("Active", True), "account_type": account.get("AccountType")})
        for kind in ("class", "department"):
            for entry in client.query_all(QBO_ENTITY_BY_KIND[kind]):
                rows[kind].append({"qbo_id": entry["Id"], "name": entry.get("FullyQualifiedName") or entry.get("Name"),
                                   "active": entry.get("Active", True)})
        existing = self.with_context(active_test=False).search([("company_id", "=", company.id)])
        by_key = {(r.kind, r.qbo_id): r for r in existing}
        seen = self.browse()
        to_create = []
        for kind, entries in rows.items():
            for vals in entries:
                ref = by_key.get((kind, vals["qbo_id"]))
                if ref:
                    changed = {k: v for k, v in vals.items() if ref[k] != v}
                    if changed:
                        ref.write(changed)
                    seen |= ref
                else:
                    to_create.append(dict(vals, kind=kind, company_id=company.id))
        self.create(to_create)
        (existing - seen).filtered("active").write({"active": False})
        company.sudo().qbo_references_date = fields.Datetime.now()
        return True
