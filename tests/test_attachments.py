import base64
from unittest.mock import patch

from odoo.tests import tagged

from ..models import qbo_attachment
from ..simulator import attachments as sim_attachments
from .test_invoices import QboInvoiceCase

PDF = b"%PDF-1.4\n% an invoice PDF as Odoo issued it\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestInvoicePdfInQuickBooks(QboInvoiceCase):

    def setUp(self):
        super().setUp()
        self.company.qbo_attach_invoice_pdf = True

    def issued(self, move, content=PDF):
        """The PDF Odoo issued for the invoice (what Send & Print stores)."""
        self.env["ir.attachment"].create({
            "name": f"{move.name.replace('/', '_')}.pdf", "raw": content, "mimetype": "application/pdf",
            "res_model": "account.move", "res_id": move.id, "res_field": "invoice_pdf_report_file"})
        move.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])

    def attachables(self, move=None):
        company = self.sim._company(self.US_REALM)
        rows = list(company.data["Attachable"].values())
        if move:
            rows = sim_attachments.attached_to(company, "Invoice", move.qbo_id)
        return rows

    def test_attached_once_and_reattached_after_a_repush(self):
        move = self.invoice()
        self.issued(move)
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        [attachable] = self.attachables(move)
        self.assertEqual(attachable["AttachableRef"], [{"EntityRef": {"type": "Invoice", "value": move.qbo_id},
                                                        "IncludeOnSend": True}])
        self.assertEqual(attachable["ContentType"], "application/pdf")
        self.assertEqual(base64.b64decode(attachable["_Content"]), PDF, "the PDF Odoo issued, byte for byte")
        self.assertEqual(move.qbo_attachment_name, attachable["FileName"])
        self.assertEqual(move.qbo_state, "synced", "attaching leaves the invoice's badge alone")
        # the API never shows the file itself
        shown = self.sim._company(self.US_REALM).read("Attachable", attachable["Id"])
        self.assertNotIn("_Content", shown)
        self.assertEqual(shown["Size"], len(PDF))
        # a re-push (another due date) attaches the PDF again, in place of the first copy
        move.invoice_date_due = "2025-05-31"
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        attachables = self.attachables(move)
        self.assertEqual(len(attachables), 1, "never two copies")
        self.assertNotEqual(attachables[0]["Id"], attachable["Id"])
        self.assertEqual(len(self.attachables()), 1)
        jobs = self.env["qbo.job"].search([("res_model", "=", "account.move"), ("res_id", "=", move.id),
                                           ("operation", "=", "attach")])
        self.assertEqual(jobs.mapped("state"), ["done", "done"])

    def test_a_copy_removed_in_quickbooks_is_attached_again(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        [attachable] = self.attachables(move)
        self.sim._company(self.US_REALM).write("Attachable", {"Id": attachable["Id"], "SyncToken": attachable["SyncToken"]},
                                               "delete")
        move.action_qbo_push()
        self.drain()
        self.assertEqual(len(self.attachables(move)), 1)
        self.assertFalse(move.qbo_attachment_error)

    def test_lost_answer_is_not_attached_twice(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(len(self.attachables(move)), 1)
        job = self.env["qbo.job"].search([("res_id", "=", move.id), ("operation", "=", "attach")])
        # the same job sent again (its answer was lost): the requestid makes QuickBooks answer the same
        client = self.company._qbo_client()
        again = move.with_company(self.company)._qbo_attach_pdf(self.company, client,
                                                               requestid=f"{job.batch_ref}-{job.id}")
        self.assertEqual(len(self.attachables(move)), 1)
        self.assertEqual(again["Id"], self.attachables(move)[0]["Id"])

    def test_over_the_size_limit_is_refused_cleanly(self):
        move = self.invoice()
        self.issued(move, PDF + b"x" * 2048)
        with patch.object(qbo_attachment, "ATTACHMENT_MAX_BYTES", 1024):
            move.action_qbo_push()
            self.drain()
        self.assertEqual(move.qbo_state, "synced", "the invoice itself is in QuickBooks")
        self.assertFalse(self.attachables(), "nothing was uploaded")
        self.assertIn("larger than the 0 MB QuickBooks accepts", move.qbo_attachment_error)
        job = self.env["qbo.job"].search([("res_id", "=", move.id), ("operation", "=", "attach")])
        self.assertEqual((job.state, job.error_code), ("error", "too-large"))

    def test_switched_off_nothing_is_attached(self):
        self.company.qbo_attach_invoice_pdf = False
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertFalse(self.attachables())

    def test_simulator_refuses_an_unknown_invoice_and_shows_attachments(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        client = self.company._qbo_client()
        with self.assertRaises(Exception) as caught:
            client.upload("x.pdf", PDF, "application/pdf",
                          {"AttachableRef": [{"EntityRef": {"type": "Invoice", "value": "99999"}}]})
        self.assertIn("AttachableRef", str(caught.exception))
        import requests
        page = requests.get(f"{self.sim.url}/app/invoice?txnId={move.qbo_id}", timeout=10).text
        [attachable] = self.attachables(move)
        self.assertIn(attachable["FileName"], page)
        download = requests.get(f"{self.sim.url}/app/attachment?realmId={self.US_REALM}&id={attachable['Id']}",
                                timeout=10)
        self.assertEqual(download.content, base64.b64decode(attachable["_Content"]))
