import uuid
from collections import defaultdict

from odoo import models

# Models whose records map to more than one QBO entity (account.move: Invoice and CreditMemo).
MULTI_ENTITY_MODELS = {"account.move"}


class QboJob(models.Model):
    """The engine sends a claimed chunk per model and reads the QBO entity from the records;
    a chunk holding invoices and credit notes is sent as one sub-chunk per kind, so each
    sub-chunk has one entity. A sub-chunk after the first gets a batch reference derived
    from the chunk's, so a replay after a crash uses the same requestids."""

    _inherit = "qbo.job"

    def _qbo_send(self, company, client):
        groups = defaultdict(lambda: self.browse())
        for job in self:
            groups[job.kind if job.res_model in MULTI_ENTITY_MODELS else ""] |= job
        if len(groups) <= 1:
            return super()._qbo_send(company, client)
        base = self[:1].batch_ref or uuid.uuid4().hex[:24]
        done = 0
        for index, kind in enumerate(sorted(groups)):
            jobs = groups[kind]
            ref = base if index == 0 else f"{base[:21]}-{index:02d}"
            if any(job.batch_ref != ref for job in jobs):
                jobs.write({"batch_ref": ref})
            done += super(QboJob, jobs)._qbo_send(company, client)
        return done
