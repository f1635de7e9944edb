"""Import of QuickBooks customers and products into Odoo, in the background.

An import is a record (`qbo.import`) worked by its own cron. Each QBO page (up to 1,000 rows,
STARTPOSITION/MAXRESULTS ordered by Id) is read, applied and committed in a transaction of its
own, together with the position of the next page: a long import never holds one transaction
open, and an interrupted one (worker killed, server restarted) resumes at the first page it
had not committed. Re-applying a page is harmless: records are found again through their
`qbo.link` rows, so running an import twice links and updates without creating anything twice.

Nothing an import writes is pushed back to QuickBooks (`qbo_no_enqueue`).
"""
import logging
import time

import psycopg2
from babel.core import get_global

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from ..qbo import QBOError, in_list, select
from .qbo_rights import check_company_action
from .qbo_sync_mixin import link_state
from .qbo_walls import within_company

_logger = logging.getLogger(__name__)

PAGE_SIZE = 1000            # QBO's largest page
CRON_TIME_BUDGET = 240      # seconds a cron run imports before handing over

IMPORT_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
IMPORT_KINDS = [("customer", "Customers"), ("product", "Products")]


def _text(value, limit=None):
    value = (value or "").strip() if isinstance(value, str) else ""
    return value[:limit] if limit else value


# What an import never changes on an Odoo record that exists already (linked, or matched and
# linked now): its name, its kind of contact and its place in a company.
KEPT_FIELDS = frozenset({"name", "is_company", "parent_id", "type"})
ADDRESS_FIELDS = ("street", "street2", "city", "zip", "state_id", "country_id")


def _fill_empty(record, vals):
    """The part of `vals` an import may write on an existing record: fields Odoo leaves empty
    (a flag is never flipped), never the KEPT_FIELDS; an address only as a whole, where the
    record has none."""
    vals = {k: v for k, v in vals.items() if k not in KEPT_FIELDS}
    if any(record[f] for f in ADDRESS_FIELDS if f in record._fields):
        vals = {k: v for k, v in vals.items() if k not in ADDRESS_FIELDS}
    return {key: value for key, value in _changed(record, vals).items()
            if record._fields[key].type != "boolean" and not record[key]}


def _changed(record, vals):
    """The part of `vals` that differs from what `record` holds (writing a partner is costly)."""
    changed = {}
    for key, value in vals.items():
        current = record[key]
        field = record._fields[key]
        if field.type == "many2one":
            current = current.id
        elif field.type in ("char", "text", "selection") and not current:
            current = False
        same = value == current if field.type == "float" else (value or False) == (current or False)
        if not same:
            changed[key] = value
    return changed


