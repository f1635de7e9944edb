"""make chaos: a messy database pushed while QuickBooks fails on purpose, drained by worker
processes of which one is killed (a real SIGKILL) in the middle of a chunk; then QuickBooks
compared with Odoo record by record.

The database: 1,500 customers whose names clash three by three and whose emails are shared
two by two (each with an Odoo reference of its own, sent in QBO's Notes), 800 products whose
names clash two by two (each with its own SKU), 550 posted invoices and 150 posted credit notes
on them (1 to 4 lines each): 3,000 records of company A, pushed to one simulated US company.
Company B (a second US company of the simulator) holds the same customers and products, Odoo
sharing them between companies: 2,300 more (built without chatter tracking, in bulk). Once
everything is queued the simulator fails on purpose in both realms, per request: 15 % 429s,
then 20 % 5xx (503 pages and SystemFault 10000), 15 % timeouts (nothing done) and 20 % lost
answers (after the work was done); its rate limits are off (this measures correctness under
faults; `make bench` measures throughput under Intuit's limits). The engine's budgets keep
Intuit's proportions (500 requests to 40 batches a minute, a thousand times larger), so a
chunk's writes go both ways, some 30 to a /batch request and the rest one per request, as
under Intuit's budgets: every kind of fault meets both.

The queue is drained by separate worker processes (``python scripts/chaos.py --worker``), each
running the engine's own drain for one company (`qbo.job._qbo_process_company`, what a cron
worker runs; a worker holds the realm it drains, so two processes drain the one queue at once
through the two companies):
- round 1: worker A drains company A; as soon as it holds a chunk in flight (jobs 'sending'
  with their idempotency keys committed) worker B starts on company B, and A gets a SIGKILL;
  worker C takes company A over;
- between rounds nothing runs: the time a real queue would wait is skipped (jobs waiting for
  their retry are made ready, and the lease of the jobs the killed worker left 'sending' is made
  to expire, as ten minutes would);
- later rounds: one worker per company, both at once, until nothing is pending or sending.

The report compares every Odoo record with QuickBooks. The last line reads
`chaos: pushed N, in QBO N, duplicates 0, missing 0, overwritten 0, stuck 0, faults F`:
pushed = records synced in Odoo (both companies); in QBO = those QuickBooks holds under their
own key (Notes reference, SKU, DocNumber and total); duplicates = keys QuickBooks holds more
than once; missing = records neither synced nor in error with a reason, or synced to a
QuickBooks record that does not exist; overwritten = QuickBooks records linked to an Odoo
record whose key they do not hold (their fields belong to another record); stuck = jobs
'pending' or 'sending' at the end; faults = faults the simulator injected. The exit status is
non-zero when any of duplicates, missing, overwritten or stuck is not 0. CHAOS_SEED=N picks
another sequence of faults (default 42).
"""
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

DATABASE = "qbo_chaos"
CUSTOMERS, PRODUCTS, INVOICES, CREDIT_NOTES = 1500, 800, 550, 150
SEED = int(os.environ.get("CHAOS_SEED", 42))
FAULTS = {"error_rate": 0.2, "timeout_rate": 0.15, "timeout_s": 0.6, "lost_rate": 0.2, "throttle_rate": 0.15}
REALMS = ("9130350000000001", "9130350000000003")   # two US companies of the simulator
SIMULATOR_ARGS = ["--no-limits", "--realms", "3"]
CHUNK = 90                  # jobs a worker claims at once (3 batches of 30)
WORKER_SECONDS = 240        # a worker drains at most this long, then exits (the cron hands over too)
TIME_LIMIT = 3600           # seconds of draining at most (a loaded 2-core machine needs most of it)
MAX_ROUNDS = 60
PREFIX = "Chaos" + time.strftime("%H%M%S")
LOG_LEVEL = "error"
FAULT_KINDS = ("injected_5xx", "timeouts", "lost", "injected_429")


