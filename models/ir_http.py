import time

from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        """When the page was served: the QuickBooks notifications sent before it are not shown
        again on it (static/src/js/qbo_live.js)."""
        info = super().session_info()
        info["qbo_page_time"] = time.time()
        return info
