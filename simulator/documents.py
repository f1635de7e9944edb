"""QuickBooks' document endpoints on sales forms: GET /{entity}/{id}/pdf and POST /{entity}/{id}/send.

The PDF is a real, small PDF 1.4 file (one or more A4 pages, Courier) laid out from the stored record:
the company, the document's number and dates, the customer and billing address, the lines and the totals.
"""
import copy

from .errors import QBOError, required

DOCUMENT_ENTITIES = ("Invoice", "Estimate", "CreditMemo")
TITLES = {"Invoice": "INVOICE", "Estimate": "ESTIMATE", "CreditMemo": "CREDIT MEMO"}
PAGE_W, PAGE_H, MARGIN, LEADING = 595, 842, 50, 14


def accepts_pdf(accept):
    """QBO answers the PDF to a client that accepts it (python-quickbooks sends 'application/pdf, ...')."""
    if not accept:
        return True
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "application/pdf" in kinds or "*/*" in kinds or "application/*" in kinds


def _money(value):
    try:
        return "%.2f" % float(value)
    except (TypeError, ValueError):
        return ""


def _text_lines(entity, rec, company_name):
    lines = [(16, company_name), (14, "%s %s" % (TITLES[entity], rec.get("DocNumber", ""))), (10, "")]
    lines.append((10, "Date: %s" % rec.get("TxnDate", "")))
    if rec.get("DueDate"):
        lines.append((10, "Due date: %s" % rec["DueDate"]))
    if rec.get("ExpirationDate"):
        lines.append((10, "Expires: %s" % rec["ExpirationDate"]))
    lines.append((10, "Bill to: %s" % (rec.get("CustomerRef") or {}).get("name", "")))
    addr = rec.get("BillAddr") or {}
    for key in ("Line1", "Line2", "Line3", "Line4", "Line5"):
        if addr.get(key):
            lines.append((10, "         %s" % addr[key]))
    place = " ".join(str(addr[k]) for k in ("City", "CountrySubDivisionCode", "PostalCode", "Country") if addr.get(k))
    if place:
        lines.append((10, "         %s" % place))
    lines += [(10, ""), (10, "%-44s %8s %10s %12s" % ("Description", "Qty", "Rate", "Amount"))]
    for line in rec.get("Line") or []:
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail") or {}
            label = line.get("Description") or (detail.get("ItemRef") or {}).get("name", "")
            lines.append((10, "%-44s %8s %10s %12s" % (str(label)[:44], detail.get("Qty", ""),
                                                      _money(detail.get("UnitPrice")), _money(line.get("Amount")))))
        elif kind == "DiscountLineDetail":
            lines.append((10, "%-44s %8s %10s %12s" % ("Discount", "", "", "-" + _money(line.get("Amount")))))
        elif kind == "DescriptionOnly" and line.get("Description"):
            lines.append((10, "  %s" % str(line["Description"])[:80]))
        elif kind == "SubTotalLineDetail":
            lines.append((10, "%66s %12s" % ("Subtotal", _money(line.get("Amount")))))
    tax = (rec.get("TxnTaxDetail") or {}).get("TotalTax")
    if tax is not None:
        lines.append((10, "%66s %12s" % ("Tax", _money(tax))))
    lines.append((12, "%55s %12s %s" % ("Total", _money(rec.get("TotalAmt")), (rec.get("CurrencyRef") or {})
                                         .get("value", ""))))
    if entity == "Invoice":
        lines.append((10, "%66s %12s" % ("Balance due", _money(rec.get("Balance")))))
    memo = (rec.get("CustomerMemo") or {}).get("value")
    if memo:
        lines += [(10, ""), (10, str(memo)[:90])]
    return lines


def _escape(text):
    data = str(text).encode("latin-1", "replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render_pdf(entity, rec, company_name):
    """The bytes of a PDF showing one sales form."""
    pages, current, y = [], [], PAGE_H - MARGIN
    for size, text in _text_lines(entity, rec, company_name):
        if y < MARGIN + LEADING:
            pages.append(current)
            current, y = [], PAGE_H - MARGIN
        font = b"/F2" if size > 10 else b"/F1"
        current.append(b"BT %s %d Tf %d %d Td (%s) Tj ET" % (font, size, MARGIN, y, _escape(text)))
        y -= LEADING + (size - 10)
    pages.append(current)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
               b"<< /Title (%s %s) /Producer (QBO simulator) >>" % (TITLES[entity].encode(),
                                                                   _escape(rec.get("DocNumber", "")))]
    kids = []
    for ops in pages:
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (PAGE_W, PAGE_H, len(objects)))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf(company, entity, rid):
    with company.lock:
        rec = company.read(entity, rid)
        return render_pdf(entity, rec, company.info.get("CompanyName", ""))


def send(company, entity, rid, send_to):
    """E-mail a sales form: EmailStatus EmailSent, DeliveryInfo, BillEmail from sendTo; returns the record."""
    with company.lock:
        old = company.data[entity].get(str(rid))
        if old is None:
            company.read(entity, rid)   # raises QBO's not-found fault
        address = (send_to or "").strip() or (old.get("BillEmail") or {}).get("Address")
        if not address:
            raise required("BillEmail.Address", "sendTo")
        if "@" not in address or len(address) > 100 or any(c in address for c in " ,;"):
            raise QBOError("2050", "Invalid email address: %s" % address, "sendTo")
        rec = copy.deepcopy(old)
        rec["BillEmail"] = {"Address": address}
        rec["EmailStatus"] = "EmailSent"
        rec["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": company.clock.iso_seconds()}
        return company.replace(entity, rec, old)
