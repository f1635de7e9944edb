"""HTML pages: the consent page, the dashboard at / and one page per record."""
import copy
import html
import json
from urllib.parse import parse_qs, urlencode

from .errors import QBOError
from .money import money, num, out

from . import attachments

STYLE = """<style>
body{font-family:Arial,Helvetica,sans-serif;margin:20px;color:#222;background:#f4f5f8}
h1{color:#2ca01c}h2{border-bottom:2px solid #2ca01c;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0 18px;background:#fff;font-size:13px}
th,td{border:1px solid #ccd;padding:3px 8px;text-align:left}th{background:#e8f5e4}
.inactive{color:#999}.err{color:#b00}.box{background:#fff;padding:16px;border-radius:6px;max-width:640px}
button{background:#2ca01c;color:#fff;border:0;padding:8px 18px;border-radius:4px;font-size:15px}
button.cancel{background:#888}pre{background:#fff;padding:10px;overflow:auto}
</style>"""

ENTITY_PAGES = {"invoice": "Invoice", "estimate": "Estimate", "creditmemo": "CreditMemo",
                "payment": "Payment", "customerdetail": "Customer", "item": "Item", "bill": "Bill",
                "vendorcredit": "VendorCredit", "billpayment": "BillPayment", "vendordetail": "Vendor"}


def esc(value):
    return html.escape("" if value is None else str(value))


def page(title, body, refresh=None):
    meta = '<meta http-equiv="refresh" content="%d">' % refresh if refresh else ""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>%s<title>%s</title>%s</head><body>%s</body></html>"
            % (meta, esc(title), STYLE, body))


def error_page(message):
    return page("Error - QuickBooks Simulator",
                "<h1>QuickBooks Simulator</h1><div class='box'><h2 class='err'>We can't connect this app</h2>"
                "<p class='err'>%s</p></div>" % esc(message))


def consent_page(params, companies):
    hidden = "".join("<input type='hidden' name='%s' value='%s'>" % (esc(k), esc(v)) for k, v in params.items()
                     if k in ("client_id", "redirect_uri", "state", "scope", "response_type"))
    choices = "".join("<p><label><input type='radio' name='realmId' value='%s'%s> %s (%s)</label></p>"
                      % (esc(realm), " checked" if i == 0 else "", esc(name), esc(realm))
                      for i, (realm, name) in enumerate(companies))
    body = ("<h1>QuickBooks Simulator</h1><div class='box'><h2>Connect to an app</h2>"
            "<p>The app <b>%s</b> wants to access your QuickBooks company data (%s).</p>"
            "<form method='post' action='/connect/oauth2'>%s<p>Choose a company:</p>%s"
            "<button type='submit' name='action' value='connect'>Connect</button> "
            "<button class='cancel' type='submit' name='action' value='cancel'>Cancel</button>"
            "</form></div>" % (esc(params.get("client_id")), esc(params.get("scope")), hidden, choices))
    return page("Connect - QuickBooks Simulator", body)


def _table(headers, rows):
    head = "".join("<th>%s</th>" % esc(h) for h in headers)
    body = "".join("<tr%s>%s</tr>" % (cls, "".join("<td>%s</td>" % cell for cell in cells))
                   for cls, cells in rows)
    return "<table><tr>%s</tr>%s</table>" % (head, body or "<tr><td colspan=%d>none</td></tr>" % len(headers))


def _ref(rec, key):
    ref = rec.get(key) or {}
    return ref.get("name") or ref.get("value") or ""


def record_link(realm, entity, rec, text=None):
    url = "/company/%s/%s/%s" % (realm, entity.lower(), rec["Id"])
    return "<a href='%s'>%s</a>" % (esc(url), esc(text if text is not None else rec["Id"]))


def _row(rec, cells):
    return (" class='inactive'" if rec.get("Active") is False else "", cells)


