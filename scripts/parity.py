"""make parity: a generated book pushed to the simulator through injected faults, then
Odoo's receivables compared with QuickBooks' to the cent.

The book (US company, USD home currency, multi-currency on): customers in USD and in EUR;
at least 500 posted invoices of 1 to 4 lines with line discounts, taxed with every sales tax
mapped to a QuickBooks code (one code per invoice, as QuickBooks US charges one sales tax per
transaction) and untaxed lines; 100 credit notes, most applied to an invoice of their customer;
400 customer payments: partial, one payment for several invoices, overpayments, and some
unreconciled (and some deleted) after they reached QuickBooks. Everything is queued and drained
while the simulator fails on purpose (5xx, timeouts, lost answers, 429), round after round.

Compared, from the simulator's own records: per customer Odoo's open receivable (in the
customer's currency) against QuickBooks' Balance; per invoice and credit note Odoo's residual
against QuickBooks' Balance (and totals); per payment Odoo's amount and unapplied part against
QuickBooks' TotalAmt and UnappliedAmt. The Financial Hub's reconciliation report is refreshed
twice and its read calls printed. The last line reads
`parity: customers C, equal C, documents D, equal D, payments P, equal P`; the exit status is
non-zero when anything differs. PARITY_SEED=N picks another book and fault sequence (default 7).
"""
import os
import random
import time
from collections import defaultdict

from odoo import SUPERUSER_ID, Command, api

from simulator import US_REALM

DATABASE = "qbo_parity"
SEED = int(os.environ.get("PARITY_SEED", 7))
CUSTOMERS, EURO_CUSTOMERS, PRODUCTS = 60, 12, 20
INVOICES, CREDIT_NOTES, PAYMENTS = 500, 100, 400
FAULTS = f"error_rate=0.05,timeout_rate=0.02,timeout_s=1.5,lost_rate=0.03,throttle_rate=0.02,seed={SEED}"
SIMULATOR_ARGS = ["--faults", f"{US_REALM}:{FAULTS}"]
CLIENT_OPTIONS = {"timeout": 1.0}
TIME_LIMIT = 1200
PREFIX = "Parity" + time.strftime("%H%M%S")


def sales_taxes(env, company):
    """Every sales tax of the company mapped to a QuickBooks tax code, by code (a US invoice
    carries one code). Two of QuickBooks' own codes are mapped when nothing is."""
    def ref(kind, qbo_id):
        return env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", kind),
                                            ("qbo_id", "=", qbo_id)], limit=1)
    for name, amount, code in (("CA Sales 8.25%", 8.25, "2"), ("NYC Sales 8.875%", 8.875, "3")):
        if not env["account.tax"].search([("company_id", "=", company.id), ("name", "=", name)]):
            env["account.tax"].create({"name": name, "amount": amount, "type_tax_use": "sale",
                                       "company_id": company.id, "qbo_tax_code_ref_id": ref("taxcode", code).id})
    taxes = env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale"),
                                       ("qbo_tax_code_ref_id", "!=", False)])
    by_code = defaultdict(lambda: env["account.tax"])
    for tax in taxes:
        by_code[tax.qbo_tax_code_ref_id.id] |= tax
    return [group[:1] for group in by_code.values()]


