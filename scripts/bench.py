"""make bench: the engine against the simulator with 100 ms of added latency and Intuit's limits on
(500 requests and 40 batches a minute, 10 at once, per realm; the simulator seeds --realms 16
companies). Phases, each printed as a row of the table and as `bench ...` lines:

1. customers+products: 2,000 customers and 2,000 products pushed by the engine in /batch requests
   only (system parameter qbo_financial_hub.single_writes = 0: the fewest requests per record);
   then 1,000 posted invoices of 5 lines on them (invoices only), then 200 invoices of 1 line and
   200 of 10 lines, to show the SQL queries per invoice against the number of lines. Then, with
   the same realm, baselines: samples pushed one record at a time with python-quickbooks 0.9.12
   the way other connectors do (look the record up by name or DocNumber, then save it).
2. sustained: 5,000 customers of a company of its own on a realm of its own, single writes on (the
   default: the requests the batches leave are used by single creates and updates). The rate
   is the one after the first minute of the phase (Intuit counts over a sliding minute, so the
   first minute carries a burst), over the phase's last record.
3. realms: 10 more Odoo companies, each connected to a realm of its own, 1,000 customers each,
   drained by 2 Odoo cron worker processes (scripts/cron_worker.py: Odoo's own cron loop).
   Total rate from the workers' start to the last record, CPU of the workers per record.
4. fairness: a company with a 20,000-job backlog is drained by one cron worker; once it is
   under way, one invoice of a second company is posted and pushed; the time until that invoice
   is in QuickBooks.

Creating records in Odoo is not measured: each push is measured from the first drain to the last
job done. Run by scripts/run_odoo_script.py (fresh database qbo_bench, simulator in a
subprocess, so its CPU time is not counted here). The lines:
`bench customers+products: R rec/min, Q req/rec, S sql/rec, X x baseline, 429s=K`,
`bench invoices sql/inv by lines: 1 -> A, 5 -> B, 10 -> C`,
`bench invoices: R inv/min, Q req/inv, S sql/inv, X x baseline, 429s=K`,
`bench reads: metered reads per 1000 records: N` (the customers, products and invoices of phase 1,
counted by the simulator's metering of the realm: reads, queries and CDC, each query of a /batch
one call, as Intuit meters "CorePlus" calls),
`bench sustained: R rec/min over N records, one realm`,
`bench realms: K realms, R rec/min total, CPU ms/rec C`,
`bench fairness: a single invoice waited S s behind a 20,000-job backlog of another company`.
Targets: customers+products R >= 1000, Q <= 0.05, K = 0, X >= 4; sql/inv not growing with the
lines; reads N < 40; sustained R >= 1500 with N >= 4000 and no 429; realms total >= 8 x the sustained R of the
same run; fairness S < 60. Nothing here is tuned to meet them: misses are printed as they are.
"""
import os
import time
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, sql_db

from simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM
from simulator.seed import realm_ids

# BENCH_PHASES=sustained,realms runs only those phases (names of the functions below);
# BENCH_SCALE=0.05 shrinks every record count for a smoke run (its figures mean nothing)
ONLY = [p for p in os.environ.get("BENCH_PHASES", "").split(",") if p]
SCALE = float(os.environ.get("BENCH_SCALE", "1"))


def scaled(count):
    return max(int(count * SCALE), 1)


DATABASE = "qbo_bench"
SIM_REALMS = 16   # the US realm (phase 1), one for the sustained phase, ten, and two for fairness
SIMULATOR_ARGS = ["--latency-ms", "100", "--realms", str(SIM_REALMS)]   # Intuit's limits stay on
CUSTOMERS = PRODUCTS = scaled(2000)
BASELINE_CUSTOMERS = BASELINE_PRODUCTS = scaled(150)
INVOICES, INVOICE_LINES = scaled(1000), 5
LINE_RUNS = ((1, scaled(200)), (10, scaled(200)))   # (lines per invoice, invoices): sql/inv against lines
BASELINE_INVOICES = scaled(200)
TIME_LIMIT = 1200                          # seconds the engine may drain
SUSTAINED_CUSTOMERS = scaled(5000)
WINDOW = 61.2                              # Intuit's minute and the engine's 2 % margin
REALMS, REALM_CUSTOMERS, CRON_WORKERS = 10, scaled(1000), 2
BACKLOG = scaled(20000)
REDIRECT = "http://localhost:8069/qbo/oauth/callback"
TAG = time.strftime("%H%M%S")


