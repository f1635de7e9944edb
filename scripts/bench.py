"""make bench: 2,000 customers and 2,000 products pushed by the engine to the simulator with
100 ms of added latency and Intuit's limits on; then 1,000 posted invoices of 5 lines on those
customers and products (already in QBO, so that phase pushes invoices only); then 200 invoices
of 1 line and 200 of 10 lines, to show the SQL queries per invoice against the number of lines.
Then, with the same simulator process and realm, baselines: samples pushed one record at a time
with python-quickbooks 0.9.12 the way other connectors do (look the record up by name or
DocNumber, then save it). Creating and posting the invoices in Odoo is not measured: each
push is measured from the first drain to the last job done, as for customers.

Run by scripts/run_odoo_script.py (fresh database qbo_bench, simulator in a subprocess, so its
CPU time is not counted here). The baseline runs after the engine, never beside it: the limits
are per realm. Prints a table, then the lines
`bench customers+products: R rec/min, Q req/rec, S sql/rec, X x baseline, 429s=K`,
`bench invoices sql/inv by lines: 1 -> A, 5 -> B, 10 -> C` and
`bench invoices: R inv/min, Q req/inv, S sql/inv, X x baseline, 429s=K`.
Targets: R >= 1000, Q <= 0.05, K = 0, X >= 4, sql/inv not growing with the lines. Nothing
here is tuned to meet them.
"""
import os
import time
from datetime import datetime

from odoo import SUPERUSER_ID, api, sql_db

from simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM

DATABASE = "qbo_bench"
SIMULATOR_ARGS = ["--latency-ms", "100"]   # Intuit's limits stay on (the simulator's defaults)
CUSTOMERS = PRODUCTS = 2000
BASELINE_CUSTOMERS = BASELINE_PRODUCTS = 150
INVOICES, INVOICE_LINES = 1000, 5
LINE_RUNS = ((1, 200), (10, 200))          # (lines per invoice, invoices): sql/inv against lines
BASELINE_INVOICES = 200
TIME_LIMIT = 1200                          # seconds the engine may drain
REDIRECT = "http://localhost:8069/qbo/oauth/callback"
TAG = time.strftime("%H%M%S")


def run(h):
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = h.connect_company(env, US_REALM)
        company_id = company.id
        income_qbo_id = company.qbo_income_account_id.qbo_id
        started = time.monotonic()
        partners, products = h.create_records(env, f"Bench{TAG}", CUSTOMERS, PRODUCTS)
        partner_ids, product_ids = partners.ids, products.ids
        print(f"{CUSTOMERS} customers and {PRODUCTS} products created and queued in "
              f"{time.monotonic() - started:.0f}s", flush=True)
    odoo = measure_engine(h, company_id)

    # invoices: customers and products are in QBO now, so this phase pushes invoices only
    invoices = {}
    for lines, count in ((INVOICE_LINES, INVOICES),) + LINE_RUNS:
        with h.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(company_id)
            if not invoices:
                tax, term = h.map_for_invoices(env, company)
            else:
                tax = env["account.tax"].browse(tax.id)
                term = env["account.payment.term"].browse(term.id)
            cr.execute("SELECT coalesce(max(id), 0) FROM qbo_job")
            after_job = cr.fetchone()[0]
            started = time.monotonic()
            h.create_invoices(env, company, env["res.partner"].browse(partner_ids),
                              env["product.product"].browse(product_ids), count, lines, tax, term)
            print(f"{count} invoices of {lines} line(s) created, posted and queued in "
                  f"{time.monotonic() - started:.0f}s (not measured)", flush=True)
        invoices[lines] = measure_engine(h, company_id, after_job=after_job)
    inv = invoices[INVOICE_LINES]

    base = measure_baseline(h, income_qbo_id)
    base_inv = measure_invoice_baseline(h, company_id, partner_ids, product_ids)

    rows = [("", "records", "errors", "seconds", "rec/min", "requests", "req/rec", "sql/rec", "cpu ms/rec", "429s")]
    measured = [("customers+products: odoo engine", odoo), ("customers+products: python-quickbooks", base)]
    measured += [(f"invoices x{lines} line(s): odoo engine", invoices[lines]) for lines in sorted(invoices)]
    measured += [(f"invoices x{INVOICE_LINES} lines: python-quickbooks", base_inv)]
    for label, m in measured:
        records = m["records"] or 1
        rows.append((label, m["records"], m["errors"], f"{m['seconds']:.1f}", f"{m['rate']:.0f}", m["requests"],
                     f"{m['requests'] / records:.3f}",
                     "n/a" if m["sql"] is None else f"{m['sql'] / records:.3f}",
                     f"{m['cpu'] * 1000 / records:.2f}", m["throttled"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths)))
    print()
    ratio = odoo["rate"] / base["rate"] if base["rate"] else 0.0
    print(f"bench customers+products: {odoo['rate']:.0f} rec/min, {odoo['requests'] / odoo['records']:.3f} req/rec, "
          f"{odoo['sql'] / odoo['records']:.3f} sql/rec, {ratio:.1f} x baseline, 429s={odoo['throttled']}", flush=True)
    print("bench invoices sql/inv by lines: " + ", ".join(
        f"{lines} -> {invoices[lines]['sql'] / (invoices[lines]['records'] or 1):.2f}" for lines in sorted(invoices)),
        flush=True)
    ratio = inv["rate"] / base_inv["rate"] if base_inv["rate"] else 0.0
    print(f"bench invoices: {inv['rate']:.0f} inv/min, {inv['requests'] / (inv['records'] or 1):.3f} req/inv, "
          f"{inv['sql'] / (inv['records'] or 1):.3f} sql/inv, {ratio:.1f} x baseline, 429s={inv['throttled']}",
          flush=True)
    failed = [m for _label, m in measured if m["errors"]]
    return 1 if failed else 0


