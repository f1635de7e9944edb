"""HTML pages: the consent page, the dashboard at / and one page per record."""
import html
import json
from urllib.parse import urlencode

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
                "payment": "Payment", "customerdetail": "Customer", "item": "Item"}


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
        title = rec.get("DisplayName") or rec.get("Name") or "%s %s" % (entity, rec.get("DocNumber") or rec["Id"])
        parts.append("<h2>%s: %s</h2><p>Company: %s (realm %s)</p>" % (esc(entity), esc(title), esc(name),
                                                                       esc(realm_id)))
        lines = rec.get("Line")
        if lines:
            rows = [("", [esc(l.get("LineNum", "")), esc(l.get("DetailType")),
                          esc(_ref(l.get(l.get("DetailType")) or {}, "ItemRef")), esc(l.get("Description", "")),
                          esc((l.get(l.get("DetailType")) or {}).get("Qty", "")),
                          esc((l.get(l.get("DetailType")) or {}).get("UnitPrice", "")),
                          esc(_ref(l.get(l.get("DetailType")) or {}, "TaxCodeRef")), esc(l.get("Amount", ""))])
                    for l in lines]
            parts.append(_table(["#", "Type", "Item", "Description", "Qty", "Rate", "Tax code", "Amount"], rows))
        parts.append("<pre>%s</pre>" % esc(json.dumps(rec, indent=2, sort_keys=True)))
    return page("%s %s - QuickBooks Simulator" % (entity, rid), "".join(parts))


def redirect_url(base, params):
    return base + ("&" if "?" in base else "?") + urlencode(params)
