"""make bench: 2,000 customers and 2,000 products pushed by the engine to the simulator with
100 ms of added latency and Intuit's limits on, then, with the same simulator process and
realm, a baseline: a sample pushed one record at a time with python-quickbooks 0.9.12 the way
other connectors do (look the record up by name, then save it).

Run by scripts/run_odoo_script.py (fresh database qbo_bench, simulator in a subprocess, so its
CPU time is not counted here). The baseline runs after the engine, never beside it: the limits
are per realm. Prints a table, then the line
`bench customers+products: R rec/min, Q req/rec, S sql/rec, X x baseline, 429s=K`.
Targets: R >= 1000, Q <= 0.05, K = 0, X >= 4. Nothing here is tuned to meet them.
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
        h.create_records(env, f"Bench{TAG}", CUSTOMERS, PRODUCTS)
        print(f"{CUSTOMERS} customers and {PRODUCTS} products created and queued in "
              f"{time.monotonic() - started:.0f}s", flush=True)
    odoo = measure_engine(h, company_id)
    base = measure_baseline(h, income_qbo_id)

    rows = [("", "records", "errors", "seconds", "rec/min", "requests", "req/rec", "sql/rec", "cpu ms/rec", "429s")]
    for label, m in (("odoo engine", odoo), ("python-quickbooks", base)):
        rows.append((label, m["records"], m["errors"], f"{m['seconds']:.1f}", f"{m['rate']:.0f}", m["requests"],
                     f"{m['requests'] / m['records']:.3f}",
                     "n/a" if m["sql"] is None else f"{m['sql'] / m['records']:.3f}",
                     f"{m['cpu'] * 1000 / m['records']:.2f}", m["throttled"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths)))
    print()
    ratio = odoo["rate"] / base["rate"] if base["rate"] else 0.0
    print(f"bench customers+products: {odoo['rate']:.0f} rec/min, {odoo['requests'] / odoo['records']:.3f} req/rec, "
          f"{odoo['sql'] / odoo['records']:.3f} sql/rec, {ratio:.1f} x baseline, 429s={odoo['throttled']}", flush=True)
    return 0 if odoo["errors"] == 0 and base["errors"] == 0 else 1


def measure_engine(h, company_id):
    """Drain the queue with the engine (as its cron does) until no job is left."""
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
                             max(done_at) FROM qbo_job WHERE company_id = %s""", [company_id])
        records, errors, last_done = cr.fetchone()
        cr.execute("""SELECT error_code, error_message, count(*) FROM qbo_job
                       WHERE company_id = %s AND state <> 'done' GROUP BY 1, 2 LIMIT 10""", [company_id])
        for code, message, count in cr.fetchall():
            print(f"engine: {count} job(s) not done: [{code}] {message}")
    seconds = (last_done - first_call).total_seconds() if last_done else time.monotonic() - started
    return {"records": records, "errors": errors, "seconds": seconds, "rate": records * 60 / seconds,
            "requests": after["total"] - before["total"], "throttled": after["throttled"] - before["throttled"],
            "sql": sql, "cpu": cpu}


def measure_baseline(h, income_qbo_id):
    """One record at a time with python-quickbooks: filter by name, then save. It does not
    retry a 429, so a careful connector waits as Retry-After says and tries again."""
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.base import EmailAddress, Ref
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.item import Item

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

    before = h.sim.counters(US_REALM)
    cpu0 = time.process_time()
    started = time.monotonic()
    work = [(customer, i) for i in range(1, BASELINE_CUSTOMERS + 1)] + \
           [(item, i) for i in range(1, BASELINE_PRODUCTS + 1)]
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
    print(f"baseline: {records} records one at a time in {seconds:.0f}s", flush=True)
    return {"records": records, "errors": stats["errors"], "seconds": seconds, "rate": records * 60 / seconds,
            "requests": after["total"] - before["total"], "throttled": stats["throttled"], "sql": None, "cpu": cpu}