# ----------------------------------------------------------------------------------------------
# worker process
# ----------------------------------------------------------------------------------------------
def worker_main(db, company_id, seconds):
    """One drain of the queue in a process of its own, as a cron worker runs it."""
    root = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(root / "scripts")]
    import odoo_env
    sys.path[:0] = [str(odoo_env.odoo_src()), str(root)]
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["--addons-path", odoo_env.addons_path(), "-d", db, "--db_host", "",
                                    "--log-level", "error", "--no-http"])
    registry = Registry(db)
    # the client gives up before the simulator drops a connection it holds; its own quick
    # retries wait at most 0.2 s (the queue's backoff is what spaces the real retries)
    options = {"timeout": 0.5, "max_retries": 2, "sleep": lambda s: time.sleep(min(s, 0.2))}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        done = env["qbo.job"]._qbo_process_company(company_id, deadline=time.monotonic() + seconds,
                                                   chunk_size=CHUNK, client_options=options)
    print(f"worker {os.getpid()}: {done} job(s) finished", flush=True)
    sys.stdout.flush()
    os._exit(0)


def start_worker(company_id, seconds=WORKER_SECONDS):
    return subprocess.Popen([sys.executable, __file__, "--worker", DATABASE, str(company_id), str(seconds)],
                            cwd=str(Path(__file__).resolve().parent.parent))


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------
def run(h):
    from odoo import SUPERUSER_ID, api
    registry = h.registry
    started = time.monotonic()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        ICP = env["ir.config_parameter"].sudo()
        # Intuit's proportions (500 requests and 40 batches a minute), a thousand times larger: no
        # request waits for the budget, and a chunk's writes go both ways, in /batch requests and
        # one per request, as the engine splits them under Intuit's budgets
        ICP.set_param("qbo_financial_hub.batches_per_minute", 40 * 1000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 500 * 1000)
        ICP.set_param("qbo_financial_hub.single_writes", "1")
        first = h.connect_company(env, REALMS[0])
        second = env["res.company"].create({"name": f"{PREFIX} B", "currency_id": first.currency_id.id})
        env.ref("base.user_admin").write({"company_ids": [(4, second.id)]})
        env.cr.commit()
        h.connect_company(env(context={"allowed_company_ids": [second.id]}), REALMS[1])
        companies = {first.id: REALMS[0], second.id: REALMS[1]}
        expected = create_database(h, env, first, second)
    for realm in REALMS:   # faults from now on: the set-up above went through a calm QuickBooks
        h.sim.set_faults(realm, seed=SEED + int(realm[-1]), **FAULTS)
    print(f"{sum(len(e) for e in expected.values())} records created and queued in {time.monotonic() - started:.0f}s: "
          f"company A {len(expected[first.id])} ({CUSTOMERS} customers, {PRODUCTS} products, {INVOICES} invoices, "
          f"{CREDIT_NOTES} credit notes), company B {len(expected[second.id])} (the same customers and products, "
          f"its own realm); faults {FAULTS}", flush=True)

    started = time.monotonic()
    kill = first_round(h, first.id, second.id)
    rounds = 1
    while rounds < MAX_ROUNDS and time.monotonic() - started < TIME_LIMIT:
        states = skip_waiting_time(h)
        print(f"round {rounds}: queue {states} ({time.monotonic() - started:.0f}s)", flush=True)
        if not (states.get("pending") or states.get("sending")):
            break
        rounds += 1
        workers = [start_worker(company_id) for company_id in companies]
        for worker in workers:
            worker.wait()
    elapsed = time.monotonic() - started
    counters = {realm: h.sim.counters(realm) for realm in REALMS}
    for realm in REALMS:
        print(f"simulator {realm}: " + ", ".join(f"{k} {counters[realm].get(k, 0)}" for k in (
            "total", "batch", "batch_items", "create", "update", "replayed") + FAULT_KINDS), flush=True)
    print(f"killed worker: pid {kill['pid']} by SIGKILL (exit {kill['exit']}) while {kill['sending']} job(s) of "
          f"company A were in flight; {rounds} round(s), two worker processes draining the queue at once, "
          f"{elapsed:.0f}s", flush=True)
    return report(h, companies, expected, counters)


