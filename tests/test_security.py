"""Company walls and roles, tried as the users of a two-company database would try them.

Company A (the test company) and company B are each connected to their own QuickBooks
company. Company B holds records of every model of the addon (jobs, links, imports, lists,
dashboards, link wizards, and whatever model the addon gains later: they are discovered, not
listed). Four users of company A (a plain internal user, a QuickBooks user, a QuickBooks
administrator and a portal user) try every read, search, read_group, create, write, unlink and
action of every addon model against those records, the QuickBooks actions of the synchronised
models, JSON-RPC and the HTTP routes. Every attempt that reads, changes, reveals or acts on
company B's data is a leak; the suite prints how many attempts it made and how many leaked."""
import contextlib
import inspect
import json
import logging
import re

import requests

from odoo import models as odoo_models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..models.qbo_walls import company_domain
from ..simulator.seed import company_name
from .common import QboHttpCase

_logger = logging.getLogger(__name__)

ADDON = "qbo_financial_hub"
MARK = "Bravo"  # every name of company B's own records starts with it
REFUSED = (AccessError, MissingError, UserError, ValidationError)
SIMPLE_TYPES = ("char", "text", "integer", "float", "boolean", "selection", "date", "datetime")
ROLES = {
    "plain": "base.group_user",
    "qbo_user": "base.group_user,qbo_financial_hub.group_qbo_user",
    "qbo_admin": "base.group_user,qbo_financial_hub.group_qbo_manager",
    "portal": "base.group_portal",
}
# action context: the dashboard's list buttons say which list they open
ACTION_CONTEXT = {"qbo_kind": "customer", "qbo_filter": "error"}
MIN_ATTEMPTS = 200
MAGIC = {"id", "create_uid", "create_date", "write_uid", "write_date", "display_name", "company_id"}


def addon_models(env):
    """Every concrete model this addon defines (new ones included, as they land)."""
    return sorted(name for name, cls in env.registry.items()
                  if cls._original_module == ADDON and not cls._abstract)


ORM_METHODS = frozenset(dir(odoo_models.BaseModel))   # the ORM's own API (read, write...): tried above


def addon_methods(env):
    """{model: [public method names]} of every public method this addon defines or overrides on any
    model (its own and the ones it extends: res.company, res.config.settings, res.partner...),
    found in the classes of the registry, so that a button or RPC method added later is tried too.
    Methods of the ORM's own API are left out (they are tried per model above), and so are methods
    that need arguments (RPC cannot call them without; they are counted, not called)."""
    found = {}
    for name, cls in env.registry.items():
        if cls._abstract:
            continue
        methods = set()
        for klass in cls.__mro__:
            if not getattr(klass, "__module__", "").startswith(f"odoo.addons.{ADDON}."):
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_") or attr in ORM_METHODS or not callable(value):
                    continue
                methods.add(attr)
        if methods:
            found[name] = sorted(methods)
    return found


def needs_arguments(method):
    params = list(inspect.signature(method).parameters.values())[1:]
    return any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def actions(model, prefix):
    """The public action methods of a model (archiving only where records can be archived)."""
    names = sorted(n for n in dir(type(model)) if n.startswith(prefix) and callable(getattr(type(model), n)))
    if not model._active_name:
        names = [n for n in names if n not in ("action_archive", "action_unarchive")]
    return names


def unique_copy(record, text=None):
    """Values of a copy of `record` that no unique constraint refuses: every text differs (or
    is `text`) and every record reference points at a record that does not exist."""
    vals = record.copy_data()[0]
    for name, value in list(vals.items()):
        field = record._fields[name]
        if field.type in ("char", "text") and value:
            vals[name] = text or f"{value}-copy"
        elif field.type == "many2one_reference" and value:
            vals[name] = value + 1000000
    return vals


