"""Company walls for code that runs as superuser (the queue engine, imports).

Odoo's multi-company record rules are global rules (no group) whose domain uses
`company_ids`. Evaluated for one company alone, they say which records that company may hold,
whoever runs the code: a product of company B is never pushed to company A's QuickBooks, a
partner private to company B is never matched or linked by company A's import."""
from collections import defaultdict

from odoo import models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval


def company_domain(env, model_name, company, mode="read"):
    """The domain of the records of `model_name` that `company` may hold: the model's global
    record rules (and those of its `_inherits` parents), evaluated with `company` as the only
    allowed company. [] when the model has no such rule."""
    env = env(su=True, context=dict(env.context, allowed_company_ids=[company.id]))
    domains = []
    for parent_model, parent_field in env[model_name]._inherits.items():
        parent_domain = company_domain(env, parent_model, company, mode)
        if parent_domain:
            domains.append([(parent_field, "any", parent_domain)])
    rules = env["ir.rule"].search([("model_id.model", "=", model_name), ("global", "=", True),
                                   (f"perm_{mode}", "=", True)])
    if rules:
        eval_context = env["ir.rule"]._eval_context()
        for rule in rules:
            domains.append(expression.normalize_domain(
                safe_eval(rule.domain_force, eval_context) if rule.domain_force else []))
    return expression.AND(domains) if domains else []


def within_company(records, company):
    """The part of `records` (any model) that `company` may hold."""
    if not records:
        return records
    domain = company_domain(records.env, records._name, company)
    if not domain:
        return records
    allowed = records.sudo().with_context(active_test=False).search([("id", "in", records.ids)] + domain)
    return records.browse([rid for rid in records.ids if rid in set(allowed.ids)])


def check_record_company(rows):
    """Constraint of rows that point at a record (`res_model`, `res_id`) for a company: the
    record is one that company may hold (one query per company and model)."""
    groups = defaultdict(set)
    for row in rows:
        if row.res_model in row.env and row.res_id:
            groups[(row.company_id, row.res_model)].add(row.res_id)
    for (company, model), ids in groups.items():
        records = rows.env[model].browse(ids).exists()
        foreign = records - within_company(records, company)
        if foreign:
            raise ValidationError(rows.env._("%(model)s %(ids)s belongs to another company than %(company)s.",
                                             model=model, ids=", ".join(map(str, foreign.ids[:5])),
                                             company=company.name))


class QboCompanyWalled(models.AbstractModel):
    """For the addon's models with company-checked relations: Odoo's message for a record of
    another company names that record, which the user may not be allowed to read; this one
    names only the field."""

    _name = "qbo.company.walled"
    _description = "QuickBooks record checked against other companies' records"

    def _check_company(self, fnames=None):
        try:
            return super()._check_company(fnames)
        except UserError:
            raise UserError(self.env._("A record of another company cannot be used here (%(fields)s).",
                                       fields=", ".join(fnames or ["company"]))) from None
