"""The QuickBooks smart button, added to the button box of every form of a model that carries
it: the record's state in QuickBooks, and a click that opens the record there (or on the
simulator's page). A model gets it by inheriting `qbo.smart.button` (qbo.sync.mixin does) and
having the fields qbo_state and qbo_url; `_qbo_button_invisible` says when it is hidden."""
from lxml import etree

from odoo import api, models

from .qbo_rights import USER_GROUP, check_company_action

BUTTON = """
<button name="action_qbo_open" type="object" class="oe_stat_button o_qbo_smart_button" icon="fa-external-link"
        groups="qbo_financial_hub.group_qbo_user">
    <div class="o_stat_info">
        <span class="o_stat_text">QuickBooks</span>
        <span class="o_stat_value">
            <field name="qbo_state" readonly="1" decoration-success="qbo_state == 'synced'"
                   decoration-danger="qbo_state == 'error'" decoration-info="qbo_state == 'queued'"/>
        </span>
    </div>
</button>
"""


class QboSmartButton(models.AbstractModel):
    _name = "qbo.smart.button"
    _description = "QuickBooks smart button"

    # a domain expression of the form: when the button is hidden
    _qbo_button_invisible = "qbo_state == 'none' or not id"

    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type == "form":
            box = arch.xpath("//div[@name='button_box']")
            if box and not box[0].xpath(".//button[@name='action_qbo_open']"):
                button = etree.fromstring(BUTTON)
                button.set("invisible", self._qbo_button_invisible)
                box[0].insert(0, button)
        return arch, view

    def action_qbo_open(self):
        """Open the record in QuickBooks; without a QuickBooks id yet, say where it stands."""
        self.ensure_one()
        check_company_action(self.env, self.env.company, self, group=USER_GROUP)
        if self.qbo_url:
            return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"}
        messages = {"queued": self.env._("Queued: it is sent to QuickBooks in a moment."),
                    "none": self.env._("Not in QuickBooks.")}
        message = self.qbo_error or messages.get(self.qbo_state) or self.env._("Not in QuickBooks yet.")
        return self.env.company._qbo_notify(self.env._("QuickBooks"), message,
                                            "danger" if self.qbo_state == "error" else "info")