class QboImport(models.Model):
    _name = "qbo.import"
    _description = "QuickBooks Online import"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade",
                                 default=lambda self: self.env.company)
    user_id = fields.Many2one("res.users", "Started by", default=lambda self: self.env.user, required=True)
    kind = fields.Selection(IMPORT_KINDS, required=True)
    state = fields.Selection(IMPORT_STATES, default="queued", required=True, index=True)
    page_size = fields.Integer(default=PAGE_SIZE, required=True)
    position = fields.Integer("Next position", default=1, required=True,
                              help="The STARTPOSITION of the next QuickBooks page to import: an "
                                   "interrupted import resumes there.")
    last_qbo_id = fields.Char("Last QuickBooks Id imported")
    total = fields.Integer("In QuickBooks", help="Active records QuickBooks held when the import started.")
    processed = fields.Integer()
    created_count = fields.Integer("Created")
    linked_count = fields.Integer("Linked", help="Existing Odoo records matched by the key and linked.")
    updated_count = fields.Integer("Updated", help="Records already linked, updated.")
    skipped_count = fields.Integer("Skipped")
    skipped_reasons = fields.Text()
    progress = fields.Float(compute="_compute_progress", help="Percentage of the rows imported.")
    date_start = fields.Datetime("Started")
    date_end = fields.Datetime("Finished")
    error_message = fields.Text()

    @api.depends("kind", "create_date")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for imp in self:
            imp.name = self.env._("Import of %(kind)s", kind=(labels.get(imp.kind) or "").lower())

    @api.depends("processed", "total", "state")
    def _compute_progress(self):
        for imp in self:
            if imp.state == "done":
                imp.progress = 100.0
            elif imp.total:
                imp.progress = min(100.0, 100.0 * imp.processed / imp.total)
            else:
                imp.progress = 0.0

    # ==================================================================================
    # start
    # ==================================================================================
    @api.model
    def _qbo_start(self, kind, company=None):
        """Queue an import of `kind` for `company` (one at a time per kind) and wake its cron."""
        company = company or self.env.company
        self._qbo_check_importer(company)
        if not company.qbo_enabled or company.qbo_state != "connected":
            raise UserError(self.env._("%(company)s is not connected to QuickBooks Online.", company=company.name))
        running = self.sudo().search([("company_id", "=", company.id), ("kind", "=", kind),
                                      ("state", "in", ("queued", "running"))], limit=1)
        if running:
            return running
        imp = self.sudo().create({"company_id": company.id, "kind": kind, "user_id": self.env.uid})
        self.env.ref("qbo_financial_hub.ir_cron_qbo_import")._trigger()
        return imp

    @api.model
    def _qbo_check_importer(self, company):
        """Imports are for QuickBooks administrators, into a company they work in."""
        check_company_action(self.env, company, message=self.env._(
            "Only QuickBooks administrators can import from QuickBooks."))

    @api.model
    def action_import_customers(self):
        return self._qbo_start("customer")._qbo_action_open()

    @api.model
    def action_import_products(self):
        return self._qbo_start("product")._qbo_action_open()

    def _qbo_action_open(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "current", "name": self.name}

    def action_resume(self):
        self.check_access("read")
        for imp in self:
            self._qbo_check_importer(imp.company_id)
        self.filtered(lambda i: i.state in ("error", "cancelled")).write({"state": "queued", "error_message": False})
        self.env.ref("qbo_financial_hub.ir_cron_qbo_import")._trigger()
        return True

    def action_cancel(self):
        self.check_access("read")
        for imp in self:
            self._qbo_check_importer(imp.company_id)
        self.filtered(lambda i: i.state in ("queued", "running")).write({"state": "cancelled"})
        return True

    # ==================================================================================
    # cron
    # ==================================================================================
    @api.model
    def _cron_process(self, time_budget=CRON_TIME_BUDGET):
        """Turns between companies and imports, as the queue takes them: a turn is one page (one
        transaction) of an import of the company whose last turn is the oldest (in this run; then
        the import that waited longest), so a large import never takes the whole run from the
        others. An import that fails ends in error with the reason; the others go on."""
        deadline = time.monotonic() + time_budget
        turns, over, pages = {}, set(), 0
        while time.monotonic() < deadline:
            waiting = [row for row in self._qbo_waiting() if row[0] not in over]
            if not waiting:
                break
            import_id, company_id = min(waiting, key=lambda row: (turns.get(row[1], -1.0), waiting.index(row)))
            turns[company_id] = time.monotonic()
            try:
                done = self.browse(import_id)._qbo_run(deadline=deadline, max_pages=1)
            except Exception:  # noqa: BLE001 - _qbo_run records its own failures; this is the database's
                _logger.exception("QuickBooks import %s: its turn failed", import_id)
                done = 0
            pages += done
            if not done:
                over.add(import_id)   # finished, failed or cancelled meanwhile: not again in this run
        remaining = self._qbo_waiting(totals=True)
        rows_left = sum(max(0, total - processed) for _i, _c, total, processed in remaining)
        self.env["ir.cron"]._notify_progress(done=pages, remaining=rows_left or len(remaining))
        if remaining:
            self.env.ref("qbo_financial_hub.ir_cron_qbo_import")._trigger()
        return pages

    @api.model
    def _qbo_waiting(self, totals=False):
        """Imports queued or running, the one that waited longest first, read on a cursor of its
        own (the cron's snapshot does not see the pages committed since it began):
        [(id, company id)] or, with `totals`, [(id, company id, total, processed)]."""
        with self.env.registry.cursor() as cr:
            cr.execute("""SELECT id, company_id, total, processed FROM qbo_import
                           WHERE state IN ('queued', 'running') ORDER BY write_date, id""")
            rows = cr.fetchall()
        return rows if totals else [(row[0], row[1]) for row in rows]

    def _qbo_run(self, deadline=None, max_pages=None):
        """Import pages until this import is finished, `deadline` (monotonic) passes or
        `max_pages` pages are done. Every page is committed in a cursor of its own."""
        self.ensure_one()
        deadline = deadline or time.monotonic() + CRON_TIME_BUDGET
        registry = self.env.registry
        pages = 0
        while time.monotonic() < deadline and (max_pages is None or pages < max_pages):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"qbo_no_enqueue": True, "tracking_disable": True})
                imp = env[self._name].browse(self.id)
                if imp.state not in ("queued", "running"):
                    break
                company = imp.company_id.with_company(imp.company_id)
                try:
                    client = company._qbo_client()
                    if imp.state == "queued":
                        imp._qbo_begin(client)
                    finished = imp._qbo_import_page(client)
                except Exception as exc:  # noqa: BLE001 - whatever fails is this import's error, never the others'
                    cr.rollback()
                    env.invalidate_all()
                    imp = env[self._name].browse(self.id)
                    message = (exc.user_message() if isinstance(exc, QBOError) else str(exc)
                               if isinstance(exc, UserError) else env["res.company"]._qbo_failure_text(
                                   exc, imp.company_id.id, env._("The import stopped")))
                    imp.write({"state": "error", "error_message": message, "date_end": fields.Datetime.now()})
                    imp._qbo_notify_end()
                    _logger.warning("QuickBooks import %s failed: %s", imp.id, message)
                    break
                pages += 1
                env["qbo.live"]._qbo_broadcast(imp.company_id, ["qbo.import", imp._qbo_model()])
                if finished:
                    imp.write({"state": "done", "date_end": fields.Datetime.now()})
                    imp._qbo_notify_end()
                    break
        self.invalidate_recordset()
        return pages

    def _qbo_entity(self):
        return {"customer": "Customer", "product": "Item"}[self.kind]

    def _qbo_model(self):
        return {"customer": "res.partner", "product": "product.product"}[self.kind]

    def _qbo_begin(self, client):
        self.write({"state": "running", "date_start": fields.Datetime.now(),
                    "total": client.count(self._qbo_entity())})

    def _qbo_import_page(self, client):
        """Read the page at `position`, apply it, move `position` on. True when it was the last."""
        entity = self._qbo_entity()
        sql = select(entity, select="*, Sku" if entity == "Item" else "*", order_by="Id",
                     start=self.position, max_results=self.page_size)
        rows = client.query(sql).get(entity, [])
        counts = {"created": 0, "linked": 0, "updated": 0, "skipped": 0}
        reasons = []
        rows = self._qbo_skip_foreign(rows, counts, reasons)
        if self.kind == "customer":
            self._qbo_import_customers(client, rows, counts, reasons)
        else:
            self._qbo_import_products(rows, counts, reasons)
        vals = {
            "position": self.position + len(rows),
            "processed": self.processed + len(rows),
            "created_count": self.created_count + counts["created"],
            "linked_count": self.linked_count + counts["linked"],
            "updated_count": self.updated_count + counts["updated"],
            "skipped_count": self.skipped_count + counts["skipped"],
        }
        if rows:
            vals["last_qbo_id"] = rows[-1].get("Id")
        if reasons:
            vals["skipped_reasons"] = "\n".join(filter(None, [self.skipped_reasons] + reasons[:50]))[-20000:]
        if vals["processed"] > self.total:
            vals["total"] = vals["processed"]
        self.write(vals)
        return len(rows) < self.page_size

    def _qbo_skip_foreign(self, rows, counts, reasons):
        """Rows whose linked Odoo record this company may no longer hold (it moved to another
        company) are skipped: an import never writes into another company's record."""
        model = "res.partner" if self.kind == "customer" else "product.product"
        linked = self._qbo_linked(model, [r["Id"] for r in rows], held_only=False)
        if not linked:
            return rows
        records = self.env[model].browse([r.id for r in linked.values()])
        foreign = records - self._qbo_held(records)
        if not foreign:
            return rows
        kept = []
        for row in rows:
            if row["Id"] in linked and linked[row["Id"]] in foreign:
                counts["skipped"] += 1
                reasons.append(self.env._("QuickBooks Id %(id)s: its linked Odoo record belongs to another company.",
                                          id=row["Id"]))
            else:
                kept.append(row)
        return kept

    def _qbo_notify_end(self):
        self.ensure_one()
        if self.state == "done":
            message = self.env._("%(kind)s: %(created)s created, %(linked)s linked, %(updated)s updated, %(skipped)s skipped.",
                        kind=self.name, created=self.created_count, linked=self.linked_count,
                        updated=self.updated_count, skipped=self.skipped_count)
            payload = {"type": "success", "title": self.env._("QuickBooks import finished"), "message": message}
        else:
            payload = {"type": "danger", "sticky": True, "title": self.env._("QuickBooks import failed"),
                       "message": self.error_message or ""}
        self.env["qbo.live"]._qbo_toast(self.user_id, payload)

    # ==================================================================================
    # links
    # ==================================================================================
    def _qbo_linked(self, model, qbo_ids, held_only=True):
        """{qbo_id: record} of records already linked to these QBO ids in this company (only
        those the company may hold, unless `held_only` is False). The link of a record deleted
        behind the ORM's back is removed: it holds nothing."""
        links = self.env["qbo.link"].sudo().search([
            ("company_id", "=", self.company_id.id), ("res_model", "=", model), ("qbo_id", "in", list(qbo_ids))])
        records = self.env[model].with_context(active_test=False).browse(links.mapped("res_id")).exists()
        existing = set(records.ids)
        links.filtered(lambda link: link.res_id not in existing).unlink()
        if held_only:  # a record moved to another company keeps its link, and is left alone
            existing = set(self._qbo_held(records).ids)
        return {link.qbo_id: self.env[model].browse(link.res_id) for link in links if link.res_id in existing}

    def _qbo_held(self, records):
        """The part of `records` this import may match, update and link: what its company may
        hold (the multi-company rules) and what the user who started it may see in it."""
        records = within_company(records, self.company_id)
        user = self.user_id
        if records and user and self.company_id not in user.company_ids:
            return records.browse()
        if records and user and not user._is_superuser():
            visible = records.with_user(user).with_context(
                allowed_company_ids=[self.company_id.id], active_test=False)._filtered_access("read")
            records = records.browse([rid for rid in records.ids if rid in set(visible.ids)])
        return records

    def _qbo_link_all(self, model, pairs, counts=None, reasons=None):
        """Create or update the links of (record, qbo row) pairs, state synced. A row whose
        link breaks a constraint (its QBO record linked to another Odoo record meanwhile) is
        skipped with that reason; the rest of the page goes on."""
        if not pairs:
            return
        Link = self.env["qbo.link"].sudo()
        company = self.company_id
        records = self.env[model].browse([r.id for r, _row in pairs])
        current = {link.res_id: link for link in Link.search([
            ("company_id", "=", company.id), ("res_model", "=", model), ("res_id", "in", records.ids)])}
        now = fields.Datetime.now()
        writes, new = [], []
        for record, row in pairs:
            vals = {"qbo_id": row["Id"], "qbo_sync_token": row.get("SyncToken"),
                    "qbo_name": row.get("DisplayName") or row.get("Name"), "last_sync": now,
                    "error_code": False, "error_message": False}
            link = current.get(record.id)
            if link:
                vals["state"] = link_state(row["Id"], waiting=link.state == "queued")
                writes.append((record, row, link, vals))
            else:
                new.append((record, row, None, dict(vals, company_id=company.id, res_model=model, res_id=record.id,
                                                    state=link_state(row["Id"]))))
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                for _record, _row, link, vals in writes:
                    link.write(vals)
                Link.create([vals for _record, _row, _link, vals in new])
        except psycopg2.IntegrityError:
            # one row at a time, so that the one at fault is named and the others are linked
            for record, row, link, vals in writes + new:
                try:
                    with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                        if link:
                            link.write(vals)
                        else:
                            Link.create(vals)
                except psycopg2.IntegrityError:
                    if counts is not None:
                        counts["skipped"] += 1
                    if reasons is not None:
                        reasons.append(self.env._(
                            "%(name)s (Id %(id)s): not linked to %(record)s, it is linked to another Odoo record.",
                            name=row.get("DisplayName") or row.get("Name") or "", id=row["Id"],
                            record=record.display_name))
        self.env[model].invalidate_model(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url"])

    # ==================================================================================
    # customers
    # ==================================================================================
    def _qbo_address_vals(self, address):
        address = address or {}
        vals = {"street": _text(address.get("Line1")) or False, "street2": _text(address.get("Line2")) or False,
                "city": _text(address.get("City")) or False, "zip": _text(address.get("PostalCode")) or False}
        country = self._qbo_country(address.get("Country"))
        vals["country_id"] = country.id if country else False
        code = _text(address.get("CountrySubDivisionCode"))
        state = self.env["res.country.state"]
        if code:
            domain = ["|", ("code", "=ilike", code), ("name", "=ilike", code)]
            if country:
                domain = [("country_id", "=", country.id)] + domain
            state = state.search(domain, limit=1)
        vals["state_id"] = state.id if state else False
        return vals

    def _qbo_country(self, value):
        """The country of a QuickBooks address: QuickBooks answers ISO 3-letter codes since 2025-10-31 ("CAN"),
        older answers carry what was written (a 2-letter code or a name)."""
        value = _text(value)
        if not value:
            return self.env["res.country"]
        aliases = {"UNITED STATES": "US", "CANADA": "CA", "UK": "GB"}
        value = aliases.get(value.upper(), value)
        if len(value) == 3 and value.isalpha():   # ISO 3166-1 alpha-3 -> Odoo's alpha-2, through babel (CLDR)
            value = (get_global("territory_aliases").get(value.upper()) or [value])[0]
        Country = self.env["res.country"]
        if len(value) == 2:
            return Country.search([("code", "=ilike", value)], limit=1)
        return Country.search([("name", "=ilike", value)], limit=1)

    def _qbo_terms(self):
        """{QBO term id: account.payment.term} through the mapping of this company."""
        company = self.company_id
        refs = self.env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", "term")])
        terms = self.env["account.payment.term"].with_company(company).search([("qbo_term_ref_id", "in", refs.ids)])
        return {term.with_company(company).qbo_term_ref_id.qbo_id: term for term in terms}

    def _qbo_customer_vals(self, row, terms):
        vals = {
            "name": _text(row.get("DisplayName")) or _text(row.get("CompanyName")) or self.env._("Customer %(id)s", id=row["Id"]),
            "email": _text((row.get("PrimaryEmailAddr") or {}).get("Address")) or False,
            "phone": _text((row.get("PrimaryPhone") or {}).get("FreeFormNumber")) or False,
            "mobile": _text((row.get("Mobile") or {}).get("FreeFormNumber")) or False,
        }
        if row.get("BillAddr"):
            vals.update(self._qbo_address_vals(row["BillAddr"]))
        term = terms.get(((row.get("SalesTermRef") or {}).get("value")) or "")
        if term:
            vals["property_payment_term_id"] = term.id
        return vals

    def _qbo_match_partners(self, rows):
        """{qbo id: partner} of not-yet-linked top-level partners matching by the company's key."""
        key = self.company_id.qbo_customer_match
        wanted = {}
        for row in rows:
            value = _text((row.get("PrimaryEmailAddr") or {}).get("Address")) if key == "email" \
                else _text(row.get("DisplayName"))
            if value:
                wanted.setdefault(value.lower(), row["Id"])
        if not wanted:
            return {}
        column = "email" if key == "email" else "name"
        self.env["res.partner"].flush_model([column, "parent_id", "active"])
        self.env["qbo.link"].flush_model()
        self.env.cr.execute(f"""
            SELECT p.id, lower(p.{column}) FROM res_partner p
             WHERE p.parent_id IS NULL AND p.active AND lower(p.{column}) = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM qbo_link l WHERE l.company_id = %s AND l.res_model = 'res.partner'
                                                          AND l.res_id = p.id AND l.qbo_id IS NOT NULL)
             ORDER BY p.is_company DESC, p.id
        """, [list(wanted), self.company_id.id])
        candidates = self.env.cr.fetchall()
        held = set(self._qbo_held(self.env["res.partner"].browse([pid for pid, _v in candidates])).ids)
        found, used = {}, set()
        for pid, value in candidates:
            qbo_id = wanted.get(value)
            if qbo_id and qbo_id not in found and pid not in used and pid in held:  # one partner for one QBO row
                found[qbo_id] = self.env["res.partner"].browse(pid)
                used.add(pid)
        return found

    def _qbo_import_customers(self, client, rows, counts, reasons):
        Partner = self.env["res.partner"].with_context(qbo_no_enqueue=True, tracking_disable=True)
        terms = self._qbo_terms()
        tops = [r for r in rows if not (r.get("Job") and r.get("ParentRef"))]
        subs = [r for r in rows if r.get("Job") and r.get("ParentRef")]
        # parents of this page's sub-customers that are neither linked nor on this page come
        # first (their own page will count them)
        parent_ids = {r["ParentRef"]["value"] for r in subs}
        missing = parent_ids - set(self._qbo_linked("res.partner", parent_ids)) - {r["Id"] for r in tops}
        extra = []
        if missing:
            answer = client.query(select("Customer", where=f"Id IN {in_list(sorted(missing))}", max_results=1000))
            extra = [r for r in answer.get("Customer", []) if not (r.get("Job") and r.get("ParentRef"))]
            extra = self._qbo_skip_foreign(extra, {"skipped": 0}, [])  # counted on their own page
        pairs = self._qbo_import_top_customers(Partner, extra + tops, terms, counts, skip_count=len(extra),
                                               reasons=reasons)
        parents = self._qbo_linked("res.partner", parent_ids)
        parents.update({row["Id"]: partner for partner, row in pairs})
        self._qbo_import_sub_customers(Partner, subs, parents, terms, counts, reasons)

    def _qbo_import_top_customers(self, Partner, rows, terms, counts, skip_count=0, reasons=None):
        """Top-level customers; `skip_count` first rows are parents fetched for sub-customers
        (not counted: their own page counts them)."""
        if not rows:
            return []
        company = self.company_id
        linked = self._qbo_linked("res.partner", [r["Id"] for r in rows])
        matched = self._qbo_match_partners([r for r in rows if r["Id"] not in linked])
        pairs, to_create = [], []
        for index, row in enumerate(rows):
            counted = index >= skip_count
            vals = self._qbo_customer_vals(row, terms)
            vals["is_company"] = bool(_text(row.get("CompanyName"))) or not (row.get("GivenName") or row.get("FamilyName"))
            partner = linked.get(row["Id"]) or matched.get(row["Id"])
            if partner:
                partner = partner.with_company(company)
                changed = _fill_empty(partner, vals)
                if changed:
                    partner.write(changed)
                if counted:
                    counts["updated" if row["Id"] in linked else "linked"] += 1
                pairs.append((partner, row))
            else:
                to_create.append((vals, row, counted))
        if to_create:
            created = Partner.with_company(company).create([dict(vals, company_id=company.id)
                                                             for vals, _row, _c in to_create])
            for partner, (vals, row, counted) in zip(created, to_create):
                pairs.append((partner, row))
                if counted:
                    counts["created"] += 1
        partners = self.env["res.partner"].browse([p.id for p, _row in pairs])
        partners.with_company(company).with_context(qbo_no_enqueue=True).write({"qbo_hub": "active"})
        self._qbo_import_ship_addresses(Partner, pairs)
        self._qbo_link_all("res.partner", pairs, counts, reasons)
        return pairs

    def _qbo_import_ship_addresses(self, Partner, pairs):
        """A ShipAddr different from the BillAddr becomes (or updates) the partner's unlinked
        delivery address."""
        for partner, row in pairs:
            ship = row.get("ShipAddr")
            if not ship or not (ship.get("Line1") or ship.get("City")):
                continue
            bill = row.get("BillAddr") or {}
            if all((ship.get(k) or "") == (bill.get(k) or "") for k in
                   ("Line1", "Line2", "City", "PostalCode", "CountrySubDivisionCode", "Country")):
                continue
            vals = self._qbo_address_vals(ship)
            linked = self.env["qbo.link"].sudo().search([
                ("company_id", "=", self.company_id.id), ("res_model", "=", "res.partner"),
                ("res_id", "in", partner.child_ids.ids), ("qbo_id", "!=", False)]).mapped("res_id")
            existing = partner.child_ids.filtered(
                lambda c: c.type == "delivery" and c.id not in linked and c.name in (False, "", self.env._("Shipping address")))
            if existing:
                existing[:1].write(vals)
            else:
                Partner.create(dict(vals, parent_id=partner.id, company_id=partner.company_id.id, type="delivery",
                                    name=self.env._("Shipping address")))

    def _qbo_import_sub_customers(self, Partner, rows, parents, terms, counts, reasons):
        company = self.company_id
        linked = self._qbo_linked("res.partner", [r["Id"] for r in rows])
        pairs = []
        for row in rows:
            parent = parents.get(row["ParentRef"]["value"])
            partner = linked.get(row["Id"])
            if not parent and not partner:
                counts["skipped"] += 1
                reasons.append(self.env._("%(name)s: its parent customer is not in QuickBooks' active customers.",
                                 name=row.get("DisplayName")))
                continue
            vals = self._qbo_customer_vals(row, terms)
            vals.pop("property_payment_term_id", None)  # a delivery address follows its parent's terms
            vals.update({"type": "delivery"})
            if row.get("ShipAddr") and (row["ShipAddr"].get("Line1") or row["ShipAddr"].get("City")):
                vals.update(self._qbo_address_vals(row["ShipAddr"]))
            if partner:
                changed = _fill_empty(partner, vals)
                if changed:
                    partner.write(changed)
                counts["updated"] += 1
            else:
                name = (vals["name"] or "").lower()
                partner = parent.child_ids.filtered(
                    lambda c: c.type == "delivery" and (c.name or "").lower() == name)[:1]
                if partner:
                    changed = _fill_empty(partner, vals)
                    if changed:
                        partner.write(changed)
                    counts["linked"] += 1
                else:
                    partner = Partner.create(dict(vals, parent_id=parent.id, company_id=parent.company_id.id))
                    counts["created"] += 1
            pairs.append((partner, row))
        if pairs:
            partners = self.env["res.partner"].browse([p.id for p, _row in pairs])
            partners.with_company(company).with_context(qbo_no_enqueue=True).write({"qbo_hub": "active"})
            self._qbo_link_all("res.partner", pairs, counts, reasons)

    # ==================================================================================
    # products
    # ==================================================================================
    def _qbo_product_vals(self, row):
        return {
            "name": _text(row.get("Name")),
            "default_code": _text(row.get("Sku")) or False,
            "description_sale": _text(row.get("Description")) or False,
            "list_price": float(row.get("UnitPrice") or 0.0),
            "type": "service" if row.get("Type") == "Service" else "consu",
            "sale_ok": True,
        }

    def _qbo_import_products(self, rows, counts, reasons):
        Product = self.env["product.product"].with_context(qbo_no_enqueue=True, tracking_disable=True)
        company = self.company_id
        valid = []
        for row in rows:
            if row.get("Active") is False or row.get("Type") == "Category":
                reason = self.env._("inactive") if row.get("Active") is False else self.env._("a category")
            elif not _text(row.get("Name")):
                reason = self.env._("no name")
            elif row.get("UnitPrice") in (None, ""):
                reason = self.env._("no price")
            else:
                valid.append(row)
                continue
            counts["skipped"] += 1
            reasons.append(self.env._("%(name)s (Id %(id)s): %(reason)s", name=row.get("Name") or "", id=row["Id"], reason=reason))
        linked = self._qbo_linked("product.product", [r["Id"] for r in valid])
        by_sku = company.qbo_product_match == "sku"
        unlinked = [r for r in valid if r["Id"] not in linked]
        taken = set(self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", "product.product"),
            ("qbo_id", "!=", False)]).mapped("res_id")) if unlinked else set()
        matched = {}
        if unlinked:
            if by_sku:
                skus = [_text(r.get("Sku")) for r in unlinked if _text(r.get("Sku"))]
                products = self._qbo_held(Product.search([("default_code", "in", skus)])) if skus else Product
                index = {}
                for product in products:
                    index.setdefault(product.default_code, product)
                for row in unlinked:
                    product = index.get(_text(row.get("Sku")))
                    if product and product.id not in taken:
                        matched[row["Id"]] = product
                        taken.add(product.id)
            else:
                names = [_text(r.get("Name")) for r in unlinked]
                products = self._qbo_held(Product.search([("name", "in", names)]))
                index = {}
                for product in products:
                    index.setdefault((product.name or "").lower(), product)
                for row in unlinked:
                    product = index.get(_text(row.get("Name")).lower())
                    if product and product.id not in taken:
                        matched[row["Id"]] = product
                        taken.add(product.id)
        pairs, to_create = [], []
        for row in valid:
            vals = self._qbo_product_vals(row)
            product = linked.get(row["Id"]) or matched.get(row["Id"])
            if product:
                changed = _fill_empty(product, vals)
                if changed:
                    product.with_context(qbo_no_enqueue=True).write(changed)
                counts["updated" if row["Id"] in linked else "linked"] += 1
                pairs.append((product, row))
            else:
                to_create.append((vals, row))
        if to_create:
            created = Product.create([dict(vals, company_id=company.id) for vals, _row in to_create])
            counts["created"] += len(created)
            pairs += list(zip(created, [row for _vals, row in to_create]))
        self._qbo_link_all("product.product", pairs, counts, reasons)

