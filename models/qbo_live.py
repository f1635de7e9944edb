"""Live screens: what changed in QuickBooks' queue or an import is announced on Odoo's bus,
so that the dashboard, the lists' badges and the import progress redraw without a reload
(static/src/js/qbo_live.js), and a failed push tells its user once, with a link to the record."""
import time
from collections import defaultdict

from odoo import api, models

from .qbo_reason import reason_json, reason_text

UPDATE = "qbo_financial_hub/update"
FAILED = "qbo_financial_hub/failed"
NOTIFY = "qbo_financial_hub/notify"
MAX_LINKS = 5
# screens that show the QuickBooks state of records of another model
SHOWN_ON = {"qbo.payment": ("account.payment",), "product.product": ("product.template",)}


class QboLive(models.AbstractModel):
    _name = "qbo.live"
    _description = "QuickBooks live updates"

    @api.model
    def _qbo_company_users(self, company):
        group = self.env.ref("qbo_financial_hub.group_qbo_user", raise_if_not_found=False)
        if not group:
            return self.env["res.users"]
        return self.env["res.users"].sudo().search([("groups_id", "in", group.ids), ("company_ids", "in", company.ids),
                                                    ("share", "=", False)])

    @api.model
    def _qbo_broadcast(self, company, res_models):
        """Tell the QuickBooks users of `company` that records of `res_models` changed (sent
        when the transaction commits)."""
        res_models = set(res_models) | {"qbo.dashboard", "qbo.job"}
        res_models = sorted(res_models.union(*(SHOWN_ON.get(model, ()) for model in res_models)))
        for user in self._qbo_company_users(company):
            user._bus_send(UPDATE, {"company_id": company.id, "models": res_models})

    @api.model
    def _qbo_toast(self, user, payload):
        """A notification for the pages `user` has open. It carries when it was sent: a page
        opened later does not show it (Odoo's bus hands a new page the last 50 seconds of
        messages, so "Linked to QuickBooks" came back in a new browser session)."""
        user._bus_send(NOTIFY, dict(payload, sent_at=time.time()))

    @api.model
    def _qbo_notify_failed(self, entries):
        """entries: [(user, res_model, res_id, record name, message)]; one notification per user,
        each failed record a button that opens it."""
        by_user = defaultdict(list)
        for user, res_model, res_id, name, message in entries:
            by_user[user].append({"model": res_model, "id": res_id, "name": name, "message": message})
        for user, records in by_user.items():
            if not user.exists() or user._is_superuser() or user._is_public():
                continue
            # the worker that failed has no language: each user reads it in theirs
            env = self.with_context(lang=user.lang).env
            records = [dict(r, message=reason_text(reason_json(r["message"]), user.lang)) for r in records[:MAX_LINKS + 1]]
            user._bus_send(FAILED, {
                "title": env._("QuickBooks push failed"),
                "message": "\n".join(f"{r['name']}: {r['message']}" for r in records[:MAX_LINKS])
                           + ("\n…" if len(records) > MAX_LINKS else ""),
                "records": records[:MAX_LINKS],
                "open_label": env._("Open"),
                "sent_at": time.time(),
            })