PHASES = []   # (name, function(h, state) -> (table rows [(label, measures)], bench lines)); in order


def phase(function):
    PHASES.append(function)
    return function


def run(h):
    """Every phase in turn; then the table of every measure and the `bench` lines."""
    state, measured, lines = {}, [], []
    if SCALE != 1:
        print(f"BENCH_SCALE={SCALE}: a smoke run, its figures mean nothing", flush=True)
    for function in PHASES:
        if ONLY and function.__name__ not in ONLY:
            continue
        rows, text = function(h, state)
        measured += rows
        lines += text
    print_table(measured)
    for line in lines:
        print(line, flush=True)
    failed = [m for _label, m in measured if m["errors"]]
    return 1 if failed else 0


def print_table(measured):
    rows = [("", "records", "errors", "seconds", "rec/min", "requests", "req/rec", "metered/rec", "sql/rec",
             "cpu ms/rec", "sim ms/rec", "429s")]
    for label, m in measured:
        records = m["records"] or 1
        rows.append((label, m["records"], m["errors"], f"{m['seconds']:.1f}", f"{m['rate']:.0f}", m["requests"],
                     f"{m['requests'] / records:.3f}",
                     "n/a" if m.get("metered") is None else f"{m['metered'] / records:.3f}",
                     "n/a" if m["sql"] is None else f"{m['sql'] / records:.3f}",
                     f"{m['cpu'] * 1000 / records:.2f}",
                     "n/a" if m.get("sim_cpu") is None else f"{m['sim_cpu'] * 1000 / records:.2f}", m["throttled"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths)))
    print()


def set_single_writes(h, on):
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("qbo_financial_hub.single_writes", "1" if on else "0")


@phase
def customers_products_and_invoices(h, state):
    """Phase 1: batches only (the fewest requests per record), then the baselines."""
    set_single_writes(h, False)
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = h.connect_company(env, US_REALM)
        company_id = state["company_id"] = company.id
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
    set_single_writes(h, True)

    base = measure_baseline(h, income_qbo_id)
    base_inv = measure_invoice_baseline(h, company_id, partner_ids, product_ids)

    measured = [("customers+products: odoo engine, batches only", odoo),
                ("customers+products: python-quickbooks", base)]
    measured += [(f"invoices x{lines} line(s): odoo engine, batches only", invoices[lines])
                 for lines in sorted(invoices)]
    measured += [(f"invoices x{INVOICE_LINES} lines: python-quickbooks", base_inv)]
    ratio = odoo["rate"] / base["rate"] if base["rate"] else 0.0
    text = [f"bench customers+products: {odoo['rate']:.0f} rec/min, {odoo['requests'] / odoo['records']:.3f} req/rec, "
            f"{odoo['sql'] / odoo['records']:.3f} sql/rec, {ratio:.1f} x baseline, 429s={odoo['throttled']}"]
    text.append("bench invoices sql/inv by lines: " + ", ".join(
        f"{lines} -> {invoices[lines]['sql'] / (invoices[lines]['records'] or 1):.2f}" for lines in sorted(invoices)))
    ratio = inv["rate"] / base_inv["rate"] if base_inv["rate"] else 0.0
    text.append(f"bench invoices: {inv['rate']:.0f} inv/min, {inv['requests'] / (inv['records'] or 1):.3f} req/inv, "
                f"{inv['sql'] / (inv['records'] or 1):.3f} sql/inv, {ratio:.1f} x baseline, 429s={inv['throttled']}")
    pushed = [odoo] + [invoices[lines] for lines in sorted(invoices)]
    text.append("bench reads: metered reads per 1000 records: "
                f"{per_thousand(sum(m['metered'] for m in pushed), sum(m['records'] for m in pushed)):.1f} "
                f"(customers+products {per_thousand(odoo['metered'], odoo['records']):.1f}, invoices "
                f"{per_thousand(sum(invoices[n]['metered'] for n in invoices), sum(invoices[n]['records'] for n in invoices)):.1f}; "
                f"python-quickbooks {per_thousand(base['metered'] + base_inv['metered'], base['records'] + base_inv['records']):.0f}; "
                "as the simulator metered them)")
    return measured, text


