"""Run a script inside an Odoo environment against a database of its own, with a QuickBooks
Online simulator running beside it:

    python scripts/run_odoo_script.py scripts/chaos.py [--keep-db] [--no-install]

1. PostgreSQL is started when needed; the database (the script's ``DATABASE``, else
   ``qbo_<script name>``) is dropped and the addon installed in it afresh
   (``odoo-bin -i qbo_financial_hub --stop-after-init --without-demo all``).
2. The simulator is started as a subprocess (``sys.executable -m simulator``, the script's
   ``SIMULATOR_ARGS``), so it does not share this process's GIL or CPU time; its log goes to
   ``.run/<script name>-simulator.log``.
3. Odoo is configured for that database in this process and the script's ``run(h)`` is called
   with a :class:`Harness` ``h``: ``h.registry`` (open ``with h.registry.cursor() as cr`` and
   ``api.Environment(cr, SUPERUSER_ID, {})``), ``h.sim`` (the simulator's URL and admin API),
   ``h.connect_company(env)``, ``h.create_records(...)``, ``h.map_for_invoices(env, company)``,
   ``h.create_invoices(...)``, ``h.drain(company_id)`` (the engine in this process),
   ``h.company_env(env, company)`` and ``h.cron_workers(n)`` (n Odoo cron worker processes).

The exit status is the script's (``run`` returning a non-zero int, or raising, fails the run).
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

ROOT = odoo_env.ROOT


class SimulatorProcess:
    """``python -m simulator`` in a subprocess, and its admin HTTP interface."""

    def __init__(self, args, log_path):
        self.args = list(args)
        self.log_path = log_path
        self.proc = None
        self.url = None

    def start(self, timeout=30):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        cmd = [sys.executable, "-m", "simulator", "--port", "0", *self.args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True)
        first = self.proc.stdout.readline()  # "QBO simulator on http://127.0.0.1:PORT (...)"
        if not first.startswith("QBO simulator on "):
            self.stop()
            raise RuntimeError(f"the simulator did not start ({first!r}); see {self.log_path}")
        self.url = first.split()[3]
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.get("/admin/limits")
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()

    @property
    def discovery_url(self):
        return self.url + "/.well-known/openid_configuration"

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"null")

    def get(self, path):
        return self._call("GET", path)

    def post(self, path, body=None):
        return self._call("POST", path, body or {})

    def issue_tokens(self, realm):
        return self.post("/admin/tokens", {"realm_id": realm})

    def counters(self, realm):
        return self.get(f"/admin/counters?realm_id={realm}")

    def entities(self, realm, entity):
        return self.get(f"/admin/entities?realm_id={realm}&entity={entity}")

    def set_faults(self, realm, **faults):
        return self.post("/admin/faults", dict(faults, realm_id=realm))


class Harness:
    """What a script gets: the registry, the simulator, and the set-up every script repeats."""

    def __init__(self, registry, sim):
        self.registry = registry
        self.sim = sim

    def connect_company(self, env, realm):
        """Connect env.company to `realm` of the simulator, import its lists, map the income
        account and switch customer and product sync on (as the Odoo tests' QboSyncCase)."""
        from simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        tokens = self.sim.issue_tokens(realm)
        company = env.company
        company.sudo().write({
            "qbo_enabled": True,
            "qbo_environment": "custom",
            "qbo_custom_url": self.sim.url,
            "qbo_client_id": DEFAULT_CLIENT_ID,
            "qbo_client_secret": DEFAULT_CLIENT_SECRET,
            "qbo_realm_id": realm,
            "qbo_access_token": tokens["access_token"],
            "qbo_refresh_token": tokens["refresh_token"],
            "qbo_access_token_expires_at": datetime.utcnow() + timedelta(seconds=tokens["expires_in"]),
            "qbo_state": "connected",
        })
        env.flush_all()
        env.cr.commit()  # the connector reads the connection from cursors of its own
        company.action_qbo_refresh_references()
        income = env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", "account"),
                                              ("account_type", "=", "Income")], limit=1)
        company.write({"qbo_income_account_id": income.id, "qbo_sync_customers": True,
                       "qbo_sync_products": True})
        env.cr.commit()
        return company

    def create_records(self, env, prefix, customers, products):
        """`customers` partners in the Financial Hub and `products` saleable products named
        ``{prefix}C-00001`` / ``{prefix}P-00001`` ..., queued by their own create(), committed."""
        partners = env["res.partner"].create([
            {"name": f"{prefix}C-{i:05d}", "is_company": True, "email": f"c{i}@{prefix.lower()}.example",
             "city": "Boston", "qbo_hub": "active"} for i in range(1, customers + 1)])
        items = env["product.product"].create([
            {"name": f"{prefix}P-{i:05d}", "default_code": f"{prefix}SKU-{i:05d}", "list_price": 10 + i % 90,
             "type": "service" if i % 3 == 0 else "consu", "sale_ok": True} for i in range(1, products + 1)])
        env.flush_all()
        env.cr.commit()
        return partners, items

    def map_for_invoices(self, env, company):
        """Map a connected US company for invoices as tests/test_invoices.py does: a sales tax
        CA 8.25 % on QBO tax code 2, the 30-days payment term on QBO term 3 (Net 30); invoices
        numbered by Odoo (DocNumber = the invoice name). Tax rounded globally, as QBO rounds
        it once per transaction. Returns (tax, term), committed."""
        from odoo import Command

        def ref(kind, qbo_id):
            return env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", kind),
                                                ("qbo_id", "=", qbo_id)], limit=1)
        values = {"name": "CA Sales 8.25%", "amount": 8.25, "type_tax_use": "sale", "company_id": company.id,
                  "qbo_tax_code_ref_id": ref("taxcode", "2").id}
        tax = env["account.tax"].search([("company_id", "=", company.id), ("name", "=", values["name"]),
                                         ("type_tax_use", "=", "sale")], limit=1)
        tax = tax.write(values) and tax if tax else env["account.tax"].create(values)
        term = env.ref("account.account_payment_term_30days")
        term.with_company(company).qbo_term_ref_id = ref("term", "3")
        company.write({"qbo_invoice_number": "odoo", "tax_calculation_rounding_method": "round_globally"})
        user = env.ref("base.user_admin")
        user.write({"groups_id": [Command.link(env.ref("qbo_financial_hub.group_qbo_user").id),
                                  Command.link(env.ref("account.group_account_invoice").id)]})
        env.flush_all()
        env.cr.commit()
        return tax, term

    def create_invoices(self, env, company, partners, products, count, lines, tax, term, chunk=200,
                        push=True, date="2025-03-14"):
        """`count` posted customer invoices of `lines` product lines each (every other line
        taxed with `tax`), on `partners` and `products` in turn, queued for QuickBooks with
        action_qbo_push() (by the admin, a QuickBooks user). Committed every `chunk` invoices.
        Returns the ids of the invoices."""
        from odoo import Command
        Move = env["account.move"].with_user(env.ref("base.user_admin")).with_company(company)
        ids = []
        for start in range(0, count, chunk):
            values = []
            for n in range(start, min(start + chunk, count)):
                values.append({
                    "move_type": "out_invoice", "partner_id": partners[n % len(partners)].id,
                    "invoice_date": date, "invoice_payment_term_id": term.id,
                    "invoice_line_ids": [Command.create({
                        "product_id": products[(n * lines + k) % len(products)].id,
                        "quantity": 1 + (n + k) % 4, "price_unit": 10 + (n * 7 + k * 13) % 90 + 0.25 * (k % 3),
                        "tax_ids": [Command.set(tax.ids)] if k % 2 == 0 else [Command.clear()],
                    }) for k in range(lines)]})
            moves = Move.create(values)
            moves.action_post()
            if push:
                moves.action_qbo_push()
            env.flush_all()
            env.cr.commit()
            ids += moves.ids
        return ids

    def job_states(self, company_id):
        with self.registry.cursor() as cr:
            cr.execute("SELECT state, count(*) FROM qbo_job WHERE company_id = %s GROUP BY state", [company_id])
            return dict(cr.fetchall())

    def cron_workers(self, count, tag="workers"):
        """Start `count` Odoo cron worker processes on this database (see CronWorkers)."""
        return CronWorkers(self.registry.db_name, count, tag).start()

    def company_env(self, env, company):
        """`env` whose current company (env.company) is `company`."""
        return env(context=dict(env.context, allowed_company_ids=[company.id]))

    def drain(self, company_id, deadline=None, client_options=None):
        """One call of the engine's drain (what the cron runs for a company)."""
        from odoo import SUPERUSER_ID, api
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["qbo.job"]._qbo_process_company(company_id, deadline=deadline,
                                                       client_options=client_options)