def create_database(h, env, company, second):
    """The messy database; returns {company id: {(model, id): key}} of every record to push.
    Company B holds the same customers and products (Odoo shares them between companies)."""
    from odoo import Command
    # no chatter tracking while the database is built (what is checked is QuickBooks against Odoo)
    env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True))
    Partner = env["res.partner"]
    partners = Partner.create([{
        "name": f"{PREFIX} Shop {i // 3:04d}",                     # three customers per name
        "ref": f"{PREFIX}R{i:05d}",                                 # sent as Notes: the record's key
        "email": f"shared{i // 2}@{PREFIX.lower()}.example",       # two customers per email
        "is_company": True, "city": "Boston", "qbo_hub": "active"} for i in range(CUSTOMERS)])
    products = env["product.product"].create([{
        "name": f"{PREFIX} Item {i // 2:04d}",                     # two products per name
        "default_code": f"{PREFIX}S{i:05d}", "list_price": 10 + i % 90,
        "type": "service" if i % 3 == 0 else "consu", "sale_ok": True} for i in range(PRODUCTS)])
    partners.with_company(second).write({"qbo_hub": "active"})
    env.flush_all()
    env.cr.commit()
    tax, term = h.map_for_invoices(env, company)
    Move = env["account.move"].with_user(env.ref("base.user_admin")).with_company(company)
    move_ids = []
    for move_type, count in (("out_invoice", INVOICES), ("out_refund", CREDIT_NOTES)):
        for start in range(0, count, 100):
            values = []
            for n in range(start, min(start + 100, count)):
                lines = 1 + n % 4
                values.append({
                    "move_type": move_type, "partner_id": partners[(n * 7) % len(partners)].id,
                    "invoice_date": "2025-03-14", "invoice_payment_term_id": term.id if move_type == "out_invoice" else False,
                    "invoice_line_ids": [Command.create({
                        "product_id": products[(n * 5 + k) % len(products)].id, "quantity": 1 + (n + k) % 3,
                        "price_unit": 10 + (n * 7 + k * 13) % 90 + 0.25 * (k % 3),
                        "tax_ids": [Command.set(tax.ids)] if k % 2 == 0 else [Command.clear()],
                    }) for k in range(lines)]})
            moves = Move.create(values)
            moves.action_post()
            moves.action_qbo_push()
            env.flush_all()
            env.cr.commit()
            move_ids += moves.ids
    expected = {("res.partner", p.id): p.ref for p in partners}
    expected.update({("product.product", p.id): p.default_code for p in products})
    expected_b = dict(expected)
    expected.update({("account.move", m.id): m.name for m in env["account.move"].browse(move_ids)})
    return {company.id: expected, second.id: expected_b}


def first_round(h, company_a, company_b):
    """Worker A drains company A; when it holds a chunk in flight (jobs 'sending' with their
    idempotency keys committed), worker B starts on company B beside it and A is killed with
    SIGKILL; worker C takes company A over. (A worker holds a realm while it drains it: two
    processes drain the one queue at once through two companies.)"""
    a = start_worker(company_a)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and a.poll() is None:
        with h.registry.cursor() as cr:
            cr.execute("""SELECT count(*) FROM qbo_job WHERE company_id = %s AND state = 'sending'
                                                          AND batch_ref IS NOT NULL""", [company_a])
            if cr.fetchone()[0]:
                break
        time.sleep(0.05)
    b = start_worker(company_b)
    time.sleep(0.3)   # A's requests are in flight
    with h.registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM qbo_job WHERE company_id = %s AND state = 'sending'", [company_a])
        in_flight = cr.fetchone()[0]
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    c = start_worker(company_a)
    b.wait()
    c.wait()
    return {"pid": a.pid, "exit": a.returncode, "sending": in_flight}


def skip_waiting_time(h):
    """No worker runs now: what a real queue would wait for happens at once."""
    with h.registry.cursor() as cr:
        cr.execute("UPDATE qbo_job SET next_attempt_at = now() at time zone 'UTC' WHERE state = 'pending'")
        # left 'sending' by the killed worker: ten minutes later its lease has expired
        cr.execute("UPDATE qbo_job SET sent_at = sent_at - interval '1 day' WHERE state = 'sending'")
        cr.execute("SELECT state, count(*) FROM qbo_job GROUP BY state")
        return dict(cr.fetchall())


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def remote_keys(h, realm):
    """{(model, key): [QBO ids]} of what QuickBooks holds in `realm`, {(model, QBO id): key}
    and {document QBO id: total}."""
    holders, key_of, totals = defaultdict(list), {}, {}
    marker = "Odoo reference: "
    for row in h.sim.entities(realm, "Customer"):
        notes = row.get("Notes") or ""
        if notes.startswith(marker + PREFIX):
            key = notes[len(marker):]
            holders[("res.partner", key)].append(row["Id"])
            key_of[("res.partner", row["Id"])] = key
    for row in h.sim.entities(realm, "Item"):
        if (row.get("Sku") or "").startswith(PREFIX):
            holders[("product.product", row["Sku"])].append(row["Id"])
            key_of[("product.product", row["Id"])] = row["Sku"]
    for entity in ("Invoice", "CreditMemo"):
        for row in h.sim.entities(realm, entity):
            key = (entity, row.get("DocNumber"))
            holders[("account.move", key)].append(row["Id"])
            key_of[("account.move", row["Id"])] = key
            totals[row["Id"]] = float(row.get("TotalAmt") or 0.0)
    return holders, key_of, totals


