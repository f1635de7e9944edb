"""make parity: a generated book pushed to the simulator through injected faults, then
Odoo's receivables compared with QuickBooks' to the cent.

Two companies, each connected to its own simulated QuickBooks company:
- the US company (USD home currency, multi-currency on, tax rounded globally): customers in USD
  and in EUR; invoices taxed with one sales tax per invoice (QuickBooks US charges one code per
  transaction), among them prices tax included, cash rounding (a rounding line, or added to
  the tax), an early-payment discount and lines without a product;
- the Canadian company (CAD, one currency, tax rounded per line): GST, HST and PST BC on the
  lines of one invoice, the group GST + PST BC (QuickBooks' combined code), HST included in
  prices, the same cash roundings, early-payment discount and lines without a product.
In both, some lines without a product sit on an income account mapped to another QuickBooks
account than the default item's: they go on the item picked for that account.
Every invoice carries 1 to 4 lines with line discounts and untaxed (zero-rated) lines; at least
500 posted invoices in all, 100 credit notes (most applied to an invoice of their customer),
400 customer payments: partial, one payment for several invoices, overpayments, and some
unreconciled (and some deleted) after they reached QuickBooks, and paid invoices cancelled (voided
in QuickBooks after the payments stop applying them). Everything is queued and drained
while the simulator fails on purpose (5xx, timeouts, lost answers, 429), round after round.

Compared, from the simulator's own records: per customer Odoo's open receivable (in the
customer's currency) against QuickBooks' Balance; per invoice and credit note Odoo's residual
against QuickBooks' Balance (and totals); per payment Odoo's amount and unapplied part against
QuickBooks' TotalAmt and UnappliedAmt. The Financial Hub's reconciliation report is refreshed
twice and its read calls printed. A line per kind of document says how many came out equal. The
last line reads `parity: customers C, equal C, documents D, equal D, payments P, equal P`
(both companies); the exit status is non-zero when anything differs. PARITY_SEED=N picks another
book and fault sequence (default 7); PARITY_SCALE=0.1 a book ten times smaller, for a quick try.
"""
import os
import random
import time
from collections import Counter, defaultdict

from odoo import SUPERUSER_ID, Command, api

from simulator import CA_REALM, US_REALM

DATABASE = "qbo_parity"
SEED = int(os.environ.get("PARITY_SEED", 7))
EURO_CUSTOMERS, PRODUCTS = 12, 20
# per company: customers, invoices, credit notes, payments (PARITY_SCALE=0.1: a quick try)
SCALE = float(os.environ.get("PARITY_SCALE", 1))
SIZES = {key: tuple(max(4, round(n * SCALE)) for n in sizes)
         for key, sizes in {"us": (40, 300, 60, 240), "ca": (24, 220, 40, 160)}.items()}
FAULTS = f"error_rate=0.05,timeout_rate=0.02,timeout_s=1.5,lost_rate=0.03,throttle_rate=0.02,seed={SEED}"
SIMULATOR_ARGS = ["--faults", f"{US_REALM}:{FAULTS}", "--faults", f"{CA_REALM}:{FAULTS}"]
CLIENT_OPTIONS = {"timeout": 1.0}
TIME_LIMIT = 1200
PREFIX = "Parity" + time.strftime("%H%M%S")
# one kind per invoice, in turn; "plain" carries the company's ordinary taxes
KINDS = {"us": ("plain", "included", "plain", "rounding_line", "epd", "plain", "rounding_tax", "no_product"),
         "ca": ("plain", "group", "included", "rounding_line", "epd", "group", "rounding_tax", "no_product")}
INVOICE_DATE, EPD_DAYS = "2025-03-14", 10
PAYMENT_DATES = ("2025-03-20", "2025-03-25")   # the second one past the early-payment discount


def qbo_ref(env, company, kind, qbo_id):
    return env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", kind),
                                        ("qbo_id", "=", qbo_id)], limit=1)