def company_section(realm, name, company):
    data = company.data
    parts = ["<h2>%s <small>(realm %s, %s)</small></h2>" % (esc(name), esc(realm), esc(company.home_currency))]
    customers = [_row(c, [record_link(realm, "Customer", c), esc(c.get("FullyQualifiedName")),
                          esc(c.get("CompanyName")), esc((c.get("PrimaryEmailAddr") or {}).get("Address")),
                          esc(c.get("Active")), esc(c.get("Balance")), esc(c.get("SyncToken"))])
                 for c in data["Customer"].values()]
    parts.append("<h3>Customers</h3>" + _table(
        ["Id", "Name", "Company", "Email", "Active", "Balance", "SyncToken"], customers))
    items = [_row(i, [record_link(realm, "Item", i), esc(i.get("Name")), esc(i.get("Type")), esc(i.get("Sku")),
                      esc(i.get("UnitPrice")), esc(i.get("Active")), esc(i.get("SyncToken"))])
             for i in data["Item"].values()]
    parts.append("<h3>Products and services</h3>" + _table(
        ["Id", "Name", "Type", "Sku", "Price", "Active", "SyncToken"], items))
    for entity, title in (("Invoice", "Invoices"), ("Estimate", "Estimates"), ("CreditMemo", "Credit memos")):
        rows = [("", [record_link(realm, entity, t), esc(t.get("DocNumber")), esc(_ref(t, "CustomerRef")),
                      esc(t.get("TxnDate")), esc(_ref(t, "CurrencyRef")),
                      esc((t.get("TxnTaxDetail") or {}).get("TotalTax")), esc(t.get("TotalAmt")),
                      esc(t.get("Balance", t.get("TxnStatus", ""))), esc(t.get("PrivateNote", ""))])
                for t in data[entity].values()]
        parts.append("<h3>%s</h3>" % title + _table(
            ["Id", "No.", "Customer", "Date", "Currency", "Tax", "Total", "Balance/Status", "Note"], rows))
    payments = [("", [record_link(realm, "Payment", p), esc(_ref(p, "CustomerRef")), esc(p.get("TxnDate")),
                      esc(p.get("TotalAmt")), esc(p.get("UnappliedAmt"))]) for p in data["Payment"].values()]
    parts.append("<h3>Payments</h3>" + _table(["Id", "Customer", "Date", "Amount", "Unapplied"], payments))
    parts.append(payables_section(realm, company))
    return "".join(parts)


def payables_section(realm, company):
    """Vendors, bills, vendor credits and bill payments of a company."""
    data, parts = company.data, []
    vendors = [_row(v, [record_link(realm, "Vendor", v), esc(v.get("DisplayName")), esc(v.get("CompanyName")),
                        esc(_ref(v, "CurrencyRef")), esc(v.get("Active")), esc(v.get("Balance")),
                        esc(v.get("SyncToken"))]) for v in data["Vendor"].values()]
    parts.append("<h3>Vendors</h3>" + _table(["Id", "Name", "Company", "Currency", "Active", "Balance", "SyncToken"],
                                             vendors))
    for entity, title in (("Bill", "Bills"), ("VendorCredit", "Vendor credits")):
        rows = [("", [record_link(realm, entity, t), esc(t.get("DocNumber")), esc(_ref(t, "VendorRef")),
                      esc(t.get("TxnDate")), esc(t.get("DueDate", "")), esc(_ref(t, "CurrencyRef")),
                      esc((t.get("TxnTaxDetail") or {}).get("TotalTax", "")), esc(t.get("TotalAmt")),
                      esc(t.get("Balance")), esc(t.get("PrivateNote", ""))]) for t in data[entity].values()]
        parts.append("<h3>%s</h3>" % title + _table(
            ["Id", "No.", "Vendor", "Date", "Due", "Currency", "Tax", "Total", "Balance", "Note"], rows))
    rows = []
    for pay in data["BillPayment"].values():
        block = pay.get("CheckPayment") or pay.get("CreditCardPayment") or {}
        account = block.get("BankAccountRef") or block.get("CCAccountRef") or {}
        applied = ", ".join("%s %s: %s" % (link["TxnType"], link["TxnId"], line["Amount"])
                            for line in pay.get("Line", []) for link in line.get("LinkedTxn", []))
        rows.append(("", [record_link(realm, "BillPayment", pay), esc(pay.get("DocNumber", "")),
                          esc(_ref(pay, "VendorRef")), esc(pay.get("TxnDate")), esc(pay.get("PayType")),
                          esc(account.get("name") or account.get("value")), esc(pay.get("TotalAmt")), esc(applied),
                          esc(pay.get("PrivateNote", ""))]))
    parts.append("<h3>Bill payments</h3>" + _table(
        ["Id", "No.", "Vendor", "Date", "Type", "Account", "Amount", "Applied to", "Note"], rows))
    return "".join(parts)


