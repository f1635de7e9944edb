"""What QuickBooks administrators may change without being Odoo administrators.

Odoo lets only its administrators write companies, and only accounting managers write taxes,
payment terms and accounts. The QuickBooks settings of a company and the QuickBooks side of
those mappings are the QuickBooks administrator's job: a write that touches nothing else is
made for them, on records of the companies they work in (the app credentials and the tokens
stay with system administrators: they are not in any of these lists)."""
from odoo.exceptions import AccessError

MANAGER_GROUP = "qbo_financial_hub.group_qbo_manager"


def qbo_admin_write(records, vals, allowed, write):
    """`write(records, vals)` for a QuickBooks administrator when `vals` holds only fields of
    `allowed`; None when this is not such a write (the caller writes as usual)."""
    env = records.env
    if env.su or not vals or not set(vals) <= set(allowed) or not env.user.has_group(MANAGER_GROUP):
        return None
    if records._name == "res.company":
        if records - env.companies:
            raise AccessError(env._("You can change the QuickBooks settings only of a company you are working in."))
    else:
        records.check_access("read")
    return write(records.sudo(), vals)