class CronWorkers:
    """`count` Odoo cron worker processes (scripts/cron_worker.py) on the script's database:
    Odoo's own cron machinery runs the addon's crons, as a server's cron workers would.
    ``stop()`` ends them and returns the sum of their {"cpu", "sql", "runs"}."""

    def __init__(self, db, count, tag="workers"):
        self.db, self.count, self.tag = db, count, tag
        self.stop_file = odoo_env.RUN_DIR / f"{tag}.stop"
        self.procs = []

    def start(self):
        self.stop_file.unlink(missing_ok=True)
        for i in range(self.count):
            stats = odoo_env.RUN_DIR / f"{self.tag}-{i}.json"
            stats.unlink(missing_ok=True)
            log = open(odoo_env.RUN_DIR / f"{self.tag}-{i}.log", "w")
            proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "cron_worker.py"), "--db", self.db,
                                     "--stop-file", str(self.stop_file), "--stats", str(stats)],
                                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            self.procs.append((proc, stats, log))
        return self

    def stop(self, timeout=300):
        self.stop_file.touch()
        total = {"cpu": 0.0, "sql": 0, "runs": 0}
        for proc, stats, log in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            if stats.exists():
                for key, value in json.loads(stats.read_text()).items():
                    total[key] += value
        self.procs = []
        return total