@phase
def sustained(h, state):
    """Phase 2: one realm past the batch ceiling, single writes beside the batches: a company of
    its own on a realm of its own, customers only (a product would be queued for every company
    that syncs products)."""
    set_single_writes(h, True)   # whatever an earlier, interrupted run left
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].create({"name": f"Bench sustained {TAG}"})
        cenv = quiet(h.company_env(env, company))
        h.connect_company(cenv, realm_ids(SIM_REALMS)[2])
        company.write({"qbo_sync_products": False})
        cr.commit()  # pylint: disable=invalid-commit  # the benchmark's own registry cursor
        company_id = company.id
        started = time.monotonic()
        h.create_records(cenv, f"Sustain{TAG}", SUSTAINED_CUSTOMERS, 0)
        print(f"{SUSTAINED_CUSTOMERS} customers created and queued in {time.monotonic() - started:.0f}s "
              f"(not measured)", flush=True)
    m = measure_engine(h, company_id, realm=realm_ids(SIM_REALMS)[2])
    rate = state["sustained"] = m["steady_rate"]
    return ([("sustained: odoo engine, batches + singles", m)],
            [f"bench sustained: {rate:.0f} rec/min over {m['records']} records, one realm "
             f"(after its first minute; {m['rate']:.0f} over the whole phase, 429s={m['throttled']}; CPU ms/rec "
             f"{m['cpu'] * 1000 / (m['records'] or 1):.2f} in Odoo, {m['sim_cpu'] * 1000 / (m['records'] or 1):.2f} "
             "in the simulator)"])


def quiet(env):
    """Records created without chatter messages and tracking: the benchmarks' set-up is not measured."""
    return env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True,
                            mail_notrack=True))


@phase
def realms(h, state):
    """Phase 3: REALMS companies on realms of their own, drained by CRON_WORKERS cron workers."""
    realm_list = realm_ids(SIM_REALMS)[3:3 + REALMS]
    company_ids = []
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        started = time.monotonic()
        for k, realm in enumerate(realm_list, start=1):
            company = env["res.company"].create({"name": f"Bench realm {k} {TAG}"})
            cenv = quiet(h.company_env(env, company))
            h.connect_company(cenv, realm)
            company.write({"qbo_sync_products": False})
            cenv.cr.commit()
            h.create_records(cenv, f"Realm{k}x{TAG}", REALM_CUSTOMERS, 0)
            company_ids.append(company.id)
        print(f"{REALMS} companies on realms of their own, {REALM_CUSTOMERS} customers each, created and "
              f"queued in {time.monotonic() - started:.0f}s (not measured)", flush=True)
        cr.execute("SELECT coalesce(min(id), 0) - 1 FROM qbo_job WHERE company_id = ANY(%s)", [company_ids])
        after_job = cr.fetchone()[0]
    m = measure_workers(h, company_ids, realm_list, CRON_WORKERS, after_job)
    single = state.get("sustained") or 0.0
    ratio = m["rate"] / single if single else 0.0
    return ([(f"realms: {REALMS} realms, {CRON_WORKERS} cron workers", m)],
            [f"bench realms: {REALMS} realms, {m['rate']:.0f} rec/min total, CPU ms/rec "
             f"{m['cpu'] * 1000 / (m['records'] or 1):.2f} ({ratio:.1f} x the single-realm figure, "
             f"{CRON_WORKERS} cron workers; the simulator's CPU ms/rec {m['sim_cpu'] * 1000 / (m['records'] or 1):.2f}, "
             f"429s={m['throttled']})"])