def sale_tax(env, company, name, amount, code=None, **values):
    Tax = env["account.tax"].with_company(company)
    tax = Tax.search([("company_id", "=", company.id), ("name", "=", name), ("type_tax_use", "=", "sale")], limit=1)
    return tax or Tax.create({"name": name, "amount": amount, "type_tax_use": "sale", "company_id": company.id,
                              **({"qbo_tax_code_ref_id": qbo_ref(env, company, "taxcode", code).id} if code else {}),
                              **values})


def us_taxes(env, company):
    """Every sales tax of the company mapped to a QuickBooks tax code, one per code (a US invoice
    carries one code), and a tax included in prices. Two of QuickBooks' own codes are mapped."""
    sale_tax(env, company, "CA Sales 8.25%", 8.25, "2")
    sale_tax(env, company, "NYC Sales 8.875%", 8.875, "3")
    taxes = env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale"),
                                       ("qbo_tax_code_ref_id", "!=", False), ("price_include", "=", False)])
    by_code = defaultdict(lambda: env["account.tax"])
    for tax in taxes:
        by_code[tax.qbo_tax_code_ref_id.id] |= tax
    included = sale_tax(env, company, "CA Sales 8.25% included", 8.25, "2", price_include_override="tax_included")
    return {"plain": [group[:1] for group in by_code.values()], "included": [included]}


def ca_taxes(env, company):
    """GST, HST ON and PST BC on their QuickBooks codes, the group GST + PST BC left to QuickBooks'
    combined code, HST included in prices."""
    gst = sale_tax(env, company, "GST 5%", 5, "3")
    hst = sale_tax(env, company, "HST ON 13%", 13, "4")
    pst = sale_tax(env, company, "PST BC 7%", 7, "6")
    group = env["account.tax"].search([("company_id", "=", company.id), ("name", "=", "GST + PST BC 12%")], limit=1) \
        or env["account.tax"].with_company(company).create({
            "name": "GST + PST BC 12%", "amount_type": "group", "type_tax_use": "sale", "company_id": company.id,
            "children_tax_ids": [Command.set((gst | pst).ids)]})
    included = sale_tax(env, company, "HST ON 13% included", 13, "4", price_include_override="tax_included")
    return {"plain": [gst, hst, pst], "group": [group, gst], "included": [included, gst]}


def canada_company(h, env):
    """A Canadian company (CAD, the generic chart) connected to the simulator's Canadian realm and
    mapped as tests/test_invoices.py's QboCanadaCase maps it."""
    cad = env.ref("base.CAD")
    cad.active = True
    company = env["res.company"].create({"name": f"{PREFIX} Maple Inc", "currency_id": cad.id,
                                         "country_id": env.ref("base.ca").id})
    (env.user | env.ref("base.user_admin")).write({"company_ids": [Command.link(company.id)]})
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    company.currency_id = cad   # the generic chart sets USD
    env.cr.commit()
    company = h.connect_company(h.company_env(env, company), CA_REALM)
    company.write({"qbo_income_account_id": qbo_ref(env, company, "account", "1").id,
                   "qbo_product_tax_default_id": qbo_ref(env, company, "taxcode", "3").id,
                   "qbo_tax_default_id": qbo_ref(env, company, "taxcode", "3").id,
                   "qbo_product_tax_zero_id": qbo_ref(env, company, "taxcode", "8").id,
                   "qbo_invoice_number": "odoo", "tax_calculation_rounding_method": "round_per_line"})
    term = env.ref("account.account_payment_term_30days")
    term.with_company(company).qbo_term_ref_id = qbo_ref(env, company, "term", "3")
    env.cr.commit()
    return company, term


