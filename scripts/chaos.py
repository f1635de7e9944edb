"""make chaos: 500 customers, 500 products and 300 posted invoices (1 to 4 lines each, on those
customers and products) pushed to the simulator while it fails on purpose (10 % 5xx, 5 %
timeouts, 5 % lost answers, 2 % 429), then Odoo compared with QBO.

Run by scripts/run_odoo_script.py (fresh database qbo_chaos, simulator in a subprocess).
The queue is drained by the engine's own `_qbo_process_company`, round after round; between
rounds jobs waiting for their retry time are made ready at once (the cron would wait). The
last line reads `chaos: pushed N, in QBO N, duplicates 0, missing 0, errors E` (invoices
counted in N; an invoice is duplicated when its DocNumber, the Odoo invoice name, is in QBO more
than once). The 6140 (duplicate DocNumber) faults QBO answered are counted from the engine's
classification of every error, and reported. The exit status is non-zero when a record is
duplicated or missing in QBO. CHAOS_SEED=N picks another
sequence of faults (default 42).
"""
import os
import re
import time
from collections import Counter, defaultdict

from odoo import SUPERUSER_ID, api

from simulator import US_REALM

DATABASE = "qbo_chaos"
CUSTOMERS = PRODUCTS = 500
INVOICES = 300
SEED = int(os.environ.get("CHAOS_SEED", 42))
FAULTS = f"error_rate=0.1,timeout_rate=0.05,timeout_s=1.5,lost_rate=0.05,throttle_rate=0.02,seed={SEED}"
SIMULATOR_ARGS = ["--faults", f"{US_REALM}:{FAULTS}"]
CLIENT_OPTIONS = {"timeout": 1.0}    # the client gives up before the simulator drops the connection
TIME_LIMIT = 600                     # seconds of draining at most
MAX_ROUNDS = 50
PREFIX = "Chaos" + time.strftime("%H%M%S")
KEY = re.compile(re.escape(PREFIX) + r"[CP]-\d{5}")  # one key per Odoo record, suffixed names included
FAULT_CODES = Counter()              # QBO error codes the engine classified (6140: duplicate DocNumber)


def count_faults():
    """Watch the engine's classification of every error QBO answered (batch items included,
    which the simulator's request log does not show)."""
    from odoo.addons.qbo_financial_hub.models.qbo_job import QboJob
    classify = QboJob._qbo_classify

    def counting(self, error, plan):
        FAULT_CODES[str(getattr(error, "code", None))] += 1
        return classify(self, error, plan)
    QboJob._qbo_classify = counting


def run(h):
    registry = h.registry
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = h.connect_company(env, US_REALM)
        company_id = company.id
        partners, products = h.create_records(env, PREFIX, CUSTOMERS, PRODUCTS)
        names = {("res.partner", p.id): p.name for p in partners}
        names.update({("product.product", p.id): p.name for p in products})
        tax, term = h.map_for_invoices(env, company)
        invoice_ids = []
        for lines in range(1, 5):   # 1 to 4 lines each, queued behind their customers and products
            count = INVOICES // 4 + (1 if lines <= INVOICES % 4 else 0)
            offset = (lines - 1) * len(partners) // 4
            invoice_ids += h.create_invoices(env, company, partners[offset:], products[offset:], count, lines,
                                             tax, term)
        names.update({("account.move", m.id): m.name for m in env["account.move"].browse(invoice_ids)})
    count_faults()
    print(f"{len(names)} records queued ({CUSTOMERS} customers, {PRODUCTS} products, {len(invoice_ids)} invoices), "
          f"faults {FAULTS}", flush=True)

    started = time.monotonic()
    rounds = finished = 0
    while rounds < MAX_ROUNDS and time.monotonic() - started < TIME_LIMIT:
        rounds += 1
        deadline = min(time.monotonic() + 240, started + TIME_LIMIT)
        finished += h.drain(company_id, deadline=deadline, client_options=CLIENT_OPTIONS)
        with registry.cursor() as cr:
            # jobs waiting for their retry are ready now; 'sending' jobs can only be left by a
            # drain that died: their lease is made to expire, so they are re-sent with their ids
            cr.execute("""UPDATE qbo_job SET next_attempt_at = now() at time zone 'UTC'
                           WHERE company_id = %s AND state = 'pending'""", [company_id])
            cr.execute("""UPDATE qbo_job SET sent_at = sent_at - interval '1 day'
                           WHERE company_id = %s AND state = 'sending'""", [company_id])
        states = h.job_states(company_id)
        print(f"round {rounds}: {finished} jobs finished, queue {states} "
              f"({time.monotonic() - started:.0f}s)", flush=True)
        if not (states.get("pending") or states.get("sending")):
            break
    elapsed = time.monotonic() - started
    counters = h.sim.counters(US_REALM)
    print("simulator: " + ", ".join(f"{k} {counters.get(k, 0)}" for k in (
        "total", "batch", "batch_items", "replayed", "injected_5xx", "injected_429", "timeouts", "lost",
        "throttled")), flush=True)
    print("QBO error codes seen by the engine: " + (", ".join(
        f"{code} x{count}" for code, count in FAULT_CODES.most_common()) or "none"), flush=True)
    return report(h, company_id, names, rounds, elapsed)