def build(h, env, company, rng):
    _tax, term = h.map_for_invoices(env, company)
    taxes = sales_taxes(env, company)
    company.write({"qbo_sync_payments": True, "qbo_sync_customers": True, "qbo_sync_products": True})
    eur = env.ref("base.EUR")
    eur.active = True
    env["res.currency.rate"].search([("currency_id", "=", eur.id), ("company_id", "in", (company.id, False))]).unlink()
    for day, rate in (("2025-01-01", 0.92), ("2025-03-14", 0.9), ("2025-03-20", 0.87), ("2025-03-25", 0.95)):
        env["res.currency.rate"].create({"currency_id": eur.id, "name": day, "rate": rate, "company_id": company.id})
    pricelist = env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id, "company_id": company.id})
    partners = env["res.partner"].create([{
        "name": f"{PREFIX}C-{n:05d}", "is_company": True, "qbo_hub": "active",
        **({"property_product_pricelist": pricelist.id} if n < EURO_CUSTOMERS else {})} for n in range(CUSTOMERS)])
    products = env["product.product"].create([{
        "name": f"{PREFIX}P-{n:05d}", "default_code": f"{PREFIX}P-{n:05d}", "list_price": 10 + n, "type": "service",
        "taxes_id": [Command.clear()]} for n in range(PRODUCTS)])
    user = env.ref("base.user_admin")
    Move = env["account.move"].with_user(user).with_company(company)

    def doc_values(move_type, partner, n):
        currency = eur if partner.id in euro_ids else company.currency_id
        tax = taxes[n % len(taxes)]
        lines = []
        for k in range(1 + n % 4):
            lines.append(Command.create({
                "product_id": products[(n + k) % len(products)].id, "quantity": 1 + (n + k) % 3,
                "price_unit": round(rng.uniform(5, 400), 2), "discount": rng.choice([0, 0, 0, 5, 10, 12.5]),
                "tax_ids": [Command.set(tax.ids)] if k % 3 != 2 else [Command.clear()]}))
        return {"move_type": move_type, "partner_id": partner.id, "invoice_date": "2025-03-14",
                "currency_id": currency.id, "invoice_line_ids": lines,
                **({"invoice_payment_term_id": term.id} if move_type == "out_invoice" else {})}
    euro_ids = set(partners[:EURO_CUSTOMERS].ids)
    invoices = Move.create([doc_values("out_invoice", partners[n % CUSTOMERS], n) for n in range(INVOICES)])
    invoices.action_post()
    refunds = Move.create([doc_values("out_refund", partners[n % CUSTOMERS], n + 7) for n in range(CREDIT_NOTES)])
    for refund in refunds:   # credit notes smaller than invoices: one line, low price
        refund.invoice_line_ids[1:].unlink()
        refund.invoice_line_ids.price_unit = round(rng.uniform(5, 60), 2)
    refunds.action_post()
    (invoices | refunds).action_qbo_push()
    env.flush_all()
    env.cr.commit()
    return partners, invoices, refunds


def receivable(move):
    return move.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable" and not l.reconciled)


def apply_and_pay(env, company, invoices, refunds, rng):
    """Credit notes applied and payments registered; returns the payments."""
    by_partner = defaultdict(list)
    for inv in invoices:
        by_partner[(inv.partner_id.id, inv.currency_id.id)].append(inv)
    applied = 0
    for refund in refunds:
        candidates = [inv for inv in by_partner[(refund.partner_id.id, refund.currency_id.id)]
                      if inv.amount_residual > 0]
        if candidates and rng.random() < 0.8:
            (receivable(refund) | receivable(rng.choice(candidates))).reconcile()
            applied += 1
    env.flush_all()
    env.cr.commit()
    Register = env["account.payment.register"].with_user(env.ref("base.user_admin")).with_company(company)
    payments = env["account.payment"]
    kinds = ["partial"] * 120 + ["grouped"] * 100 + ["over"] * 60 + ["full"] * 120
    rng.shuffle(kinds)
    for n, kind in enumerate(kinds[:PAYMENTS]):
        keys = list(by_partner)
        key = keys[n % len(keys)]
        open_invoices = [inv for inv in by_partner[key] if inv.amount_residual > 0.01]
        if not open_invoices:
            # nothing left to pay: an advance, left unapplied
            partner = env["res.partner"].browse(key[0])
            pay = env["account.payment"].with_company(company).create({
                "payment_type": "inbound", "partner_type": "customer", "partner_id": partner.id,
                "amount": round(rng.uniform(10, 100), 2), "currency_id": key[1], "date": "2025-03-20"})
            pay.action_post()
            payments |= pay
            continue
        chosen = open_invoices[:rng.randint(2, 3)] if kind == "grouped" else [rng.choice(open_invoices)]
        moves = env["account.move"].browse([inv.id for inv in chosen])
        values = {"payment_date": rng.choice(["2025-03-20", "2025-03-25"]), "group_payment": True}
        residual = sum(moves.mapped("amount_residual"))
        if kind == "partial":
            values.update(amount=round(residual * rng.uniform(0.2, 0.8), 2), payment_difference_handling="open")
        elif kind == "over":
            values.update(amount=round(residual + rng.uniform(1, 80), 2), payment_difference_handling="open")
        payments |= Register.with_context(active_model="account.move", active_ids=moves.ids).create(
            values)._create_payments()
        if n % 50 == 49:
            env.flush_all()
            env.cr.commit()
    env.flush_all()
    env.cr.commit()
    print(f"book: {len(invoices)} invoices, {len(refunds)} credit notes ({applied} applied), "
          f"{len(payments)} payments", flush=True)
    return payments