@tagged("post_install", "-at_install", "qbo_security")
class TestSecurityWalls(QboHttpCase):

    def setUp(self):
        super().setUp()
        env = self.env
        ICP = env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.batches_per_minute", 100000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 100000)
        self.company_a = self.qbo_configure(env.company, self.US_REALM)
        self.company_b = env["res.company"].create({"name": f"{MARK} Trading Co",
                                                    "currency_id": env.ref("base.CAD").id,
                                                    "country_id": env.ref("base.ca").id})
        env["account.chart.template"].try_loading("generic_coa", self.company_b, install_demo=False)
        self.users = {role: new_test_user(env, login=f"sec_{role}", groups=groups, company_id=self.company_a.id,
                                          company_ids=[(6, 0, [self.company_a.id])])
                      for role, groups in ROLES.items()}
        self.user_b = new_test_user(env, login="sec_b_admin", groups=ROLES["qbo_admin"] + ",account.group_account_manager",
                                    company_id=self.company_b.id, company_ids=[(6, 0, [self.company_b.id])])
        self._make_company_b_data()

    # ------------------------------------------------------------------------------
    # company B's data
    # ------------------------------------------------------------------------------
    def _make_company_b_data(self):
        env = self.env
        company = self.qbo_configure(self.company_b, self.CA_REALM)
        company.with_company(company).action_qbo_refresh_references()
        Ref = env["qbo.reference"]
        refs = {kind: Ref.search([("company_id", "=", company.id), ("kind", "=", kind)]) for kind in ("account", "taxcode")}
        company.write({
            "qbo_income_account_id": refs["account"].filtered(lambda r: r.account_type == "Income")[:1].id,
            "qbo_tax_default_id": refs["taxcode"][:1].id, "qbo_product_tax_default_id": refs["taxcode"][:1].id,
            "qbo_sync_customers": True, "qbo_sync_products": True})
        envb = env(context=dict(env.context, allowed_company_ids=[company.id]))
        self.partner_b = envb["res.partner"].create({"name": f"{MARK} Private Customer", "is_company": True,
                                                     "company_id": company.id, "qbo_hub": "active"})
        self.product_b = envb["product.product"].create({"name": f"{MARK} Secret Widget", "default_code": "BRAVO-1",
                                                         "list_price": 12.0, "company_id": company.id})
        self.order_b = envb["sale.order"].create({
            "partner_id": self.partner_b.id, "company_id": company.id,
            "order_line": [(0, 0, {"product_id": self.product_b.id, "product_uom_qty": 1, "price_unit": 12.0})]})
        self.invoice_b = envb["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.partner_b.id, "company_id": company.id,
            "invoice_date": "2025-03-14",
            "invoice_line_ids": [(0, 0, {"name": f"{MARK} work", "quantity": 1, "price_unit": 50.0})]})
        self.invoice_b.action_post()
        self.env.flush_all()
        env["qbo.job"]._qbo_process_company(company.id, client_options={"max_retries": 2, "sleep": lambda s: None})
        imp = envb["qbo.import"]._qbo_start("customer", company)
        self.env.flush_all()
        imp._qbo_run()
        envb["qbo.import"]._qbo_start("product", company)  # stays queued: a second state to try
        envb["qbo.dashboard"].with_user(self.user_b).create({})
        self.settings_b = self.env["res.config.settings"].sudo().with_company(company).create({})
        self.payment_b = envb["account.payment"].create({
            "partner_id": self.partner_b.id, "amount": 20.0, "payment_type": "inbound", "partner_type": "customer",
            "company_id": company.id})
        self.payment_b.action_post()
        wizard = envb["account.move.qbo.link"].create({"move_id": self.invoice_b.id, "search_number": MARK})
        wizard.write({"line_ids": [(0, 0, {"qbo_id": "9999", "doc_number": f"{MARK}-9", "amount": 50.0,
                                           "customer_name": f"{MARK} Private Customer"})]})
        self.env.flush_all()
        self.env.invalidate_all()
        # what company B's QuickBooks answered must not show anywhere for company A
        # B's QuickBooks company name, as Test connection would show it
        self.secrets = {MARK, company.qbo_realm_id, company.qbo_company_name, company_name(self.CA_REALM)}
        self.secrets |= {name for name in self.env["qbo.import"].search(
            [("company_id", "=", company.id)]).mapped("skipped_reasons") if name}
        partners = self.env["res.partner"].search([("company_id", "=", company.id)])
        self.secrets |= {p.name for p in partners if p.name and len(p.name) > 5}

    def b_only(self, model):
        """Records of `model` that company B may hold and company A may not."""
        Model = self.env[model].sudo().with_context(active_test=False)
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            return Model.search([("company_id", "=", self.company_b.id)])
        # no company of its own (a wizard line): what the rules give B and not A
        dom_b = company_domain(self.env, model, self.company_b)
        dom_a = company_domain(self.env, model, self.company_a)
        return Model.search(dom_b) - Model.search(dom_a)

    def make_b_record(self, model):
        """A record of company B for a model the scenario does not fill (one added later):
        required fields filled, company B, and its references pointing at B's own records."""
        Model = self.env[model].sudo().with_company(self.company_b)
        b_records = {"res.partner": self.partner_b, "product.product": self.product_b,
                     "account.move": self.invoice_b, "sale.order": self.order_b, "res.company": self.company_b}
        vals = {}
        for name, field in Model._fields.items():
            if not field.store or field.compute or field.related or name in MAGIC - {"company_id"}:
                continue
            if field.type == "many2one" and field.comodel_name in b_records:
                vals[name] = b_records[field.comodel_name].id
            elif field.type == "many2one_reference":
                vals[name], vals[field.model_field] = self.partner_b.id, "res.partner"
            elif not field.required or field.default:
                continue
            elif field.type in ("char", "text"):
                vals[name] = f"{MARK} {name}"
            elif field.type == "selection":
                vals[name] = field.get_values(self.env)[0]
            elif field.type in ("integer", "float", "monetary"):
                vals[name] = 1
            elif field.type in ("date", "datetime"):
                vals[name] = "2025-03-14"
            elif field.type == "many2one":
                vals[name] = self.env[field.comodel_name].sudo().search([], limit=1).id
        with contextlib.suppress(Exception), self.env.cr.savepoint():
            Model.create(vals)

    def b_state(self):
        """A fingerprint of company B's data, and of A's jobs and links about B's records."""
        self.env.flush_all()
        cr = self.env.cr
        state = []
        for model in addon_models(self.env):
            table = self.env[model]._table
            records = self.b_only(model)
            if records:
                cr.execute(f"SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {table} t WHERE id IN %s",
                           [tuple(records.ids)])
                state.append((model, len(records), cr.fetchone()[0]))
        # company B's own row, every column (its QuickBooks connection, cursors, messages, settings)
        cr.execute("""SELECT md5((to_jsonb(c) - 'write_date' - 'write_uid')::text) FROM res_company c
                       WHERE id = %s""", [self.company_b.id])
        state.append(cr.fetchone())
        b_records = [(m, self.b_only(m).ids) for m in ("res.partner", "product.product", "account.move", "sale.order")]
        # notes and messages on B's records, B's metered usage
        for model, ids in b_records + [("res.company", [self.company_b.id])]:
            cr.execute("SELECT count(*) FROM mail_message WHERE model = %s AND res_id IN %s", [model, tuple(ids) or (0,)])
            state.append(("mail_message", model, cr.fetchone()[0]))
        cr.execute("SELECT count(*) FROM qbo_usage WHERE company_id = %s", [self.company_b.id])
        state.append(("qbo_usage", cr.fetchone()[0]))
        for table in ("qbo_job", "qbo_link"):
            for model, ids in b_records:
                cr.execute(f"SELECT count(*) FROM {table} WHERE company_id != %s AND res_model = %s AND res_id IN %s",
                           [self.company_b.id, model, tuple(ids) or (0,)])
                state.append((table, model, cr.fetchone()[0]))
        return state

    def reveals(self, value, model=None, ids=()):
        text = json.dumps(value, default=str) if not isinstance(value, str) else value
        if any(secret and secret in text for secret in self.secrets):
            return True
        if isinstance(value, dict) and model and value.get("res_model") == model and value.get("res_id") in ids:
            return True
        return False

    # ------------------------------------------------------------------------------
    # the attempts
    # ------------------------------------------------------------------------------
    def b_calls(self):
        """What company B's QuickBooks (the simulator's realm of B, and the token endpoint) was
        asked: a request is never rolled back with a savepoint."""
        return self.sim.counters(self.CA_REALM).get("total", 0), self.sim.counters().get("token", 0)

    def attempt(self, label, func, leaked_if):
        """Run `func` in a savepoint always rolled back; count a leak when it returned and
        `leaked_if(result)` holds, when company B's data changed, or when company B's QuickBooks
        was called (whatever the outcome)."""
        self.attempts += 1
        before = self.b_state()
        calls = self.b_calls()
        outcome, leak, detail = "refused", False, ""
        try:
            with contextlib.closing(self.env.cr.savepoint()):
                try:
                    result = func()
                    self.env.flush_all()
                except REFUSED as exc:
                    outcome = type(exc).__name__
                    leak = self.reveals(str(exc))
                    detail = str(exc)[:600] if leak else ""
                else:
                    outcome = "returned"
                    leak = bool(leaked_if(result))
                    detail = repr(result)[:300] if leak else ""
                    # a refused request is rolled back whole; a returned one is committed
                    if not leak and self.b_state() != before:
                        leak, detail = True, "company B's data changed"
        except Exception as exc:  # noqa: BLE001 - a crash tried nothing: reported, not counted
            outcome = "crash"
            self.attempts -= 1
            self.crashes.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
        self.env.invalidate_all()
        if outcome != "crash" and not leak and self.b_calls() != calls:
            leak, detail = True, f"company B's QuickBooks was called ({calls} -> {self.b_calls()})"
        self.outcomes[outcome.split(":")[0]] = self.outcomes.get(outcome.split(":")[0], 0) + 1
        if leak:
            self.leaks.append(f"{label}: {outcome} {detail}")

    def try_model(self, role, user, model):
        records = self.b_only(model)
        if not records:
            self.uncovered.add(model)
            return
        Model = self.env[model].with_user(user).with_context(**ACTION_CONTEXT)
        mine = records.with_user(user).with_context(**ACTION_CONTEXT)
        ids = records.ids
        label = f"{role} {model}"
        self.attempt(f"{label} read", lambda: mine.read([f for f in Model._fields if f != "id"][:40]), lambda r: r)
        self.attempt(f"{label} search", lambda: Model.search([("id", "in", ids)]).ids, lambda r: r)
        self.attempt(f"{label} search_read", lambda: Model.search_read([("id", "in", ids)], ["display_name"]), lambda r: r)
        self.attempt(f"{label} read_group", lambda: Model.read_group([("id", "in", ids)], ["__count"], []),
                     lambda r: sum(g.get("__count", 0) for g in r))
        vals = unique_copy(records[:1].sudo())
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            vals["company_id"] = self.company_b.id
        self.attempt(f"{label} create", lambda: Model.create(vals).id,
                     lambda new_id: new_id in self.b_only(model).ids)
        pointer = next((f for f in Model._fields.values() if f.type == "many2one_reference" and f.store), None)
        if pointer:  # in the user's own company, pointing at company B's private customer
            vals_a = dict(unique_copy(records[:1].sudo(), text="copy"), **{pointer.name: self.partner_b.id,
                                                              pointer.model_field: "res.partner"})
            if "company_id" in Model._fields:
                vals_a["company_id"] = self.company_a.id
            self.attempt(f"{label} create pointing at B's customer", lambda: Model.create(vals_a).id,
                         lambda new_id: self.reveals(Model.browse(new_id).read()))
        simple = next((name for name, field in Model._fields.items() if field.type in SIMPLE_TYPES and field.store
                       and not field.compute and not field.related and name not in MAGIC), None)
        if simple:
            value = {"char": "x", "text": "x", "integer": 7, "float": 7.0, "boolean": True,
                     "date": "2020-01-01", "datetime": "2020-01-01 00:00:00"}.get(
                Model._fields[simple].type) or (Model._fields[simple].get_values(self.env) or [False])[-1]
            self.attempt(f"{label} write {simple}", lambda: mine.write({simple: value}), lambda r: True)
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            self.attempt(f"{label} write company_id", lambda: mine.write({"company_id": self.company_a.id}),
                         lambda r: True)
        self.attempt(f"{label} unlink", lambda: mine.unlink(), lambda r: True)
        for name in actions(Model, "action_"):
            self.attempt(f"{label} {name}", lambda name=name: getattr(mine[:1], name)(),
                         lambda r: self.reveals(r, model, ids))

    def b_targets(self, model):
        """Records of company B to call `model`'s methods on."""
        known = {"res.company": self.company_b, "res.partner": self.partner_b, "product.product": self.product_b,
                 "product.template": self.product_b.product_tmpl_id, "account.move": self.invoice_b,
                 "sale.order": self.order_b, "res.config.settings": self.settings_b, "account.payment": self.payment_b}
        if model in known:
            return known[model]
        if model in self.models:
            return self.b_only(model)
        Model = self.env[model].sudo().with_context(active_test=False)
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            return Model.search([("company_id", "=", self.company_b.id)], limit=1)
        return Model.browse()

    def try_methods(self, role, user):
        """Every public method the addon defines or overrides, on any model, called on company B's
        records by a user of company A (what JSON-RPC's call_kw lets anyone try)."""
        for model, names in self.methods.items():
            records = self.b_targets(model)
            if not records:
                self.uncovered_methods.add(model)
                continue
            mine = records[:1].with_user(user).with_context(**ACTION_CONTEXT)
            for name in names:
                if needs_arguments(getattr(type(mine), name)):
                    self.with_arguments.add(f"{model}.{name}")
                    continue
                self.called.add(f"{model}.{name}")
                self.attempt(f"{role} {model}.{name}()", lambda name=name: getattr(mine, name)(),
                             lambda r, model=model: self.reveals(r, model, records.ids))

    def try_synced(self, role, user, model):
        """The QuickBooks actions of partners, products, invoices, quotations of company B."""
        records = self.b_only(model)
        if not records:
            self.uncovered.add(model)
            return
        mine = records.with_user(user).with_context(**ACTION_CONTEXT)
        for name in actions(mine, "action_qbo"):
            self.attempt(f"{role} {model} {name}", lambda name=name: getattr(mine[:1], name)(),
                         lambda r: self.reveals(r, model, records.ids))
        if "qbo_hub" in mine._fields:
            self.attempt(f"{role} {model} Financial Hub toggle", lambda: mine.write({"qbo_hub": "inactive"}),
                         lambda r: True)

    def try_rpc(self, role, user, model):
        records = self.b_only(model)
        if not records:
            return
        self.authenticate(user.login, user.login + "x" * (8 - len(user.login)))

        def call():
            answer = self.make_jsonrpc_request("/web/dataset/call_kw", {
                "model": model, "method": "search_read", "args": [[("id", "in", records.ids)], ["display_name"]],
                "kwargs": {}})
            return answer
        self.attempt(f"{role} RPC {model} search_read", self._rpc_or_refused(call), lambda r: r)

    def _rpc_or_refused(self, call):
        def run():
            try:
                return call()
            except Exception as exc:  # noqa: BLE001 - the RPC answered with an error: refused
                raise AccessError(str(exc)[:200]) from None
        return run

    def try_routes(self, role, user):
        company = self.company_b
        self.authenticate(user.login, user.login + "x" * (8 - len(user.login)))
        self.attempt(f"{role} GET /qbo/oauth/connect for B",
                     lambda: self.url_open(f"/qbo/oauth/connect?company_id={company.id}", allow_redirects=False),
                     lambda r: r.status_code < 400 or "csrf_token" in r.text)
        page = self.url_open("/qbo/oauth/connect", allow_redirects=False)  # their own company's page, if any
        token = re.search(r"name='csrf_token' value='([^']+)'", page.text)
        csrf = token.group(1) if token else "none"
        self.attempt(f"{role} POST /qbo/oauth/start for B",
                     lambda: self.url_open("/qbo/oauth/start", data={"csrf_token": csrf, "company_id": company.id},
                                           allow_redirects=False),
                     lambda r: r.status_code < 400)
        self.attempt(f"{role} GET /qbo/oauth/start for B",
                     lambda: self.url_open(f"/qbo/oauth/start?company_id={company.id}", allow_redirects=False),
                     lambda r: r.status_code < 400)
        self.attempt(f"{role} GET /qbo/reconnect for B's realm",
                     lambda: self.url_open(f"/qbo/reconnect?realmId={self.CA_REALM}"),
                     lambda r: r.status_code < 400 or "csrf_token" in r.text)
        self.attempt(f"{role} GET /qbo/reconnect for B's id",
                     lambda: self.url_open(f"/qbo/reconnect?company_id={company.id}"),
                     lambda r: r.status_code < 400 or "csrf_token" in r.text)
        state = company.with_user(self.user_b)._qbo_make_oauth_state()
        self.env.flush_all()
        self.attempt(f"{role} GET /qbo/oauth/callback with B's state",
                     lambda: self.url_open(f"/qbo/oauth/callback?code=x&realmId={self.CA_REALM}&state={state}",
                                           allow_redirects=False),
                     lambda r: r.status_code < 400)

    # ------------------------------------------------------------------------------
    def test_every_model_and_route_is_walled(self):
        self.attempts, self.leaks, self.uncovered, self.outcomes, self.crashes = 0, [], set(), {}, []
        self.uncovered_methods, self.with_arguments, self.called = set(), set(), set()
        self.models = models = addon_models(self.env)
        self.methods = addon_methods(self.env)
        # every model of the addon holds company data, and is walled by a global company rule
        Rule = self.env["ir.rule"].sudo()
        for model in models:
            rules = Rule.search([("model_id.model", "=", model), ("global", "=", True)])
            self.assertTrue(any("company_ids" in (r.domain_force or "") for r in rules),
                            f"{model} has no multi-company record rule")
        for model in models:
            if not self.b_only(model):
                self.make_b_record(model)
        synced = [m for m in ("res.partner", "product.product", "account.move", "sale.order") if m in self.env]
        for role, user in self.users.items():
            for model in models:
                self.try_model(role, user, model)
            for model in synced:
                self.try_synced(role, user, model)
        for role, user in self.users.items():
            self.try_methods(role, user)
        for role, user in self.users.items():
            for model in models:
                self.try_rpc(role, user, model)
            self.try_routes(role, user)
        summary = (f"security suite: {self.attempts} attempts against company B's records by 4 users of company A, "
                   f"{len(self.leaks)} leaked; outcomes {dict(sorted(self.outcomes.items()))}; "
                   f"models {len(models)} ({', '.join(models)}); public methods of the addon called on company B's "
                   f"records {len(self.called)} on {len(self.methods)} models (not callable without arguments: "
                   f"{len(self.with_arguments)}); without company-B records: "
                   f"{', '.join(sorted(self.uncovered | self.uncovered_methods)) or 'none'}")
        _logger.info(summary)
        print(summary)  # noqa: T201  # pylint: disable=print-used  # the figure the suite must print
        for crash in self.crashes:
            _logger.warning("attempt that could not run: %s", crash)
        for leak in self.leaks:
            _logger.error("leak: %s", leak)
        self.assertFalse(self.leaks, "\n".join(self.leaks))
        self.assertGreaterEqual(self.attempts, MIN_ATTEMPTS)
        self.assertFalse(self.uncovered, "models with no company-B record to try")
        self.assertFalse(self.uncovered_methods, "models with public methods and no company-B record to try")
        # B's connection still works: nothing revoked, nothing rotated away from B
        company = self.company_b.sudo()
        answer = requests.get(f"{self.sim.api_base}/company/{self.CA_REALM}/companyinfo/{self.CA_REALM}",
                              headers={"Authorization": f"Bearer {company.qbo_access_token}",
                                       "Accept": "application/json"}, timeout=10)
        self.assertEqual(answer.status_code, 200, "company B's token still opens its QuickBooks")