@phase
def fairness(h, state):
    """Phase 4: one invoice of company A while company B's 20,000 jobs drain, one cron worker."""
    realm_a, realm_b = realm_ids(SIM_REALMS)[-2:]    # a US copy (A) and a Canadian copy (B)
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company_a = env["res.company"].create({"name": f"Bench fair A {TAG}"})
        company_b = env["res.company"].create({"name": f"Bench fair B {TAG}"})
        env.ref("base.user_admin").company_ids |= company_a
        env["account.chart.template"].try_loading("generic_coa", company=company_a, install_demo=False)
        env_a, env_b = h.company_env(env, company_a), h.company_env(env, company_b)
        h.connect_company(env_b, realm_b)
        company_b.write({"qbo_sync_products": False})
        h.connect_company(env_a, realm_a)
        env.cr.commit()
        partners, products = h.create_records(env_a, f"FairA{TAG}", 1, 1)
        tax, term = h.map_for_invoices(env_a, company_a)
        ids_a = (company_a.id, partners.ids, products.ids, tax.id, term.id)
    h.drain(ids_a[0])          # A's customer and item are in QuickBooks before the measure
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env_b = quiet(h.company_env(env, env["res.company"].browse(company_b.id)))
        started = time.monotonic()
        for start in range(0, BACKLOG, 2000):
            h.create_records(env_b, f"FairB{TAG}x{start // 2000:02d}", min(2000, BACKLOG - start), 0)
        print(f"{BACKLOG} customers of company B created and queued in {time.monotonic() - started:.0f}s",
              flush=True)
    workers = h.cron_workers(1, tag="fairness")
    waited = None
    try:
        trigger_queue_crons(h)
        # B's drain is under way: its first chunk is in QuickBooks
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not h.job_states(company_b.id).get("done"):
            time.sleep(0.5)
        with h.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company_a_id, partner_ids, product_ids, tax_id, term_id = ids_a
            env_a = h.company_env(env, env["res.company"].browse(company_a_id))
            posted = time.monotonic()
            invoice_ids = h.create_invoices(env_a, env_a.company, env["res.partner"].browse(partner_ids),
                                            env["product.product"].browse(product_ids), 1, 3,
                                            env["account.tax"].browse(tax_id),
                                            env["account.payment.term"].browse(term_id))
        while time.monotonic() - posted < 600:
            with h.registry.cursor() as cr:
                cr.execute("""SELECT state FROM qbo_job WHERE res_model = 'account.move' AND res_id = %s
                               ORDER BY id DESC LIMIT 1""", [invoice_ids[0]])
                row = cr.fetchone()
            if row and row[0] in ("done", "error"):
                waited = time.monotonic() - posted
                break
            time.sleep(0.2)
        backlog = h.job_states(company_b.id)
    finally:
        # measured: the worker is not waited for (its cron run goes on with B's backlog)
        workers.stop(timeout=5)
    print(f"fairness: company B's queue when A's invoice was in: {backlog}", flush=True)
    measure = {"records": 1 if waited is not None and row[0] == "done" else 0,
               "errors": 0 if waited is not None and row[0] == "done" else 1,
               "seconds": waited or 0.0, "rate": 60 / waited if waited else 0.0, "requests": 0, "throttled": 0,
               "sql": None, "cpu": 0.0}
    text = (f"bench fairness: a single invoice waited {waited:.1f} s behind a {BACKLOG:,}-job backlog of another "
            f"company (1 cron worker)" if waited is not None else
            f"bench fairness: the invoice was not in QuickBooks after 600 s behind a {BACKLOG:,}-job backlog")
    return [("fairness: 1 invoice behind 20,000 jobs, 1 cron worker", measure)], [text]


def trigger_queue_crons(h):
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        for cron in env["ir.cron"].search([("model_id.model", "=", "qbo.job"), ("code", "=like", "%_cron_process()%")]):
            cron._trigger()