def report(h, company_id, names, rounds, elapsed):
    with h.registry.cursor() as cr:
        cr.execute("""SELECT res_model, res_id, state, qbo_id, error_code, error_message FROM qbo_link
                       WHERE company_id = %s AND res_model IN ('res.partner', 'product.product', 'account.move')""",
                   [company_id])
        links = {(m, rid): (state, qbo_id, code, msg) for m, rid, state, qbo_id, code, msg in cr.fetchall()}
    remote = defaultdict(list)          # key -> QBO ids of records whose name carries it
    remote_ids = set()
    for entity, field in (("Customer", "DisplayName"), ("Item", "Name")):
        for row in h.sim.entities(US_REALM, entity):
            match = KEY.search(row.get(field) or "")
            if match:
                remote[(entity, match.group(0))].append(row["Id"])
                remote_ids.add((entity, row["Id"]))
    numbers = {name for (model, _rid), name in names.items() if model == "account.move"}
    for row in h.sim.entities(US_REALM, "Invoice"):     # an invoice's key is its DocNumber
        if row.get("DocNumber") in numbers:
            remote[("Invoice", row["DocNumber"])].append(row["Id"])
            remote_ids.add(("Invoice", row["Id"]))
    entity_of = {"res.partner": "Customer", "product.product": "Item", "account.move": "Invoice"}

    synced, errors, missing, orphans = [], [], [], []
    for key, name in sorted(names.items()):
        state, qbo_id, code, message = links.get(key, ("none", None, None, None))
        entity = entity_of[key[0]]
        if state == "synced":
            synced.append(key)
            if (entity, qbo_id) not in remote_ids:
                missing.append(f"{name}: synced as {entity} {qbo_id}, which QBO does not hold")
        elif state == "error":
            errors.append(f"{name}: [{code}] {message}")
            if remote.get((entity, name)):
                orphans.append(f"{name}: in error in Odoo but in QBO as {entity} {remote[(entity, name)]}")
        else:
            missing.append(f"{name}: left '{state}' (neither synced nor in error)")
    dup_names = Counter()
    for (entity, key), ids in remote.items():
        if len(ids) > 1:
            dup_names[f"{entity} {key}"] = len(ids)
    in_qbo = sum(1 for (model, _rid), name in names.items() if remote.get((entity_of[model], name)))

    print(f"\n{rounds} drain round(s), {elapsed:.0f}s")
    for line in errors:
        print("error:", line)
    for line in missing[:50]:
        print("missing:", line)
    for name, count in dup_names.most_common(50):
        print(f"duplicate: {name} x{count}")
    for line in orphans:
        print("note:", line)
    kinds = Counter(model for model, _rid in synced)
    print(f"synced: {kinds['res.partner']} customers, {kinds['product.product']} products, "
          f"{kinds['account.move']} invoices; 6140 duplicate-DocNumber faults: {FAULT_CODES['6140']}")
    print(f"chaos: pushed {len(synced)}, in QBO {in_qbo}, duplicates {len(dup_names)}, "
          f"missing {len(missing)}, errors {len(errors)}", flush=True)
    return 1 if dup_names or missing else 0
