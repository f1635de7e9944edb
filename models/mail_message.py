from markupsafe import Markup

from odoo import fields, models
from odoo.tools import plaintext2html

from .qbo_reason import reason_text


class MailMessage(models.Model):
    _inherit = "mail.message"

    qbo_reason = fields.Json(
        "QuickBooks reason", copy=False,
        help="A note of the QuickBooks connector as a sentence and its values: the chatter shows it in the "
             "reader's language; the body keeps the English text.")

    def _to_store(self, store, /, *, fields=None, **kwargs):
        super()._to_store(store, fields=fields, **kwargs)
        if fields is not None and "body" not in fields:
            return
        lang = self.env.lang
        for message in self.filtered("qbo_reason"):
            store.add(message, {"body": Markup(plaintext2html(reason_text(message.qbo_reason, lang)))})