def measure_workers(h, company_ids, realms, count, after_job):
    """Drain the queues of `company_ids` with `count` Odoo cron worker processes, until none
    of their jobs is left; the workers' CPU and SQL, the simulator's counters of `realms`."""
    before = [h.sim.counters(realm) for realm in realms]
    metered0, sim0 = sum(metered_reads(h, realm) for realm in realms), sim_cpu(h)
    first_call = datetime.utcnow()
    workers = h.cron_workers(count, tag="realms")
    started = time.monotonic()
    try:
        trigger_queue_crons(h)
        while time.monotonic() - started < TIME_LIMIT:
            with h.registry.cursor() as cr:
                cr.execute("""SELECT count(*) FROM qbo_job WHERE company_id = ANY(%s) AND id > %s
                                AND state IN ('pending', 'sending')""", [company_ids, after_job])
                left = cr.fetchone()[0]
            if not left:
                break
            time.sleep(1)
        print(f"workers drained for {time.monotonic() - started:.0f}s, {left} job(s) left", flush=True)
    finally:
        stats = workers.stop()
    after = [h.sim.counters(realm) for realm in realms]
    with h.registry.cursor() as cr:
        # from the first claim (the workers' start-up, loading Odoo, is not counted) to the last record
        cr.execute("""SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state <> 'done'),
                             max(done_at), min(sent_at) FROM qbo_job WHERE company_id = ANY(%s) AND id > %s""",
                   [company_ids, after_job])
        records, errors, last_done, first_claim = cr.fetchone()
    seconds = ((last_done - max(first_claim or first_call, first_call)).total_seconds() if last_done
               else time.monotonic() - started)
    return {"records": records, "errors": errors, "seconds": seconds, "rate": records * 60 / max(seconds, 1e-6),
            "requests": sum(a["total"] - b["total"] for a, b in zip(after, before)),
            "throttled": sum(a["throttled"] - b["throttled"] for a, b in zip(after, before)),
            "sql": stats["sql"], "cpu": stats["cpu"], "sim_cpu": sim_cpu(h) - sim0,
            "metered": sum(metered_reads(h, realm) for realm in realms) - metered0}


def measure_engine(h, company_id, after_job=0, realm=US_REALM):
    """Drain the queue with the engine (as its cron does) until no job is left; counts the
    jobs created after job id `after_job` (those of this phase)."""
    before, metered0, sim0 = h.sim.counters(realm), metered_reads(h, realm), sim_cpu(h)
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
    sql, cpu, simulator = sql_db.sql_counter - sql0, time.process_time() - cpu0, sim_cpu(h) - sim0
    after = h.sim.counters(realm)
    with h.registry.cursor() as cr:
        cr.execute("""SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state <> 'done'),
                             max(done_at) FROM qbo_job WHERE company_id = %s AND id > %s""",
                   [company_id, after_job])
        records, errors, last_done = cr.fetchone()
        # the rate once the first minute (a burst, as Intuit counts over a sliding minute) is over
        steady_from = first_call + timedelta(seconds=WINDOW)
        cr.execute("""SELECT count(*) FROM qbo_job WHERE company_id = %s AND id > %s AND state = 'done'
                         AND done_at > %s""", [company_id, after_job, steady_from])
        steady = cr.fetchone()[0]
        cr.execute("""SELECT error_code, error_message, count(*) FROM qbo_job
                       WHERE company_id = %s AND id > %s AND state <> 'done' GROUP BY 1, 2 LIMIT 10""",
                   [company_id, after_job])
        for code, message, count in cr.fetchall():
            print(f"engine: {count} job(s) not done: [{code}] {message}")
    seconds = (last_done - first_call).total_seconds() if last_done else time.monotonic() - started
    return {"records": records, "errors": errors, "seconds": seconds, "rate": records * 60 / max(seconds, 1e-6),
            "requests": after["total"] - before["total"], "throttled": after["throttled"] - before["throttled"],
            "sql": sql, "cpu": cpu, "sim_cpu": simulator, "metered": metered_reads(h, realm) - metered0,
            "steady_rate": (steady * 60 / (last_done - steady_from).total_seconds()
                            if last_done and last_done > steady_from else 0.0)}


def sim_cpu(h):
    """CPU seconds the simulator's process has used so far (it runs beside Odoo on the same cores)."""
    fields = open(f"/proc/{h.sim.proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_thousand(count, records):
    return count * 1000 / (records or 1)


def metered_reads(h, realm):
    """The simulator's count of metered ("CorePlus") calls of `realm` (reads, queries, CDC, each
    query of a /batch counted as a call of its own, as Intuit meters them), every month summed."""
    return sum(month.get("coreplus", 0) for month in h.sim.get(f"/admin/usage?realm_id={realm}").values())


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
    before, metered0, sim0 = h.sim.counters(US_REALM), metered_reads(h, US_REALM), sim_cpu(h)
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
    metered = metered_reads(h, US_REALM) - metered0
    print(f"baseline: {records} {label} one at a time in {seconds:.0f}s", flush=True)
    return {"records": records, "errors": stats["errors"], "seconds": seconds, "rate": records * 60 / seconds,
            "requests": after["total"] - before["total"], "throttled": stats["throttled"], "sql": None, "cpu": cpu,
            "sim_cpu": sim_cpu(h) - sim0, "metered": metered}


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
