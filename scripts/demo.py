"""`make demo`: PostgreSQL, the QuickBooks Online simulator and Odoo 18 with this addon, a
company already connected to the simulator's US company. Ctrl-C stops everything started here.

    Odoo        http://localhost:8069  (login admin / admin)
    QuickBooks  http://127.0.0.1:8899  (the simulator's page: what landed in "QuickBooks")

The database (qbo_demo) and the simulator's state (.run/demo-qbo.json) are kept between runs;
when the simulator no longer knows the database's tokens, or its state was removed (make clean),
the demo company is reconnected to it and its records pushed again. QBO_DEMO_LANG=fr_CA: in French.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

ROOT = odoo_env.ROOT
DB = os.environ.get("QBO_DEMO_DB", "qbo_demo")
ODOO_PORT = int(os.environ.get("QBO_DEMO_PORT", 8069))
SIM_PORT = int(os.environ.get("QBO_SIM_PORT", 8899))
SIM_URL = f"http://127.0.0.1:{SIM_PORT}"

SETUP = r'''
import json, urllib.request
from datetime import datetime, timedelta
from odoo.addons.qbo_financial_hub.simulator import US_REALM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
SIM_URL = %(sim_url)r
FRESH_SIMULATOR = %(fresh)r
company = env.company
company.sudo().qbo_webhook_verifier = "qbo-sim-verifier"   # the simulator's default webhook verifier token
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:%(port)d")
env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
reconnect = company.sudo().qbo_state != "connected"
if reconnect and company.sudo().qbo_realm_id:
    print("QBO_DEMO_NOTE the demo company's QuickBooks connection was '%%s': reconnecting it to the simulator."
          %% company.sudo().qbo_state)
if not reconnect:
    # the simulator may no longer know the stored tokens (its state was removed, or this database
    # was connected to another one): check the connection as the first click would
    try:
        with env.cr.savepoint():
            company.sudo()._qbo_fetch_company_info()
    except Exception as exc:  # noqa: BLE001 - whatever the reason, the demo reconnects
        reconnect = True
        print("QBO_DEMO_NOTE the simulator does not know this database's QuickBooks tokens (%%s): reconnecting the "
              "demo company to it." %% (getattr(exc, "code", None) or exc.__class__.__name__))
    # the failed refresh wrote the company in a transaction of its own: go on in a fresh one
    env.cr.commit()
    env.invalidate_all()
if FRESH_SIMULATOR and env["qbo.link"].search_count([("company_id", "=", company.id)]):
    # the simulator starts empty: what was linked belonged to its previous state
    links = env["qbo.link"].search([("company_id", "=", company.id), ("qbo_id", "!=", False)])
    requeue = {}
    for link in links:
        requeue.setdefault(link.res_model, []).append(link.res_id)
    env["qbo.job"].search([("company_id", "=", company.id)]).unlink()
    env["qbo.link"].search([("company_id", "=", company.id)]).unlink()
    env["qbo.attachment"].search([("company_id", "=", company.id)]).unlink()
    reconnect = True
    print("QBO_DEMO_NOTE the simulator's state was removed: the demo's QuickBooks links were forgotten and its "
          "records are pushed again.")
else:
    requeue = {}
if reconnect:
    request = urllib.request.Request(SIM_URL + "/admin/tokens", data=json.dumps({"realm_id": US_REALM}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    tokens = json.loads(urllib.request.urlopen(request, timeout=10).read())
    company.sudo().write({
        "qbo_enabled": True, "qbo_environment": "custom", "qbo_custom_url": SIM_URL,
        "qbo_client_id": DEFAULT_CLIENT_ID, "qbo_client_secret": DEFAULT_CLIENT_SECRET,
        "qbo_realm_id": US_REALM, "qbo_access_token": tokens["access_token"],
        "qbo_refresh_token": tokens["refresh_token"], "qbo_state": "connected",
        "qbo_access_token_expires_at": datetime.utcnow() + timedelta(seconds=tokens["expires_in"]),
    })
    company.action_qbo_refresh_references()
    Ref = env["qbo.reference"]
    income = Ref.search([("company_id", "=", company.id), ("kind", "=", "account"), ("account_type", "=", "Income")], limit=1)
    company.write({"qbo_income_account_id": income.id, "qbo_sync_customers": True, "qbo_sync_products": True,
                   "tax_calculation_rounding_method": "round_globally"})
    net30 = Ref.search([("company_id", "=", company.id), ("kind", "=", "term"), ("name", "=", "Net 30")], limit=1)
    env["account.payment.term"].search([]).write({"qbo_term_ref_id": net30.id})
    print("QBO_DEMO_NOTE the demo company is connected to the simulator (%%s)." %% SIM_URL)
for model, ids in requeue.items():
    env[model].browse(ids).exists()._qbo_enqueue(company)
if not env["res.partner"].search_count([("name", "=", "Harbour Lights Ltd")]):
    env["res.partner"].create([
        {"name": "Harbour Lights Ltd", "is_company": True, "email": "ap@harbour.example", "city": "Boston"},
        {"name": "O'Brien: \"Fish & Chips\"", "is_company": True, "email": "fish@chips.example"},
        {"name": "Brosnahan Insurance Agency", "is_company": True, "ref": "C-100"},
        {"name": "Green Valley Farms", "is_company": True, "email": "office@greenvalley.example", "city": "Denver"},
    ])
    # a red badge with its reason: a delivery address in the Financial Hub whose company is not
    green = env["res.partner"].search([("name", "=", "Green Valley Farms")], limit=1)
    env["res.partner"].create({"name": "North Barn", "parent_id": green.id, "type": "delivery", "city": "Denver",
                               "qbo_hub": "active"})
    env["product.product"].create([
        {"name": "Garden Hose 20m", "default_code": "HOSE-20", "list_price": 25.5, "sale_ok": True},
        {"name": "Installation", "default_code": "SRV-INST", "list_price": 90.0, "type": "service", "sale_ok": True},
    ])
if "qbo_state" in env["account.move"]._fields and not env["account.move"].search_count([("move_type", "=", "out_invoice")]):
    # demo documents: an invoice in QuickBooks, one to link by hand, a quotation (issue 6)
    try:
        with env.cr.savepoint():
            harbour = env["res.partner"].search([("name", "=", "Harbour Lights Ltd")], limit=1)
            harbour.qbo_hub = "active"
            hose = env["product.product"].search([("default_code", "=", "HOSE-20")], limit=1)
            inst = env["product.product"].search([("default_code", "=", "SRV-INST")], limit=1)
            def lines(qty):
                return [(0, 0, {"product_id": hose.id, "quantity": qty, "price_unit": 25.5, "tax_ids": [(5,)]}),
                        (0, 0, {"product_id": inst.id, "quantity": 1, "price_unit": 90.0, "tax_ids": [(5,)]})]
            invoices = env["account.move"].create([
                {"move_type": "out_invoice", "partner_id": harbour.id, "invoice_line_ids": lines(4)},
                {"move_type": "out_invoice", "partner_id": harbour.id, "invoice_line_ids": lines(2)}])
            invoices.action_post()
            invoices[0].action_qbo_push()
            if "qbo_state" in env["sale.order"]._fields:
                order = env["sale.order"].create({"partner_id": harbour.id, "order_line": [
                    (0, 0, {"product_id": hose.id, "product_uom_qty": 10, "price_unit": 25.5, "tax_id": [(5,)]})]})
                order.action_qbo_push()
    except Exception as exc:  # noqa: BLE001 - the demo still starts without its documents
        print("demo documents not created:", exc)
# the reconciliation report has figures from the start (else the nightly cron makes them)
try:
    with env.cr.savepoint():
        company._qbo_reconcile()
except Exception as exc:  # noqa: BLE001 - the demo still starts; Refresh now makes the report
    print("QBO_DEMO_NOTE the reconciliation report was not refreshed (%%s): press Refresh now." %% exc)
# the administrator lands on the Financial Hub dashboard (Odoo would open Discuss)
env.ref("base.user_admin").action_id = env.ref("qbo_financial_hub.qbo_dashboard_action").id
LANG = %(lang)r
if LANG:
    # QBO_DEMO_LANG=fr_CA make demo: the demo in French (Canada), this addon's translation included
    env["res.lang"]._activate_lang(LANG)
    env["ir.module.module"].search([("name", "in", ("base", "web", "account", "sale", "qbo_financial_hub"))])\
        ._update_translations([LANG])
    env.ref("base.user_admin").lang = LANG
    print("QBO_DEMO_NOTE the demo speaks %%s (admin's language; change it in the user's preferences)." %% LANG)
env.cr.commit()
print("QBO_DEMO_READY", company.qbo_company_name, company.qbo_state)
'''


def wait_http(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except Exception:  # noqa: BLE001 - still starting
            time.sleep(0.5)
    return False


def db_exists(db):
    out = subprocess.run(["psql", "-d", "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
                         capture_output=True, text=True)
    return out.stdout.strip() == "1"


def main():
    started = time.time()
    if odoo_env.odoo_problem():
        sys.exit(f"{odoo_env.odoo_problem()} (see docs/testing.md, 'Where Odoo comes from').")
    print(odoo_env.describe_odoo(), flush=True)
    odoo_env.ensure_postgres()
    odoo_env.RUN_DIR.mkdir(exist_ok=True)
    children = []

    def stop(*_args):
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    fresh = not (odoo_env.RUN_DIR / "demo-qbo.json").exists()
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--port", str(SIM_PORT),
                            "--data", str(odoo_env.RUN_DIR / "demo-qbo.json"),
                            "--redirect-uri", f"http://localhost:{ODOO_PORT}/qbo/oauth/callback",
                            "--redirect-uri", f"http://127.0.0.1:{ODOO_PORT}/qbo/oauth/callback",
                            "--webhook-url", f"http://127.0.0.1:{ODOO_PORT}/qbo/webhook"], cwd=ROOT)
    children.append(sim)
    if not wait_http(SIM_URL + "/"):
        stop()
    if not db_exists(DB):
        print(f"creating database {DB} with the addon (first run only)...", flush=True)
        subprocess.run(odoo_env.odoo_command(DB, "-i", odoo_env.ADDON, "--stop-after-init", "--log-level", "warn"),
                       check=True, cwd=ROOT)
    else:
        # the kept database gets the addon's current views, data and translations
        print(f"updating the addon in {DB}...", flush=True)
        subprocess.run(odoo_env.odoo_command(DB, "-u", odoo_env.ADDON, "--stop-after-init", "--log-level", "warn"),
                       check=True, cwd=ROOT)
    setup = SETUP % {"sim_url": SIM_URL, "port": ODOO_PORT, "fresh": fresh, "lang": os.environ.get("QBO_DEMO_LANG", "")}
    result = subprocess.run(odoo_env.odoo_command(DB, "--log-level", "warn", subcommand="shell"),
                            input=setup, text=True, capture_output=True, cwd=ROOT)
    if "QBO_DEMO_READY" not in result.stdout:
        print(result.stdout[-3000:], result.stderr[-3000:])
        stop()
    for note in result.stdout.splitlines():
        if note.startswith("QBO_DEMO_NOTE "):
            print(note[len("QBO_DEMO_NOTE "):], flush=True)
    odoo = subprocess.Popen(odoo_env.odoo_command(DB, "--log-level", "warn", http_port=ODOO_PORT), cwd=ROOT)
    children.append(odoo)
    if not wait_http(f"http://127.0.0.1:{ODOO_PORT}/web/login"):
        print("Odoo did not answer on port", ODOO_PORT)
        stop()
    print(json.dumps({"odoo": f"http://localhost:{ODOO_PORT}", "login": "admin / admin",
                      "quickbooks (simulator)": SIM_URL, "database": DB}, indent=2))
    print(f"demo ready in {time.time() - started:.0f}s. Ctrl-C stops Odoo and the simulator.", flush=True)
    while all(child.poll() is None for child in children):
        time.sleep(1)
    stop()


if __name__ == "__main__":
    main()