def drain(h, company_id, label):
    started = time.monotonic()
    rounds = finished = 0
    while rounds < 60 and time.monotonic() - started < TIME_LIMIT:
        rounds += 1
        finished += h.drain(company_id, deadline=min(time.monotonic() + 240, started + TIME_LIMIT),
                            client_options=CLIENT_OPTIONS)
        with h.registry.cursor() as cr:
            cr.execute("""UPDATE qbo_job SET next_attempt_at = now() at time zone 'UTC'
                           WHERE company_id = %s AND state = 'pending'""", [company_id])
            cr.execute("""UPDATE qbo_job SET sent_at = sent_at - interval '1 day'
                           WHERE company_id = %s AND state = 'sending'""", [company_id])
        states = h.job_states(company_id)
        if not (states.get("pending") or states.get("sending")):
            break
    print(f"{label}: {finished} jobs finished in {rounds} round(s), {time.monotonic() - started:.0f}s, "
          f"queue {h.job_states(company_id)}", flush=True)


def later_changes(env, company, payments, rng):
    """After the first push: some payments unreconciled, some deleted, some credit notes unapplied."""
    payments = payments.exists()
    reconciled = payments.filtered(lambda p: p.reconciled_invoice_ids)
    unreconciled = reconciled[:: max(1, len(reconciled) // 30)][:30]
    for payment in unreconciled:
        payment.move_id.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").remove_move_reconcile()
    deleted = (payments - unreconciled)[1::40][:10]
    for payment in deleted:
        payment.action_draft()
        payment.unlink()
    refunds = env["account.move"].search([("company_id", "=", company.id), ("move_type", "=", "out_refund"),
                                          ("payment_state", "in", ("paid", "partial"))], limit=5)
    for refund in refunds:
        receivable_lines = refund.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        receivable_lines.remove_move_reconcile()
    env.flush_all()
    env.cr.commit()
    print(f"later: {len(unreconciled)} payments unreconciled, {len(deleted)} deleted, {len(refunds)} credit notes "
          "unapplied", flush=True)


def compare(h, env, company):
    """(customers, equal, documents, equal, payments, equal) and the lines that differ."""
    qbo = {entity: {row["Id"]: row for row in h.sim.entities(US_REALM, entity)}
           for entity in ("Customer", "Invoice", "CreditMemo", "Payment")}
    Link = env["qbo.link"]
    links = {(l.res_model, l.res_id): l for l in Link.search([("company_id", "=", company.id)])}
    problems = []
    cur = company.currency_id

    def same(a, b, currency):
        return not currency.compare_amounts(float(a or 0.0), float(b or 0.0))
    docs = env["account.move"].search([("company_id", "=", company.id), ("state", "=", "posted"),
                                       ("move_type", "in", ("out_invoice", "out_refund"))])
    doc_equal = 0
    for move in docs:
        link = links.get(("account.move", move.id))
        row = qbo[move._qbo_entity].get(link.qbo_id) if link and link.qbo_id else None
        if row and same(row.get("Balance"), move.amount_residual, move.currency_id) \
                and same(row.get("TotalAmt"), move.amount_total, move.currency_id):
            doc_equal += 1
        else:
            problems.append(f"document {move.name}: Odoo {move.amount_total}/{move.amount_residual}, QuickBooks "
                            f"{row and row.get('TotalAmt')}/{row and row.get('Balance')} "
                            f"({link and link.state}: {link and link.error_message})")
    rows = env["qbo.payment"].search([("company_id", "=", company.id)])
    pay_total = pay_equal = 0
    for pay in rows:
        link = links.get(("qbo.payment", pay.id))
        row = qbo["Payment"].get(link.qbo_id) if link and link.qbo_id else None
        if not pay._qbo_active():
            if row is None:
                continue   # nothing to hold, nothing held
            problems.append(f"payment {pay.name}: gone in Odoo, still in QuickBooks as {row['Id']}")
            pay_total += 1
            continue
        pay_total += 1
        currency = pay.move_id.currency_id
        lines = pay._qbo_receivable_lines()
        total = 0.0 if pay.kind == "credit" else -sum(lines.mapped("amount_currency"))
        unapplied = 0.0 if pay.kind == "credit" else -sum(lines.mapped("amount_residual_currency"))
        if row and same(row.get("TotalAmt"), total, currency) and same(row.get("UnappliedAmt"), unapplied, currency):
            pay_equal += 1
        else:
            problems.append(f"payment {pay.name}: Odoo {total}/{unapplied}, QuickBooks {row and row.get('TotalAmt')}/"
                            f"{row and row.get('UnappliedAmt')} ({link and link.state}: {link and link.error_message})")
    partners = docs.partner_id.commercial_partner_id
    cust_equal = 0
    for partner in partners:
        lines = env["account.move.line"].search([
            ("company_id", "=", company.id), ("partner_id", "=", partner.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable")])
        odoo = sum(lines.mapped("amount_residual_currency"))
        link = links.get(("res.partner", partner.id))
        row = qbo["Customer"].get(link.qbo_id) if link and link.qbo_id else None
        if row and same(row.get("BalanceWithJobs", row.get("Balance")), odoo, cur):
            cust_equal += 1
        else:
            problems.append(f"customer {partner.name}: Odoo {odoo:.2f}, QuickBooks {row and row.get('Balance')}")
    return (len(partners), cust_equal, len(docs), doc_equal, pay_total, pay_equal), problems


def run(h):
    rng = random.Random(SEED)
    registry = h.registry
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = h.connect_company(env, US_REALM)
        company_id = company.id
        _partners, invoices, refunds = build(h, env, company, rng)
        payment_ids = apply_and_pay(env, company, invoices, refunds, rng).ids
    print(f"faults {FAULTS}", flush=True)
    drain(h, company_id, "first push")
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        later_changes(env, env["res.company"].browse(company_id), env["account.payment"].browse(payment_ids), rng)
    drain(h, company_id, "after the later changes")
    h.sim.set_faults(US_REALM)   # the comparison and the report read without faults
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].browse(company_id)
        before = h.sim.counters(US_REALM)
        rows, differences = company._qbo_reconcile()
        middle = h.sim.counters(US_REALM)
        company._qbo_reconcile()
        after = h.sim.counters(US_REALM)

        def reads(a, b):
            return sum(b.get(k, 0) - a.get(k, 0) for k in ("read", "query", "cdc"))
        print(f"reconciliation report: {rows} rows, {differences} differences; first refresh {reads(before, middle)} "
              f"read calls, next refresh {reads(middle, after)}", flush=True)
        cr.commit()  # pylint: disable=invalid-commit  # the parity script's own registry cursor
        counts, problems = compare(h, env, company)
    for line in problems[:60]:
        print("differs:", line)
    c, ce, d, de, p, pe = counts
    print(f"parity: customers {c}, equal {ce}, documents {d}, equal {de}, payments {p}, equal {pe}", flush=True)
    return 0 if (c, d, p) == (ce, de, pe) else 1