def load_script(path):
    spec = importlib.util.spec_from_file_location(f"qbo_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(db):
    odoo_env.create_db_from_template(db)
    log = odoo_env.RUN_DIR / f"{db}-install.log"
    cmd = odoo_env.odoo_command(db, "-i", odoo_env.ADDON, "--stop-after-init", "--log-level", "warn",
                                "--logfile", str(log))
    started = time.monotonic()
    print(f"installing {odoo_env.ADDON} in a fresh database {db} ...", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode:
        print(log.read_text(errors="replace")[-5000:] if log.exists() else "", file=sys.stderr)
        raise SystemExit(f"installing the addon failed (exit {proc.returncode}); see {log}")
    print(f"installed in {time.monotonic() - started:.0f}s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--db", help="database (default: the script's DATABASE or qbo_<script name>)")
    parser.add_argument("--no-install", action="store_true", help="reuse the database as it is")
    args = parser.parse_args()

    if odoo_env.odoo_problem():
        raise SystemExit(odoo_env.odoo_problem())
    print(odoo_env.describe_odoo(), flush=True)
    sys.path[:0] = [str(odoo_env.odoo_src()), str(ROOT)]
    script = load_script(args.script.resolve())
    db = args.db or getattr(script, "DATABASE", None) or f"qbo_{args.script.stem}"

    odoo_env.ensure_postgres()
    if not args.no_install:
        install(db)

    import odoo
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["--addons-path", odoo_env.addons_path(), "-d", db, "--db_host", "",
                                    "--log-level", getattr(script, "LOG_LEVEL", "warn"), "--no-http"])
    sim = SimulatorProcess(getattr(script, "SIMULATOR_ARGS", []),
                           odoo_env.RUN_DIR / f"{args.script.stem}-simulator.log").start()
    print(f"simulator {sim.url} ({' '.join(sim.args) or 'defaults'})", flush=True)
    status = 1
    try:
        registry = Registry(db)
        result = script.run(Harness(registry, sim))
        status = int(result or 0)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001 - report and fail
        traceback.print_exc()
        status = 1
    finally:
        sim.stop()
    sys.stdout.flush()
    os._exit(status)  # Odoo may leave non-daemon threads behind


if __name__ == "__main__":
    main()