def dashboard(sim):
    sections = [company_section(realm, name, sim.companies[realm]) for realm, name in sim.company_names()]
    log = [("", [esc(e["time"]), esc(e["realm"]), esc(e["method"]), esc(e["path"]), esc(e["status"]),
                 esc(e.get("code") or ""), esc(e.get("requestid") or "")]) for e in reversed(sim.request_log())]
    counters = sim.counters()
    counts = ", ".join("%s=%s" % (k, v) for k, v in counters.items() if k != "by_realm" and v)
    body = ("<h1>QuickBooks Simulator</h1><p>Simulated time: %s &middot; counters: %s</p>%s"
            "<h2>Request log (latest first)</h2>%s"
            % (esc(sim.clock.iso()), esc(counts or "none"), "".join(sections),
               _table(["Time", "Realm", "Method", "Path", "Status", "Fault", "requestid"], log)))
    return page("QuickBooks Simulator", body, refresh=5)


def record_page(sim, entity, rid, realm=None):
    found = []
    for realm_id, name in sim.company_names():
        if realm and realm != realm_id:
            continue
        rec = sim.companies[realm_id].data[entity].get(str(rid))
        if rec is not None:
            found.append((realm_id, name, rec))
    if not found:
        return None
    parts = ["<h1>QuickBooks Simulator</h1><p><a href='/'>Back to the dashboard</a></p>"]
    for realm_id, name, rec in found:
        named = rec.get("DisplayName") or rec.get("Name")
        # "Customer: Amy's Bird Sanctuary", "Invoice INV/2026/00001" (not "Invoice: Invoice INV/...")
        title = "%s: %s" % (entity, named) if named else "%s %s" % (entity, rec.get("DocNumber") or rec["Id"])
        parts.append("<h2>%s</h2><p>Company: %s (realm %s)</p>" % (esc(title), esc(name), esc(realm_id)))
        lines = rec.get("Line")
        if lines:
            rows = [("", [esc(l.get("LineNum", "")), esc(l.get("DetailType") or "LinkedTxn"), esc(_line_target(l)),
                          esc(l.get("Description", "")),
                          esc((l.get(l.get("DetailType")) or {}).get("Qty", "")),
                          esc((l.get(l.get("DetailType")) or {}).get("UnitPrice", "")),
                          esc(_ref(l.get(l.get("DetailType")) or {}, "TaxCodeRef")), esc(l.get("Amount", ""))])
                    for l in lines]
            parts.append(_table(["#", "Type", "Item / account / applied to", "Description", "Qty", "Rate",
                                 "Tax code", "Amount"], rows))
        parts.append(action_forms(sim, realm_id, entity, rec))
        files = attachments.attached_to(sim.companies[realm_id], entity, rec["Id"])
        if files:
            rows = [("", ["<a href='/app/attachment?realmId=%s&id=%s'>%s</a>" % (esc(realm_id), esc(f["Id"]),
                                                                                 esc(f.get("FileName") or "")),
                          esc(f.get("ContentType", "")), esc(f.get("Size", "")),
                          esc("yes" if any(r.get("IncludeOnSend") for r in f["AttachableRef"]) else "no")])
                    for f in files]
            parts.append("<h3>Attachments</h3>" + _table(["File", "Type", "Size", "Sent with it"], rows))
        parts.append("<pre>%s</pre>" % esc(json.dumps(rec, indent=2, sort_keys=True)))
    return page("%s %s - QuickBooks Simulator" % (entity, rid), "".join(parts))


def _line_target(line):
    """What a line is about: its item, its account, or the transactions it applies to."""
    detail = line.get(line.get("DetailType")) or {}
    if _ref(detail, "ItemRef") or _ref(detail, "AccountRef"):
        return _ref(detail, "ItemRef") or _ref(detail, "AccountRef")
    return ", ".join("%s %s" % (link.get("TxnType"), link.get("TxnId")) for link in line.get("LinkedTxn") or [])


def redirect_url(base, params):
    return base + ("&" if "?" in base else "?") + urlencode(params)