def check_company(h, company_id, realm, expected, found):
    """Every Odoo record of `expected` against QuickBooks `realm`; adds to the lists of `found`."""
    from odoo import SUPERUSER_ID, api
    with h.registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("""SELECT res_model, res_id, state, qbo_id, error_code, error_message FROM qbo_link
                       WHERE company_id = %s""", [company_id])
        links = {(m, rid): (state, qbo_id, code, msg) for m, rid, state, qbo_id, code, msg in cr.fetchall()}
        moves = env["account.move"].browse([rid for model, rid in expected if model == "account.move"])
        move_info = {m.id: (("Invoice" if m.move_type == "out_invoice" else "CreditMemo", m.name), m.amount_total)
                     for m in moves}
    holders, key_of, totals = remote_keys(h, realm)
    for (model, rid), key in sorted(expected.items()):
        state, qbo_id, code, message = links.get((model, rid), ("none", None, None, None))
        amount = None
        if model == "account.move":
            key, amount = move_info[rid]
        if state == "error":
            found["errors"].append(f"{realm} {model},{rid} {key}: [{code}] {message}")
            continue
        if state != "synced":
            found["missing"].append(f"{realm} {model},{rid} {key}: left '{state}'")
            continue
        found["pushed"].append((model, rid))
        held = key_of.get((model, qbo_id))
        if held is None:
            found["missing"].append(f"{realm} {model},{rid} {key}: synced as {qbo_id}, which QuickBooks does not hold")
        elif held != key or (amount is not None and abs(totals.get(qbo_id, 0.0) - amount) > 0.005):
            found["overwritten"].append(f"{realm} {model},{rid} {key}: linked to QuickBooks {qbo_id}, "
                                        f"which holds {held}")
        else:
            found["in_qbo"] += 1
    found["duplicates"] += [f"{realm} {key} x{len(ids)} ({', '.join(ids)})"
                            for key, ids in holders.items() if len(ids) > 1]
    found["clashes"] += sum(1 for row in h.sim.entities(realm, "Customer")
                            if (row.get("DisplayName") or "").startswith(PREFIX) and row["DisplayName"].endswith(")"))


def report(h, companies, expected, counters):
    found = {"pushed": [], "in_qbo": 0, "errors": [], "missing": [], "overwritten": [], "duplicates": [],
             "clashes": 0}
    for company_id, realm in companies.items():
        check_company(h, company_id, realm, expected[company_id], found)
    with h.registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM qbo_job WHERE state IN ('pending', 'sending')")
        stuck = cr.fetchone()[0]
    faults = {kind: sum(counters[realm].get(kind, 0) for realm in counters) for kind in FAULT_KINDS}
    for kind in ("errors", "missing", "overwritten", "duplicates"):
        for line in found[kind][:20]:
            print(f"{kind[:-1] if kind.endswith('s') else kind}: {line}")
    kinds = Counter(model for model, _rid in found["pushed"])
    print(f"synced: {kinds['res.partner']} customers ({found['clashes']} under their suffixed name), "
          f"{kinds['product.product']} products, {kinds['account.move']} invoices and credit notes; "
          f"errors {len(found['errors'])}; faults by kind: " + ", ".join(f"{k} {v}" for k, v in faults.items()))
    print(f"chaos: pushed {len(found['pushed'])}, in QBO {found['in_qbo']}, duplicates {len(found['duplicates'])}, "
          f"missing {len(found['missing'])}, overwritten {len(found['overwritten'])}, stuck {stuck}, "
          f"faults {sum(faults.values())}", flush=True)
    return 1 if found["duplicates"] or found["missing"] or found["overwritten"] or stuck else 0


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--worker":
    worker_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