def extras(env, company, key):
    """What the special kinds need: the item of lines without a product (also the rounding and
    discount lines), two cash roundings and an early-payment-discount term."""
    Product = env["product.product"].with_company(company)
    services = Product.create({"name": f"{PREFIX}{key} services", "default_code": f"{PREFIX}{key}SVC",
                               "type": "service", "list_price": 0, "company_id": company.id,
                               "taxes_id": [Command.clear()]})
    company.qbo_line_product_id = services
    Account = env["account.account"].with_company(company)
    income = Account.search([("company_ids", "in", company.id), ("account_type", "=", "income")], limit=1)
    expense = Account.search([("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1)
    roundings = {strategy: env["account.cash.rounding"].with_company(company).create({
        "name": f"{PREFIX}{key} nickel {strategy}", "rounding": 0.05, "strategy": strategy,
        "rounding_method": "HALF-UP", "profit_account_id": income.id, "loss_account_id": expense.id})
        for strategy in ("add_invoice_line", "biggest_tax")}
    epd = env["account.payment.term"].create({
        "name": f"{PREFIX}{key} 2/{EPD_DAYS} Net 30", "company_id": company.id, "early_discount": True,
        "discount_percentage": 2, "discount_days": EPD_DAYS, "early_pay_discount_computation": "mixed",
        "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})]})
    epd.with_company(company).qbo_term_ref_id = qbo_ref(env, company, "term", "3")
    # an income account mapped to QuickBooks' Services account, whose lines without a product go
    # on an item of their own (booking on that account)
    storage = Account.create({"code": f"4009{company.id:02d}", "name": f"{PREFIX} storage income",
                              "account_type": "income"})
    storage.qbo_account_ref_id = qbo_ref(env, company, "account", "2")
    storage.qbo_line_product_id = Product.create({
        "name": f"{PREFIX}{key} storage", "default_code": f"{PREFIX}{key}STO", "type": "service",
        "list_price": 0, "company_id": company.id, "taxes_id": [Command.clear()],
        "property_account_income_id": storage.id})
    return roundings, epd, storage


def build(h, env, company, key, term, taxes, rng):
    """Customers, products, invoices and credit notes of one company, queued; returns
    (invoices, credit notes, kind per invoice id)."""
    customers, invoice_count, refund_count, _payments = SIZES[key]
    company.write({"qbo_sync_payments": True, "qbo_sync_customers": True, "qbo_sync_products": True})
    roundings, epd, storage = extras(env, company, key)
    currencies = {}
    values = {"company_id": company.id}
    if key == "us":
        eur = env.ref("base.EUR")
        eur.active = True
        env["res.currency.rate"].search([("currency_id", "=", eur.id),
                                         ("company_id", "in", (company.id, False))]).unlink()
        for day, rate in (("2025-01-01", 0.92), ("2025-03-14", 0.9), ("2025-03-20", 0.87), ("2025-03-25", 0.95)):
            env["res.currency.rate"].create({"currency_id": eur.id, "name": day, "rate": rate,
                                             "company_id": company.id})
        pricelist = env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id, "company_id": company.id})
        currencies = {n: eur for n in range(min(EURO_CUSTOMERS, customers // 3))}
    Partner = env["res.partner"].with_company(company)
    partners = Partner.create([{
        "name": f"{PREFIX}{key.upper()}-C-{n:05d}", "is_company": True, "qbo_hub": "active", **values,
        **({"property_product_pricelist": pricelist.id} if n in currencies else {})} for n in range(customers)])
    products = env["product.product"].with_company(company).create([{
        "name": f"{PREFIX}{key.upper()}-P-{n:05d}", "default_code": f"{PREFIX}{key.upper()}-P-{n:05d}",
        "list_price": 10 + n, "type": "service", "taxes_id": [Command.clear()], **values} for n in range(PRODUCTS)])
    user = env.ref("base.user_admin")
    Move = env["account.move"].with_user(user).with_company(company)
    currency_of = {partner.id: currencies.get(n, company.currency_id) for n, partner in enumerate(partners)}
    kinds = {}

    def doc_values(move_type, partner, n, kind):
        line_taxes = taxes.get(kind) or taxes["plain"]
        if key == "us":   # one code per invoice
            line_taxes = [line_taxes[n % len(line_taxes)]]
        lines = []
        for k in range(1 + n % 4):
            untaxed = k % 3 == 2
            tax = line_taxes[(n + k) % len(line_taxes)]
            line = {"quantity": 1 + (n + k) % 3, "price_unit": round(rng.uniform(5, 400), 2),
                    "discount": rng.choice([0, 0, 0, 5, 10, 12.5]),
                    "tax_ids": [Command.clear()] if untaxed else [Command.set(tax.ids)]}
            if kind == "no_product" and k % 2 == 0:
                line["name"] = f"Work without a product, part {k + 1}"
                if k == 2:   # on the account that has its own item
                    line["account_id"] = storage.id
            else:
                line["product_id"] = products[(n + k) % len(products)].id
            lines.append(Command.create(line))
        vals = {"move_type": move_type, "partner_id": partner.id, "invoice_date": INVOICE_DATE,
                "currency_id": currency_of[partner.id].id, "invoice_line_ids": lines}
        if move_type == "out_invoice":
            vals["invoice_payment_term_id"] = (epd if kind == "epd" else term).id
        if kind.startswith("rounding_"):
            vals["invoice_cash_rounding_id"] = roundings[
                "add_invoice_line" if kind == "rounding_line" else "biggest_tax"].id
        return vals
    invoice_values = []
    for n in range(invoice_count):
        kind = KINDS[key][n % len(KINDS[key])]
        invoice_values.append((kind, doc_values("out_invoice", partners[n % customers], n, kind)))
    invoices = Move.create([vals for _kind, vals in invoice_values])
    kinds = {inv.id: kind for inv, (kind, _vals) in zip(invoices, invoice_values)}
    invoices.action_post()
    refund_kinds = ("plain", "group") if key == "ca" else ("plain",)
    refunds = Move.create([doc_values("out_refund", partners[n % customers], n + 7, refund_kinds[n % len(refund_kinds)])
                           for n in range(refund_count)])
    for refund in refunds:   # credit notes smaller than invoices: one line, low price
        refund.invoice_line_ids[1:].unlink()
        refund.invoice_line_ids.price_unit = round(rng.uniform(5, 60), 2)
        kinds[refund.id] = "credit note"
    refunds.action_post()
    (invoices | refunds).action_qbo_push()
    env.flush_all()
    env.cr.commit()
    print(f"{key} book: {len(partners)} customers, " + ", ".join(
        f"{count} {kind}" for kind, count in sorted(Counter(kinds.values()).items())), flush=True)
    return invoices, refunds, kinds


def receivable(move):
    return move.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable" and not l.reconciled)


def apply_and_pay(env, company, key, invoices, refunds, rng):
    """Credit notes applied and payments registered; returns the payments. A payment of an
    invoice with an early-payment discount is dated after the discount (paid in time, Odoo
    books the discount as a write-off, which a QuickBooks Payment cannot carry: refused)."""
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
    count = SIZES[key][3]
    kinds = ["partial"] * 3 + ["grouped"] * 3 + ["over"] * 1 + ["full"] * 3
    kinds = (kinds * (count // len(kinds) + 1))[:count]
    rng.shuffle(kinds)
    for n, kind in enumerate(kinds):
        keys = list(by_partner)
        key_ = keys[n % len(keys)]
        open_invoices = [inv for inv in by_partner[key_] if inv.amount_residual > 0.01]
        if not open_invoices:
            # nothing left to pay: an advance, left unapplied
            partner = env["res.partner"].browse(key_[0])
            pay = env["account.payment"].with_company(company).create({
                "payment_type": "inbound", "partner_type": "customer", "partner_id": partner.id,
                "amount": round(rng.uniform(10, 100), 2), "currency_id": key_[1], "date": PAYMENT_DATES[0]})
            pay.action_post()
            payments |= pay
            continue
        chosen = open_invoices[:rng.randint(2, 3)] if kind == "grouped" else [rng.choice(open_invoices)]
        moves = env["account.move"].browse([inv.id for inv in chosen])
        epd = any(move.invoice_payment_term_id.early_discount for move in moves)
        values = {"payment_date": PAYMENT_DATES[1] if epd else rng.choice(PAYMENT_DATES), "group_payment": True}
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
    print(f"{key} book: {len(invoices)} invoices, {len(refunds)} credit notes ({applied} applied), "
          f"{len(payments)} payments", flush=True)
    return payments


def drain(h, company_ids, label):
    started = time.monotonic()
    rounds = finished = 0
    while rounds < 60 and time.monotonic() - started < TIME_LIMIT:
        rounds += 1
        for company_id in company_ids:
            finished += h.drain(company_id, deadline=min(time.monotonic() + 240, started + TIME_LIMIT),
                                client_options=CLIENT_OPTIONS)
        with h.registry.cursor() as cr:
            cr.execute("""UPDATE qbo_job SET next_attempt_at = now() at time zone 'UTC'
                           WHERE company_id IN %s AND state = 'pending'""", [tuple(company_ids)])
            cr.execute("""UPDATE qbo_job SET sent_at = sent_at - interval '1 day'
                           WHERE company_id IN %s AND state = 'sending'""", [tuple(company_ids)])
        states = [h.job_states(company_id) for company_id in company_ids]
        if not any(s.get("pending") or s.get("sending") for s in states):
            break
    print(f"{label}: {finished} jobs finished in {rounds} round(s), {time.monotonic() - started:.0f}s, "
          f"queues {states}", flush=True)


def later_changes(env, company, payments, rng):
    """After the first push: some payments unreconciled, some deleted, some credit notes unapplied."""
    payments = payments.exists()
    reconciled = payments.filtered(lambda p: p.reconciled_invoice_ids)
    unreconciled = reconciled[:: max(1, len(reconciled) // 15)][:15]
    for payment in unreconciled:
        payment.move_id.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").remove_move_reconcile()
    deleted = (payments - unreconciled)[1::40][:5]
    for payment in deleted:
        payment.action_draft()
        payment.unlink()
    refunds = env["account.move"].search([("company_id", "=", company.id), ("move_type", "=", "out_refund"),
                                          ("payment_state", "in", ("paid", "partial"))], limit=3)
    for refund in refunds:
        receivable_lines = refund.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        receivable_lines.remove_move_reconcile()
    # invoices paid (by a payment or a credit note) then cancelled: QuickBooks voids them once the
    # payments no longer apply them
    cancelled = env["account.move"].search([("company_id", "=", company.id), ("move_type", "=", "out_invoice"),
                                            ("state", "=", "posted"), ("payment_state", "in", ("paid", "partial"))],
                                           order="id desc", limit=3)
    cancelled.button_cancel()
    env.flush_all()
    env.cr.commit()
    print(f"later ({company.name}): {len(unreconciled)} payments unreconciled, {len(deleted)} deleted, "
          f"{len(refunds)} credit notes unapplied, {len(cancelled)} paid invoices cancelled", flush=True)


def compare(h, env, company, realm, kinds):
    """(customers, equal, documents, equal, payments, equal), the lines that differ and
    {kind: [documents, equal]}."""
    qbo = {entity: {row["Id"]: row for row in h.sim.entities(realm, entity)}
           for entity in ("Customer", "Invoice", "CreditMemo", "Payment")}
    Link = env["qbo.link"]
    links = {(l.res_model, l.res_id): l for l in Link.search([("company_id", "=", company.id)])}
    problems = []
    by_kind = defaultdict(lambda: [0, 0])
    cur = company.currency_id

    def same(a, b, currency):
        return not currency.compare_amounts(float(a or 0.0), float(b or 0.0))
    docs = env["account.move"].search([("company_id", "=", company.id), ("state", "in", ("posted", "cancel")),
                                       ("move_type", "in", ("out_invoice", "out_refund"))])
    docs = docs.filtered(lambda m: m.state == "posted" or links.get(("account.move", m.id)))
    doc_equal = 0
    for move in docs:
        link = links.get(("account.move", move.id))
        row = qbo[move._qbo_entity].get(link.qbo_id) if link and link.qbo_id else None
        kind = by_kind["cancelled" if move.state == "cancel" else kinds.get(move.id, "other")]
        kind[0] += 1
        # a cancelled invoice is voided in QuickBooks: nothing open, nothing owed
        total, residual = (move.amount_total, move.amount_residual) if move.state == "posted" else (0.0, 0.0)
        if row and same(row.get("Balance"), residual, move.currency_id) \
                and same(row.get("TotalAmt"), total, move.currency_id):
            doc_equal += 1
            kind[1] += 1
        else:
            problems.append(f"document {move.name} ({kinds.get(move.id)}): Odoo {move.amount_total}/"
                            f"{move.amount_residual}, QuickBooks {row and row.get('TotalAmt')}/{row and row.get('Balance')}"
                            f" ({link and link.state}: {link and link.error_message})")
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
    partners = docs.filtered(lambda m: m.state == "posted").partner_id.commercial_partner_id
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
    return (len(partners), cust_equal, len(docs), doc_equal, pay_total, pay_equal), problems, by_kind


def run(h):
    rng = random.Random(SEED)
    registry = h.registry
    books = []   # (key, realm, company id, payment ids, kinds)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        us = h.connect_company(env, US_REALM)
        _tax, us_term = h.map_for_invoices(env, us)
        ca, ca_term = canada_company(h, env)
        for key, realm, company, term, taxes in (("us", US_REALM, us, us_term, us_taxes(env, us)),
                                                  ("ca", CA_REALM, ca, ca_term, ca_taxes(env, ca))):
            cenv = h.company_env(env, company)
            invoices, refunds, kinds = build(h, cenv, company, key, term, taxes, rng)
            payments = apply_and_pay(cenv, company, key, invoices, refunds, rng)
            books.append((key, realm, company.id, payments.ids, kinds))
    company_ids = [book[2] for book in books]
    print(f"faults {FAULTS}", flush=True)
    drain(h, company_ids, "first push")
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        for _key, _realm, company_id, payment_ids, _kinds in books:
            company = env["res.company"].browse(company_id)
            later_changes(h.company_env(env, company), company, env["account.payment"].browse(payment_ids), rng)
    drain(h, company_ids, "after the later changes")
    totals = [0] * 6
    problems = []
    for key, realm, company_id, _payment_ids, kinds in books:
        h.sim.set_faults(realm)   # the comparison and the report read without faults
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(company_id)
            before = h.sim.counters(realm)
            rows, differences = company._qbo_reconcile()
            middle = h.sim.counters(realm)
            company._qbo_reconcile()
            after = h.sim.counters(realm)

            def reads(a, b):
                return sum(b.get(k, 0) - a.get(k, 0) for k in ("read", "query", "cdc"))
            print(f"{key} reconciliation report: {rows} rows, {differences} differences; first refresh "
                  f"{reads(before, middle)} read calls, next refresh {reads(middle, after)}", flush=True)
            cr.commit()  # pylint: disable=invalid-commit  # the parity script's own registry cursor
            counts, company_problems, by_kind = compare(h, h.company_env(env, company), company, realm, kinds)
        problems += company_problems
        totals = [a + b for a, b in zip(totals, counts)]
        print(f"{key}: customers {counts[0]}/{counts[1]}, documents {counts[2]}/{counts[3]}, payments "
              f"{counts[4]}/{counts[5]}; documents by kind (equal/all): " + ", ".join(
                  f"{kind} {equal}/{count}" for kind, (count, equal) in sorted(by_kind.items())), flush=True)
    for line in problems[:60]:
        print("differs:", line)
    c, ce, d, de, p, pe = totals
    print(f"parity: customers {c}, equal {ce}, documents {d}, equal {de}, payments {p}, equal {pe}", flush=True)
    return 0 if (c, d, p) == (ce, de, pe) else 1
