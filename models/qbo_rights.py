"""What QuickBooks administrators may change without being Odoo administrators.

Odoo lets only its administrators write companies, and only accounting managers write taxes,
payment terms and accounts. The QuickBooks settings of a company and the QuickBooks side of
those mappings are the QuickBooks administrator's job: a write that touches nothing else is
made for them, on records of the companies they work in (the app credentials and the tokens
stay with system administrators: they are not in any of these lists)."""
from odoo.exceptions import AccessError

MANAGER_GROUP = "qbo_financial_hub.group_qbo_manager"
USER_GROUP = "qbo_financial_hub.group_qbo_user"


def check_company_action(env, companies, records=None, group=MANAGER_GROUP, message=None):
    """The wall of every button and RPC method of the addon, checked before any sudo(): the
    user is in `group`, works in every company of `companies` (the ones the action reads from
    or writes to QuickBooks for: a company switched to, not merely allowed), and may read
    `records` (the records the action is called on). Refused with an AccessError that names
    nothing of the other company."""
    if env.su:
        return
    if group and not env.user.has_group(group):
        if message:
            raise AccessError(message)
        if group == MANAGER_GROUP:
            raise AccessError(env._("Only QuickBooks administrators can do this."))
        raise AccessError(env._("Only QuickBooks users can do this."))
    # nothing to act on, or records of no company: the action is for the current company
    companies = companies.sudo().exists() if companies is not None and companies.ids else env.company
    if not companies or companies - env.companies:
        raise AccessError(env._("You can act only on a company you are working in: switch to it first."))
    if records is not None and records:
        records.check_access("read")


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


# where the tokens and the app's secret go, and whose QuickBooks company this is: set by system
# administrators (or by the OAuth callback, as superuser), never by a QuickBooks administrator alone
SYSTEM_FIELDS = frozenset({"qbo_environment", "qbo_custom_url", "qbo_realm_id"})
SYSTEM_GROUP = "base.group_system"


def check_system_write(env, vals, fields=SYSTEM_FIELDS):
    """Refuse a write of `vals` that sets one of `fields` unless the user is a system administrator."""
    if env.su or not set(vals) & fields or env.user.has_group(SYSTEM_GROUP):
        return
    raise AccessError(env._("Only system administrators can change where QuickBooks is reached "
                            "(environment, custom URL) and which QuickBooks company is connected."))