def measure_engine(h, company_id, after_job=0):
    """Drain the queue with the engine (as its cron does) until no job is left; counts the
    jobs created after job id `after_job` (those of this phase)."""
    before = h.sim.counters(US_REALM)
    sql0, cpu0, first_call = sql_db.sql_counter, time.process_time(), datetime.utcnow()
    started = time.monotonic()
    while time.monotonic() - started < TIME_LIMIT:
        done = h.drain(company_id, deadline=started + TIME_LIMIT)
        states = h.job_states(company_id)
        print(f"drain returned after {time.monotonic() - started:.0f}s: {done} jobs finished, queue {states}",
              flush=True)
        if not (states.get("pending") or states.get("sending")):
            break
        if not done:
            time.sleep(1)  # jobs waiting for their retry time
    sql, cpu = sql_db.sql_counter - sql0, time.process_time() - cpu0
    after = h.sim.counters(US_REALM)
    with h.registry.cursor() as cr:
        cr.execute("""SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state <> 'done'),
                             max(done_at) FROM qbo_job WHERE company_id = %s AND id > %s""",
                   [company_id, after_job])
        records, errors, last_done = cr.fetchone()
        cr.execute("""SELECT error_code, error_message, count(*) FROM qbo_job
                       WHERE company_id = %s AND id > %s AND state <> 'done' GROUP BY 1, 2 LIMIT 10""",
                   [company_id, after_job])
        for code, message, count in cr.fetchall():
            print(f"engine: {count} job(s) not done: [{code}] {message}")
    seconds = (last_done - first_call).total_seconds() if last_done else time.monotonic() - started
    return {"records": records, "errors": errors, "seconds": seconds, "rate": records * 60 / max(seconds, 1e-6),
            "requests": after["total"] - before["total"], "throttled": after["throttled"] - before["throttled"],
            "sql": sql, "cpu": cpu}


def pq_session(h):
    """A python-quickbooks client on the simulator, and `call(fn)` that waits as Retry-After
    says and tries again after a 429 (python-quickbooks does not retry), counting them."""
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks
    from quickbooks.exceptions import QuickbooksException

    tokens = h.sim.issue_tokens(US_REALM)
    auth = AuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT, environment=h.sim.discovery_url,
                      access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])
    qb = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"], company_id=US_REALM, minorversion=75)
    qb.api_url_v3 = h.sim.url + "/v3"
    last = {}
    process_request = qb.process_request

    def remember_response(*args, **kwargs):  # python-quickbooks hides the status and headers
        last["response"] = response = process_request(*args, **kwargs)
        return response
    qb.process_request = remember_response
    stats = {"throttled": 0, "errors": 0}

    def call(fn):
        while True:
            last.pop("response", None)
            try:
                return fn()
            except QuickbooksException:
                response = last.get("response")
                if response is None or response.status_code != 429:
                    raise
                stats["throttled"] += 1
                time.sleep(float(response.headers.get("Retry-After") or 1))
    return qb, call, stats


