"""QuickBooks classes and locations (QBO's Class and Department lists).

Odoo analytic accounts (or, for all accounts of a plan, the plan) map to classes and sales
teams to locations, per company. A document line's class is the mapped analytic account with
the largest share of its analytic distribution; a document's location is its sales team's.
Company defaults fill the gaps. What QuickBooks tracks is read from its preferences: classes
per transaction or per line, and locations."""
from odoo import fields, models

from .qbo_reason import _lt

CLASS_TRACKING = [("none", "Off"), ("txn", "One class per transaction"), ("line", "A class on each line")]


class AccountAnalyticAccount(models.Model):
    _inherit = "account.analytic.account"

    qbo_class_ref_id = fields.Many2one(
        "qbo.reference", string="QuickBooks class", company_dependent=True,
        domain="[('kind', '=', 'class'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks class of document lines that use this analytic account.")


class AccountAnalyticPlan(models.Model):
    _inherit = "account.analytic.plan"

    qbo_class_ref_id = fields.Many2one(
        "qbo.reference", string="QuickBooks class", company_dependent=True,
        domain="[('kind', '=', 'class'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks class of the plan's analytic accounts that have none of their own.")


class CrmTeam(models.Model):
    _inherit = "crm.team"

    qbo_department_ref_id = fields.Many2one(
        "qbo.reference", string="QuickBooks location", company_dependent=True,
        domain="[('kind', '=', 'department'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks location (Department) of the documents of this sales team.")


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_class_tracking = fields.Selection(CLASS_TRACKING, string="QuickBooks class tracking", default="none",
                                          readonly=True, help="Read from the QuickBooks company's preferences.")
    qbo_track_departments = fields.Boolean("QuickBooks tracks locations", readonly=True,
                                           help="Read from the QuickBooks company's preferences.")
    qbo_class_required = fields.Boolean(
        "Every document needs a class", default=True,
        help="When QuickBooks tracks classes, a document whose lines have no class (no mapped analytic account "
             "and no default class) is not pushed: the pre-flight check says which mapping is missing.")
    qbo_default_class_id = fields.Many2one("qbo.reference", string="Default class",
                                           domain="[('kind', '=', 'class'), ('company_id', '=', id)]")
    qbo_default_department_id = fields.Many2one("qbo.reference", string="Default location",
                                                domain="[('kind', '=', 'department'), ('company_id', '=', id)]")

    def _qbo_prefs_values(self, prefs):
        values = super()._qbo_prefs_values(prefs)
        accounting = prefs.get("AccountingInfoPrefs") or {}
        tracking = ("line" if accounting.get("ClassTrackingPerTxnLine")
                    else "txn" if accounting.get("ClassTrackingPerTxn") else "none")
        values.update({"qbo_class_tracking": tracking,
                       "qbo_track_departments": bool(accounting.get("TrackDepartments"))})
        return values


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_class_tracking = fields.Selection(related="company_id.qbo_class_tracking")
    qbo_track_departments = fields.Boolean(related="company_id.qbo_track_departments")
    qbo_class_required = fields.Boolean(related="company_id.qbo_class_required", readonly=False)
    qbo_default_class_id = fields.Many2one(related="company_id.qbo_default_class_id", readonly=False)
    qbo_default_department_id = fields.Many2one(related="company_id.qbo_default_department_id", readonly=False)


class QboSalesForm(models.AbstractModel):
    _inherit = "qbo.sales.form"

    def _qbo_line_class(self, distribution, company):
        """(class reference or None, analytic accounts of the line that have no class)."""
        Account = self.env["account.analytic.account"].with_company(company)
        shares = sorted(((float(share or 0.0), key) for key, share in (distribution or {}).items()), reverse=True)
        unmapped = Account.browse()
        for _share, key in shares:
            for account in Account.browse([int(i) for i in str(key).split(",") if i.isdigit()]).exists():
                ref = account.qbo_class_ref_id or account.plan_id.with_company(company).qbo_class_ref_id
                if ref:
                    return ref, unmapped
                unmapped |= account
        return None, unmapped

    def _qbo_item_lines(self):
        return [line for line in self._qbo_form_lines() if not line["display_type"]]

    def _qbo_classes(self, company):
        """[class reference or None] of the item lines, defaults applied."""
        default = company.qbo_default_class_id
        return [self._qbo_line_class(line.get("analytic"), company)[0] or default or None
                for line in self._qbo_item_lines()]

    def _qbo_department(self, company):
        team = self.team_id.with_company(company)
        return team.qbo_department_ref_id or company.qbo_default_department_id or None

    def _qbo_class_problems(self, company):
        """What is missing for a company whose QuickBooks requires classes."""
        if company.qbo_class_tracking == "none":
            return []
        problems = []
        classes = self._qbo_classes(company)
        if company.qbo_class_required:
            for line, ref in zip(self._qbo_item_lines(), classes):
                if ref:
                    continue
                _ref, unmapped = self._qbo_line_class(line.get("analytic"), company)
                label = line["name"] or _lt("(no description)")
                if unmapped:
                    problems.append(_lt(
                        "The analytic account %(a)s (line '%(l)s') has no QuickBooks class: map it, or its plan, "
                        "or set a default class.", a=", ".join(unmapped.mapped("display_name")), l=label))
                else:
                    problems.append(_lt(
                        "The line '%(l)s' has no QuickBooks class: give it a mapped analytic account or set a "
                        "default class.", l=label))
        if company.qbo_class_tracking == "txn" and len({ref.id for ref in classes if ref}) > 1:
            problems.append(_lt(
                "QuickBooks tracks one class per transaction, and the lines of this document map to several: %(c)s.",
                c=", ".join(dict.fromkeys(ref.name for ref in classes if ref))))
        return problems

    def _qbo_class_payload(self, company, payload):
        """ClassRef on the lines or the transaction, DepartmentRef on the transaction, as QuickBooks tracks them."""
        if company.qbo_class_tracking != "none":
            classes = self._qbo_classes(company)
            item_lines = [line for line in payload["Line"] if line["DetailType"] == "SalesItemLineDetail"]
            if company.qbo_class_tracking == "line":
                for qbo_line, ref in zip(item_lines, classes):
                    if ref:
                        qbo_line["SalesItemLineDetail"]["ClassRef"] = {"value": ref.qbo_id}
            elif any(classes):
                payload["ClassRef"] = {"value": next(ref for ref in classes if ref).qbo_id}
        department = self._qbo_department(company) if company.qbo_track_departments else None
        if department:
            payload["DepartmentRef"] = {"value": department.qbo_id}
        return payload