# ----- acting as a QuickBooks user ---------------------------------------------------------------------------
# Forms on the record pages post to /company/{realm}/{entity}/{id}/{action}. Every action goes through the
# store's normal write path (so the SyncToken, balances, webhooks and CDC follow as for an API call).
ACTIONS = {"customer": ("edit", "merge"), "invoice": ("pay", "void", "delete"), "bill": ("pay", "void", "delete"),
           "billpayment": ("void", "delete")}
ACTION_ENTITIES = {"customer": "Customer", "invoice": "Invoice", "bill": "Bill", "billpayment": "BillPayment"}


def action_forms(sim, realm, entity, rec):
    """The forms a person uses to change `rec` as a QuickBooks user would."""
    base = "/company/%s/%s/%s/" % (esc(realm), entity.lower(), esc(rec["Id"]))
    if entity == "Customer" and rec.get("Active", True):
        email = (rec.get("PrimaryEmailAddr") or {}).get("Address", "")
        phone = (rec.get("PrimaryPhone") or {}).get("FreeFormNumber", "")
        others = [c for c in sim.companies[realm].data["Customer"].values()
                  if c["Id"] != rec["Id"] and c.get("Active", True)]
        options = "".join("<option value='%s'>%s (%s)</option>" % (esc(c["Id"]), esc(c.get("DisplayName")),
                                                                  esc(c["Id"])) for c in others)
        return ("<div class='box'><h3>Edit customer</h3><form method='post' action='%sedit' class='sim-edit'>"
                "<p>Display name <input name='DisplayName' value='%s'></p>"
                "<p>Company <input name='CompanyName' value='%s'></p>"
                "<p>Email <input name='Email' value='%s'></p><p>Phone <input name='Phone' value='%s'></p>"
                "<button type='submit'>Save</button></form>"
                "<h3>Merge</h3><form method='post' action='%smerge' class='sim-merge'>"
                "<p>Merge this customer into <select name='into'>%s</select> (this one disappears, its "
                "transactions move to the other)</p><button type='submit'>Merge</button></form></div>"
                % (base, esc(rec.get("DisplayName")), esc(rec.get("CompanyName", "")), esc(email), esc(phone),
                   base, options))
    if entity in ("Invoice", "Bill", "BillPayment"):
        balance = rec.get("Balance", 0)
        title, button = ("Pay bill (a check from the first bank account)", "Pay") if entity == "Bill" else (
            "Receive payment", "Record payment")
        pay = ("<h3>%s</h3><form method='post' action='%spay' class='sim-pay'>"
               "<p>Amount <input name='amount' value='%s'> <input type='hidden' name='SyncToken' value='%s'></p>"
               "<button type='submit' class='sim-pay-submit'>%s</button></form>"
               % (title, base, esc(balance), esc(rec.get("SyncToken")), button)) \
            if entity != "BillPayment" and float(balance or 0) > 0 else ""
        return ("<div class='box'>%s<h3>Void or delete</h3>"
                "<form method='post' action='%svoid' style='display:inline'><button type='submit'>Void</button></form> "
                "<form method='post' action='%sdelete' style='display:inline'><button class='cancel' type='submit'>"
                "Delete</button></form></div>" % (pay, base, base))
    return ""