def run_baseline(h, label, work):
    """Run `work` [(fn, i)] one at a time; the measures of the run."""
    from quickbooks.exceptions import QuickbooksException
    stats = work.stats
    before = h.sim.counters(US_REALM)
    cpu0 = time.process_time()
    started = time.monotonic()
    for fn, i in work:
        try:
            fn(i)
        except QuickbooksException as exc:
            stats["errors"] += 1
            print(f"baseline: {fn.__name__} {i} failed: {exc}", flush=True)
    seconds = time.monotonic() - started
    cpu = time.process_time() - cpu0
    after = h.sim.counters(US_REALM)
    records = len(work) - stats["errors"]
    print(f"baseline: {records} {label} one at a time in {seconds:.0f}s", flush=True)
    return {"records": records, "errors": stats["errors"], "seconds": seconds, "rate": records * 60 / seconds,
            "requests": after["total"] - before["total"], "throttled": stats["throttled"], "sql": None, "cpu": cpu}


class Work(list):
    stats = None


def measure_baseline(h, income_qbo_id):
    """One record at a time with python-quickbooks: filter by name, then save."""
    from quickbooks.objects.base import EmailAddress, Ref
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.item import Item
    qb, call, stats = pq_session(h)

    def customer(i):
        name = f"BenchPQ{TAG}C-{i:05d}"
        if call(lambda: Customer.filter(DisplayName=name, qb=qb)):
            return
        record = Customer()
        record.DisplayName = record.CompanyName = name
        record.PrimaryEmailAddr = EmailAddress()
        record.PrimaryEmailAddr.Address = f"c{i}@benchpq.example"
        call(lambda: record.save(qb=qb))

    def item(i):
        name = f"BenchPQ{TAG}P-{i:05d}"
        if call(lambda: Item.filter(Name=name, qb=qb)):
            return
        record = Item()
        record.Name, record.Sku = name, f"BenchPQ{TAG}SKU-{i:05d}"
        record.Type = "Service" if i % 3 == 0 else "NonInventory"
        record.UnitPrice = 10 + i % 90
        record.IncomeAccountRef = Ref()
        record.IncomeAccountRef.value = income_qbo_id
        call(lambda: record.save(qb=qb))

    work = Work([(customer, i) for i in range(1, BASELINE_CUSTOMERS + 1)] +
                [(item, i) for i in range(1, BASELINE_PRODUCTS + 1)])
    work.stats = stats
    return run_baseline(h, "records", work)


def measure_invoice_baseline(h, company_id, partner_ids, product_ids):
    """Invoices of INVOICE_LINES lines, one at a time with python-quickbooks, on customers and
    items already in QBO (those the engine pushed): look the DocNumber up first, the way other
    connectors avoid duplicates, then save."""
    from quickbooks.objects.base import Ref
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.tax import TxnTaxDetail
    with h.registry.cursor() as cr:
        def qbo_ids(model, ids):
            cr.execute("""SELECT res_id, qbo_id FROM qbo_link WHERE company_id = %s AND res_model = %s
                           AND res_id IN %s AND qbo_id IS NOT NULL ORDER BY res_id""", [company_id, model, tuple(ids)])
            return [qbo_id for _rid, qbo_id in cr.fetchall()]
        customers, items = qbo_ids("res.partner", partner_ids), qbo_ids("product.product", product_ids)
    qb, call, stats = pq_session(h)

    def ref(value):
        r = Ref()
        r.value = value
        return r

    def invoice(n):
        number = f"PQ{TAG}-{n:05d}"
        if call(lambda: Invoice.filter(DocNumber=number, qb=qb)):
            return
        record = Invoice()
        record.DocNumber = number
        record.TxnDate = "2025-03-14"
        record.CustomerRef = ref(customers[n % len(customers)])
        record.SalesTermRef = ref("3")
        record.TxnTaxDetail = TxnTaxDetail()
        record.TxnTaxDetail.TxnTaxCodeRef = ref("2")
        for k in range(INVOICE_LINES):
            qty, price = 1 + (n + k) % 4, 10 + (n * 7 + k * 13) % 90 + 0.25 * (k % 3)
            line = SalesItemLine()
            line.Amount = round(qty * price, 2)
            line.Description = f"Line {k + 1}"
            line.SalesItemLineDetail = detail = SalesItemLineDetail()
            detail.ItemRef = ref(items[(n * INVOICE_LINES + k) % len(items)])
            detail.Qty, detail.UnitPrice = qty, price
            detail.TaxCodeRef = ref("TAX" if k % 2 == 0 else "NON")
            record.Line.append(line)
        call(lambda: record.save(qb=qb))

    work = Work([(invoice, n) for n in range(1, BASELINE_INVOICES + 1)])
    work.stats = stats
    return run_baseline(h, "invoices", work)
