from collections import defaultdict

from odoo import models

from ..models.qbo_reason import _lt, log_note


class MergePartnerAutomatic(models.TransientModel):
    """Odoo's partner merge keeps one QuickBooks link per company, on the surviving partner.

    When only absorbed partners are linked, the survivor takes the link of the first of them.
    Every other QuickBooks customer of an absorbed partner is made inactive in QuickBooks (the
    survivor's chatter names it): QuickBooks keeps one active customer for one Odoo partner."""
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        partners = self.env["res.partner"].browse(partner_ids).exists()
        Link = self.env["qbo.link"].sudo()
        before = Link.search([("res_model", "=", "res.partner"), ("res_id", "in", partners.ids),
                              ("qbo_id", "!=", False)], order="id")
        snapshot = [{"company_id": link.company_id, "res_id": link.res_id, "qbo_id": link.qbo_id,
                     "qbo_sync_token": link.qbo_sync_token, "qbo_name": link.qbo_name, "name_clash": link.name_clash,
                     "last_sync": link.last_sync} for link in before]
        names = {partner.id: partner.display_name for partner in partners}
        res = super()._merge(partner_ids, dst_partner, extra_checks)
        survivor = partners.exists()
        if len(survivor) != 1 or not snapshot:
            return res
        by_company = defaultdict(list)
        for values in snapshot:
            by_company[values["company_id"]].append(values)
        retirements = []
        for company, entries in by_company.items():
            link = Link.search([("company_id", "=", company.id), ("res_model", "=", "res.partner"),
                                ("res_id", "=", survivor.id)])
            absorbed = [v for v in entries if v["res_id"] != survivor.id]
            if not (link and link.qbo_id) and absorbed:
                kept = absorbed.pop(0)
                values = {k: kept[k] for k in ("qbo_id", "qbo_sync_token", "qbo_name", "name_clash", "last_sync")}
                values.update(state="synced", error_code=False, error_message=False)
                if link:
                    link.write(values)
                else:
                    Link.create(dict(values, company_id=company.id, res_model="res.partner", res_id=survivor.id))
                log_note(survivor, _lt(
                    "Merged %(name)s: its QuickBooks customer %(qbo)s (id %(id)s) is now this partner's.",
                    name=names.get(kept["res_id"]), qbo=kept["qbo_name"] or "-", id=kept["qbo_id"]))
            for entry in absorbed:
                if not company.qbo_enabled:
                    continue
                retirements.append({"company_id": company.id, "res_model": "res.partner", "res_id": entry["res_id"],
                                    "kind": "customer", "operation": "delete", "qbo_id": entry["qbo_id"],
                                    "level": 0})
                log_note(survivor, _lt(
                    "Merged %(name)s: its QuickBooks customer %(qbo)s (id %(id)s) is made inactive in QuickBooks.",
                    name=names.get(entry["res_id"]), qbo=entry["qbo_name"] or "-", id=entry["qbo_id"]))
        survivor._qbo_queue_retirements(retirements)
        return res