def page_action(sim, path, body):
    """Run a form action; returns (status, location or error text)."""
    parts = path.strip("/").split("/")
    if len(parts) != 5 or parts[0] != "company" or parts[4] not in ACTIONS.get(parts[2].lower(), ()):
        return 404, "No such action"
    realm, kind, rid, action = parts[1], parts[2].lower(), parts[3], parts[4]
    company = sim.companies.get(realm)
    if company is None:
        return 404, "Unknown company %s" % realm
    form = {k: v[-1].strip() for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    entity = ACTION_ENTITIES[kind]
    rec = company.data[entity].get(rid)
    if rec is None:
        return 404, "%s %s was not found" % (entity, rid)
    try:
        with company.lock:
            if action == "edit":
                _edit_customer(company, rec, form)
            elif action == "merge":
                merge_customers(sim, company, form.get("into", ""), rid)
                rid = form.get("into")
            elif action == "pay" and entity == "Bill":
                pay_bill(company, rid, form.get("amount"))
            elif action == "pay":
                record_payment(company, rid, form.get("amount"))
            else:
                company.write(entity, {"Id": rid, "SyncToken": rec["SyncToken"]}, action, user=True)
    except QBOError as err:
        return 400, "%s %s: %s" % (err.code, err.message, err.detail)
    if action == "delete":
        return 303, "/"
    return 303, "/company/%s/%s/%s" % (realm, kind, rid)


def _edit_customer(company, rec, form):
    body = {"Id": rec["Id"], "SyncToken": rec["SyncToken"], "sparse": True}
    if form.get("DisplayName"):
        body["DisplayName"] = form["DisplayName"]
    if "CompanyName" in form:
        body["CompanyName"] = form["CompanyName"]
    if form.get("Email"):
        body["PrimaryEmailAddr"] = {"Address": form["Email"]}
    if form.get("Phone"):
        body["PrimaryPhone"] = {"FreeFormNumber": form["Phone"]}
    company.write("Customer", body, "update")


def record_payment(company, invoice_id, amount=None):
    """A Payment of `amount` (the open balance by default) applied to the invoice, created through the
    store's write path as an API client would create it."""
    inv = company.data["Invoice"][invoice_id]
    amount = amount if amount not in (None, "") else inv.get("Balance", inv.get("TotalAmt"))
    body = {"CustomerRef": {"value": inv["CustomerRef"]["value"]}, "TotalAmt": float(amount),
            "Line": [{"Amount": float(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]}
    if inv.get("CurrencyRef"):
        body["CurrencyRef"] = {"value": inv["CurrencyRef"]["value"]}
        if inv.get("ExchangeRate"):
            body["ExchangeRate"] = inv["ExchangeRate"]
    return company.write("Payment", body, "create")[1]


def pay_bill(company, bill_id, amount=None, account_id=None):
    """A BillPayment by check of `amount` (the open balance by default) applied to the bill, from the company's
    first bank account (or `account_id`), created through the store's write path as an API client would."""
    bill = company.data["Bill"][bill_id]
    amount = amount if amount not in (None, "") else bill.get("Balance", bill.get("TotalAmt"))
    if account_id is None:
        banks = [a for a in company.data["Account"].values() if a.get("AccountType") == "Bank" and a.get("Active")]
        account_id = min(banks, key=lambda a: int(a["Id"]))["Id"] if banks else ""
    body = {"VendorRef": {"value": bill["VendorRef"]["value"]}, "PayType": "Check", "TotalAmt": float(amount),
            "CheckPayment": {"BankAccountRef": {"value": account_id}},
            "CurrencyRef": {"value": bill["CurrencyRef"]["value"]}, "ExchangeRate": bill.get("ExchangeRate", 1),
            "Line": [{"Amount": float(amount), "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}]}
    return company.write("BillPayment", body, "create")[1]


def merge_customers(sim, company, keep_id, drop_id):
    """QuickBooks' customer merge: `drop_id`'s transactions and sub-customers move to `keep_id`, then
    `drop_id` is gone (CDC answers it as deleted) and a Merge event names both."""
    with company.lock:
        keep = company.data["Customer"].get(str(keep_id))
        drop = company.data["Customer"].get(str(drop_id))
        if keep is None or drop is None or keep is drop:
            raise QBOError("6000", "Choose two different existing customers to merge.")
        for entity in ("Invoice", "Estimate", "CreditMemo", "Payment"):
            for txn in company.data[entity].values():
                if (txn.get("CustomerRef") or {}).get("value") == drop["Id"]:
                    old = copy.deepcopy(txn)
                    txn["CustomerRef"] = {"value": keep["Id"], "name": keep.get("DisplayName", "")}
                    company._bump(txn, old)
        for child in company.data["Customer"].values():
            if (child.get("ParentRef") or {}).get("value") == drop["Id"]:
                old = copy.deepcopy(child)
                child["ParentRef"] = {"value": keep["Id"]}
                company._bump(child, old)
        old = copy.deepcopy(keep)
        for key in ("Balance", "BalanceWithJobs"):
            keep[key] = out(money((num(keep.get(key)) or 0) + (num(drop.get(key)) or 0)))
        company._bump(keep, old)
        del company.data["Customer"][drop["Id"]]
        company.deleted["Customer"][drop["Id"]] = company.clock.iso_seconds()
        company.invalidate_indexes()   # sub-customers moved in place
    sim.webhooks.emit(company.realm, "Customer", keep["Id"], "Merge", keep["MetaData"]["LastUpdatedTime"],
                      deleted_id=drop["Id"])
    return keep
