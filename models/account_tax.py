from odoo import api, fields, models

from .qbo_rights import qbo_admin_write
from .qbo_reason import _lt, as_text

# Two rates are the same when they agree to this many decimals of a percent.
RATE_DIGITS = 4


class AccountTax(models.Model):
    _inherit = "account.tax"

    qbo_tax_code_ref_id = fields.Many2one(
        "qbo.reference", check_company=True, string="QuickBooks tax code", copy=False,
        domain="[('kind', '=', 'taxcode'), ('company_id', '=', company_id)]",
        help="The QuickBooks Online tax code sent on invoice lines that carry this tax. A group of "
             "taxes may be mapped as a whole, or left empty when its children are mapped and "
             "QuickBooks has a code combining their rates (e.g. GST/PST BC for GST 5% + PST BC 7%).")
    qbo_tax_code_used_id = fields.Many2one(
        "qbo.reference", string="QuickBooks code used", compute="_compute_qbo_tax_code_used",
        help="The QuickBooks tax code lines with this tax are sent with: its own mapping, or for a "
             "group the QuickBooks code that combines the codes of its children.")
    qbo_tax_code_problem = fields.Char("QuickBooks mapping problem", compute="_compute_qbo_tax_code_used")

    @api.depends("qbo_tax_code_ref_id", "children_tax_ids.qbo_tax_code_ref_id", "amount_type")
    def _compute_qbo_tax_code_used(self):
        for tax in self:
            code, problem = tax._qbo_line_code(tax.company_id)
            tax.qbo_tax_code_used_id = code
            tax.qbo_tax_code_problem = as_text(problem, self.env.lang)

    # ------------------------------------------------------------------------------
    def _qbo_leaves(self):
        """The taxes Odoo computes (groups replaced by their children), in Odoo's order."""
        return self.flatten_taxes_hierarchy()

    def _qbo_percent(self):
        """Percent a leaf tax charges on the net price, or None (fixed and code taxes)."""
        self.ensure_one()
        return self.amount if self.amount_type in ("percent", "division") else None

    def _qbo_line_code(self, company):
        """(QuickBooks tax code, problem) for a line carrying these taxes: the one code they map
        to, directly or through the children of a group, or a code of the QuickBooks company whose
        rates are exactly the union of the rates of the codes they map to (QuickBooks takes one
        code per line). An empty recordset and no problem for a line without tax."""
        Ref = self.env["qbo.reference"]
        if not self:
            return Ref, None
        codes = Ref
        for tax in self:
            if tax.qbo_tax_code_ref_id:
                codes |= tax.qbo_tax_code_ref_id
            elif tax.amount_type == "group" and tax.children_tax_ids:
                unmapped = tax.children_tax_ids.filtered(lambda t: not t.qbo_tax_code_ref_id)
                if unmapped:
                    return Ref, _lt(
                        "The tax %(t)s has no QuickBooks tax code, nor have its children %(c)s.",
                        t=tax.name, c=", ".join(unmapped.mapped("name")))
                codes |= tax.children_tax_ids.qbo_tax_code_ref_id
            else:
                return Ref, _lt("The tax %(t)s has no QuickBooks tax code in the mapping.", t=tax.name)
        if len(codes) == 1:
            return codes, None
        if company.sudo().qbo_tax_model == "us":
            return Ref, _lt("QuickBooks (US) applies one sales tax per transaction, and these taxes map to "
                                   "several: %(c)s.", c=", ".join(codes.mapped("name")))
        wanted = set()
        for code in codes:
            wanted |= {r["id"] for r in code._qbo_rates()}
        combined = Ref.search([("company_id", "=", company.id), ("kind", "=", "taxcode")]).filtered(
            lambda r: {rate["id"] for rate in r._qbo_rates()} == wanted)
        if combined:
            return combined[:1], None
        return Ref, _lt("QuickBooks takes one tax code per line, and no QuickBooks code combines %(c)s "
                               "(for %(t)s): create one in QuickBooks and press Refresh lists, or map the "
                               "group to a code.", c=", ".join(codes.mapped("name")), t=", ".join(self.mapped("name")))

    def write(self, vals):
        # the QuickBooks side of the mapping is the QuickBooks administrator's to set
        done = qbo_admin_write(self, vals, {"qbo_tax_code_ref_id"}, lambda records, v: super(AccountTax, records).write(v))
        return super().write(vals) if done is None else done
