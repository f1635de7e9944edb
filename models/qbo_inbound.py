"""What happens in QuickBooks, shown in Odoo read-only.

Writes flow one way, Odoo -> QuickBooks. What comes back is only this, kept on the link of each
record (``qbo.link``) and never in Odoo's accounting entries:
- invoices and credit notes: QuickBooks' balance and total, and a status (open, partially paid,
  paid, voided, deleted) with its date; a void or deletion made in QuickBooks also leaves a
  chatter note;
- customers and items: "Changed in QuickBooks" with the fields that differ from what Odoo would
  send, and a merge made in QuickBooks relinks the Odoo record to the surviving customer;
- every linked record: its current SyncToken, so the next update does not fail with 5010.

How it learns about changes: Intuit's webhooks (``/qbo/webhook``, either format) are checked,
stored and acknowledged at once (``qbo.webhook.event``); the inbound cron then asks QuickBooks'
change data capture (CDC) what changed since the company's cursor: one metered call for a whole
burst of events. Without webhooks, or when a delivery is lost, the same cron on its schedule
catches up, within CDC's 30-day window; beyond it the company is flagged and a full comparison
is offered.
"""
import base64
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq

from ..qbo import QBOError
from .qbo_reason import _lt, reason_vals
from .qbo_sync_mixin import QboPayloadError, in_queries

_logger = logging.getLogger(__name__)

# QBO entity -> Odoo model whose links the changes are applied to
INBOUND_MODELS = {"Customer": "res.partner", "Item": "product.product",
                  "Invoice": "account.move", "CreditMemo": "account.move"}
MOVE_TYPES = {"Invoice": "out_invoice", "CreditMemo": "out_refund"}
CDC_WINDOW = timedelta(days=30)
CDC_OVERLAP = timedelta(minutes=2)   # the next CDC starts this much before the last answer's time
CDC_MAX_OBJECTS = 1000
EVENT_RETENTION_DAYS = 30   # applied webhook events are removed by the autovacuum after this many days
QBO_DOC_STATUSES = [
    ("open", "Unpaid in QuickBooks"),
    ("partial", "Partially paid in QuickBooks"),
    ("paid", "Paid in QuickBooks"),
    ("voided", "Voided in QuickBooks"),
    ("deleted", "Deleted in QuickBooks"),
]
# CloudEvents verbs -> the operations of the older format
CLOUD_VERBS = {"created": "Create", "updated": "Update", "deleted": "Delete", "voided": "Void",
               "merged": "Merge", "emailed": "Emailed"}
IGNORED_FIELDS = {"Id", "SyncToken", "sparse", "PrimaryTaxIdentifier"}  # the tax id is masked on read
OPTIONAL_ANSWER_FIELDS = {"Sku"}   # a field QBO may leave out of an answer: absent is not different


def intuit_signature(verifier, body):
    """base64(HMAC-SHA256(body, verifier)), as Intuit signs a webhook delivery."""
    return base64.b64encode(hmac.new(verifier.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def parse_events(payload):
    """The events of a delivery in either format, as tuples
    (event id, realm, entity, entity id, operation, deleted id, time)."""
    events = []
    if isinstance(payload, list):   # CloudEvents
        for event in payload:
            if not isinstance(event, dict) or not event.get("id"):
                raise ValueError("a CloudEvent without an id")
            parts = str(event.get("type") or "").split(".")
            if len(parts) < 3 or parts[0] != "qbo":
                continue
            entity = next((name for name in INBOUND_MODELS if name.lower() == parts[1]), parts[1].capitalize())
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            events.append((str(event["id"]), str(event.get("intuitaccountid") or ""), entity,
                           str(event.get("intuitentityid") or ""), CLOUD_VERBS.get(parts[2], parts[2].capitalize()),
                           data.get("deletedid") or data.get("deletedId"), event.get("time")))
        return events
    if isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        for note in payload["eventNotifications"]:
            realm = str((note or {}).get("realmId") or "")
            for entity in ((note or {}).get("dataChangeEvent") or {}).get("entities") or []:
                # the older format has no event id: its content is its identity
                uid = "-".join(str(entity.get(k) or "") for k in ("name", "id", "operation", "lastUpdated"))
                events.append((f"{realm}-{uid}", realm, entity.get("name") or "", str(entity.get("id") or ""),
                               entity.get("operation") or "", entity.get("deletedId"), entity.get("lastUpdated")))
        return events
    raise ValueError("not a QuickBooks webhook payload")


def parse_qbo_time(text):
    """QBO's ISO time (any offset, 'Z') as a naive UTC datetime, or None."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def _as_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def field_differences(mine, theirs, path=""):
    """Paths of the fields of Odoo's payload `mine` that QuickBooks' row `theirs` holds otherwise."""
    out = []
    for key, value in mine.items():
        if key in IGNORED_FIELDS:
            continue
        name = f"{path}{key}"
        if not isinstance(theirs, dict) or (key not in theirs and key in OPTIONAL_ANSWER_FIELDS):
            continue
        other = theirs.get(key)
        if isinstance(value, dict):
            if "value" in value:   # a reference: compared by id
                if str(value.get("value") or "") != str((other or {}).get("value") or ""):
                    out.append(name)
            else:
                out += field_differences(value, other if isinstance(other, dict) else {}, name + ".")
            continue
        if value in ("", None) and other in ("", None):
            continue
        if isinstance(value, bool) or isinstance(other, bool):
            if bool(value) != bool(other):
                out.append(name)
            continue
        number, other_number = _as_number(value), _as_number(other)
        if isinstance(value, (int, float)) and number is not None and other_number is not None:
            if abs(number - other_number) > 1e-6:
                out.append(name)
            continue
        if str(value).strip() != str(other if other is not None else "").strip():
            out.append(name)
    return out


class QboWebhookEvent(models.Model):
    _name = "qbo.webhook.event"
    _description = "QuickBooks Online webhook event"
    _order = "id desc"
    _rec_name = "event_uid"

    event_uid = fields.Char("Event id", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    realm = fields.Char(readonly=True)
    entity = fields.Char(readonly=True)
    entity_id = fields.Char("QuickBooks id", readonly=True)
    operation = fields.Char(readonly=True)
    deleted_id = fields.Char("Merged away id", readonly=True)
    event_time = fields.Char(readonly=True)
    state = fields.Selection([("pending", "Waiting"), ("done", "Applied")], default="pending", required=True,
                             index=True, readonly=True)

    _sql_constraints = [("qbo_webhook_event_uid_unique", "unique(event_uid)", "An event is received once.")]

    def init(self):
        self.env.cr.execute("""CREATE INDEX IF NOT EXISTS qbo_webhook_event_pending
                                   ON qbo_webhook_event (company_id, id) WHERE state = 'pending'""")

    # ==================================================================================
    # receiving (the public route calls this as superuser; it must answer within a second)
    # ==================================================================================
    @api.model
    def _qbo_receive(self, body, signature):
        """Check, store and acknowledge one delivery. Returns (HTTP status, summary dict).
        Nothing is read from QuickBooks here: the inbound cron does the work."""
        signature = (signature or "").strip()
        if not signature or not body:
            return 401, {"error": "missing intuit-signature"}
        companies = self.env["res.company"].sudo().search([("qbo_enabled", "=", True),
                                                            ("qbo_webhook_verifier", "!=", False)])
        verified = set()
        for verifier in set(companies.mapped("qbo_webhook_verifier")):
            if consteq(intuit_signature(verifier, body), signature):
                verified.add(verifier)
        if not verified:
            _logger.warning("QuickBooks webhook refused: the signature matches no verifier token")
            return 401, {"error": "invalid signature"}
        try:
            events = parse_events(json.loads(body.decode("utf-8")))
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as exc:
            return 400, {"error": f"unreadable payload: {exc}"}
        by_realm = self._qbo_realm_owners([e[1] for e in events])
        by_realm = {realm: company for realm, company in by_realm.items()
                    if company.qbo_enabled and company.qbo_webhook_verifier in verified}
        rows, ignored = [], 0
        for uid, realm, entity, entity_id, operation, deleted_id, when in events:
            company = by_realm.get(realm)
            if company is None:
                ignored += 1   # a company this database does not hold (or not this app's)
                continue
            rows.append((uid[:255], company.id, realm, entity, entity_id, operation, deleted_id, when))
        accepted = 0
        if rows:
            cr = self.env.cr
            inserted = execute_values(cr._obj, """
                INSERT INTO qbo_webhook_event (event_uid, company_id, realm, entity, entity_id, operation, deleted_id,
                                               event_time, state, create_uid, write_uid, create_date, write_date)
                SELECT v.u, v.c, v.r, v.e, v.i, v.o, v.d, v.t, 'pending', %s, %s,
                       now() at time zone 'UTC', now() at time zone 'UTC'
                  FROM (VALUES %%s) AS v(u, c, r, e, i, o, d, t)
                ON CONFLICT (event_uid) DO NOTHING RETURNING id""" % (SUPERUSER_ID, SUPERUSER_ID),
                rows, page_size=1000, fetch=True)
            accepted = len(inserted)
            if accepted:
                cron = self.env.ref("qbo_financial_hub.ir_cron_qbo_inbound", raise_if_not_found=False)
                if cron:
                    cron.sudo()._trigger()
        return 200, {"accepted": accepted, "duplicates": len(rows) - accepted, "ignored": ignored}

    @api.model
    def _qbo_realm_owners(self, realms):
        """{realm: the one company that holds it}: a realm held by two companies (a database from
        before the rule) maps to none, and its events are ignored (and logged) until a system
        administrator gives it to one; they are never delivered to the wrong one."""
        holders = defaultdict(list)
        companies = self.env["res.company"].sudo().with_context(active_test=False).search(
            [("qbo_realm_id", "in", sorted({r for r in realms if r}))])
        for company in companies:
            holders[company.qbo_realm_id].append(company)
        owners = {}
        for realm, held in holders.items():
            if len(held) == 1:
                owners[realm] = held[0]
            else:
                _logger.warning("QuickBooks webhook: realm %s is held by companies %s: its events are ignored",
                                realm, [c.id for c in held])
        return owners

    @api.autovacuum
    def _gc_processed_events(self):
        """Applied events older than the retention age (system parameter
        qbo_financial_hub.webhook_retention_days, 30 by default) go; waiting ones stay."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "qbo_financial_hub.webhook_retention_days", EVENT_RETENTION_DAYS) or EVENT_RETENTION_DAYS)
        self.env.cr.execute("""DELETE FROM qbo_webhook_event WHERE state = 'done'
                                AND write_date < (now() at time zone 'UTC') - make_interval(days => %s)""", [days])
        _logger.info("QuickBooks webhooks: %s applied event(s) older than %s days removed", self.env.cr.rowcount, days)

    # ==================================================================================
    # the inbound cron
    # ==================================================================================
    @api.model
    def _cron_inbound(self):
        companies = self.env["res.company"].sudo().search([
            ("qbo_enabled", "=", True), ("qbo_state", "=", "connected"), ("qbo_realm_id", "!=", False)])
        for company_id in companies.ids:
            self._qbo_inbound_company(company_id)   # never raises: a company's failure is its own
        try:
            self.env["res.company"].sudo()._qbo_warn_hard_expiry()
        except Exception:  # noqa: BLE001 - a reminder must not fail the run that read the changes
            _logger.exception("QuickBooks: the consent expiry reminders failed")

    @api.model
    def _qbo_inbound_company(self, company_id, client_options=None, report=None):
        """Apply the pending events and what CDC reports since the cursor (a full comparison
        first when one was asked for), for one company, in a transaction of its own. Returns the
        number of QuickBooks rows looked at. Never raises: whatever fails (QuickBooks' answer,
        Odoo's own code) is logged and written on the company, its events stay pending, and
        `report["error"]` (when given) says why."""
        report = {} if report is None else report
        try:
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                try:
                    seen = env["qbo.webhook.event"]._qbo_inbound_run(company_id, client_options)
                    cr.commit()  # pylint: disable=invalid-commit  # the cursor opened above, for this company alone
                    return seen
                except Exception as exc:  # noqa: BLE001 - one company's failure never stops the others
                    cr.rollback()
                    env.invalidate_all()
                    report["error"] = env["res.company"]._qbo_failure_text(
                        exc, company_id, env._("QuickBooks' changes were not read"))
                    env["res.company"].browse(company_id).write({"qbo_cdc_message": report["error"][:1000]})
                    cr.commit()  # pylint: disable=invalid-commit  # the cursor opened above, for this company alone
                    return 0
        except Exception as exc:  # noqa: BLE001 - even the message could not be written (the database)
            _logger.exception("QuickBooks changes of company %s: the failure could not be recorded", company_id)
            report.setdefault("error", str(exc))
            return 0

    @api.model
    def _qbo_inbound_run(self, company_id, client_options=None):
        """One company's turn of the inbound cron, on this environment's cursor (the caller
        commits or rolls back): the full comparison asked for, the merges the events report (each
        confirmed by reading QuickBooks), and the changes CDC reports. Raises on failure."""
        cr = self.env.cr
        company = self.env["res.company"].sudo().browse(company_id)
        if not (company.qbo_enabled and company.qbo_state == "connected" and company.qbo_realm_id):
            return 0
        cr.execute("""SELECT id, entity, entity_id, operation, deleted_id FROM qbo_webhook_event
                       WHERE company_id = %s AND state = 'pending' ORDER BY id
                         FOR UPDATE SKIP LOCKED""", [company_id])
        events = cr.fetchall()
        client = company._qbo_client(**(client_options or {}))
        seen = 0
        if company.qbo_cdc_full_requested:
            # beyond CDC's 30 days: every linked record compared, then changes read from the window's start
            seen += self._qbo_full_compare(company, client)
            company.write({"qbo_cdc_full_requested": False, "qbo_cdc_gap": False, "qbo_cdc_cursor": False})
        operations = {(entity, entity_id): operation for _id, entity, entity_id, operation, _d in events}
        self._qbo_apply_merges(company, client, [(e, i, d) for _id, e, i, op, d in events if op == "Merge" and d])
        seen += self._qbo_read_changes(company, client, operations)
        if events:
            cr.execute("UPDATE qbo_webhook_event SET state = 'done', write_date = now() at time zone 'UTC' "
                       "WHERE id IN %s", [tuple(e[0] for e in events)])
        return seen

    def _qbo_read_changes(self, company, client, operations):
        """CDC since the company's cursor; moves the cursor. An answer that hits CDC's 1,000
        objects is asked again entity by entity, and an entity that alone has more changes is
        compared record by record (its linked records only)."""
        entities = [e for e, model in INBOUND_MODELS.items() if model in self.env]
        cursor = company.qbo_cdc_cursor
        since = parse_qbo_time(cursor) if cursor else datetime.utcnow() - CDC_WINDOW + timedelta(minutes=5)
        since_text = since.isoformat(timespec="seconds") + "+00:00"
        rows, server_time = client.changes(entities, since_text)
        server_now = parse_qbo_time(server_time) or datetime.utcnow()
        values = {"qbo_cdc_cursor": (server_now - CDC_OVERLAP).isoformat(timespec="seconds") + "+00:00",
                  "qbo_cdc_last_run": fields.Datetime.now(), "qbo_cdc_message": False}
        if cursor and since < server_now - CDC_WINDOW:
            values["qbo_cdc_gap"] = True   # CDC looks back 30 days: what changed before is not in the answer
        seen = sum(len(r) for r in rows.values())
        if seen >= CDC_MAX_OBJECTS:
            for entity in entities:
                part, _time = client.changes([entity], since_text)
                if len(part.get(entity) or []) >= CDC_MAX_OBJECTS:
                    seen += self._qbo_full_compare(company, client, entities=[entity])
                elif part.get(entity):
                    self._qbo_apply_rows(company, entity, part[entity], operations)
                    seen += len(part[entity])
        else:
            for entity in entities:
                if rows.get(entity):
                    self._qbo_apply_rows(company, entity, rows[entity], operations)
        company.sudo().write(values)
        return seen

    # ==================================================================================
    # applying what QuickBooks holds
    # ==================================================================================
    def _qbo_links_for(self, company, model, qbo_ids):
        links = self.env["qbo.link"].sudo().search([("company_id", "=", company.id), ("res_model", "=", model),
                                                    ("qbo_id", "in", list(qbo_ids))])
        return {link.qbo_id: link for link in links}

    def _qbo_apply_rows(self, company, entity, rows, operations=None):
        """Apply QuickBooks' current rows of one entity to the links of this company's records."""
        operations = operations or {}
        model = INBOUND_MODELS[entity]
        links = self._qbo_links_for(company, model, [str(r.get("Id")) for r in rows if r.get("Id")])
        records = self.env[model].sudo().with_company(company).browse([l.res_id for l in links.values()]).exists()
        for row in rows:
            link = links.get(str(row.get("Id")))
            record = records.browse(link.res_id) if link and link.res_id in records.ids else None
            if not record:
                continue
            if entity in MOVE_TYPES and record.move_type != MOVE_TYPES[entity]:
                continue
            when = parse_qbo_time((row.get("MetaData") or {}).get("LastUpdatedTime")) or fields.Datetime.now()
            if row.get("status") == "Deleted" or operations.get((entity, str(row["Id"]))) == "Delete":
                self._qbo_gone(link, record, entity, "deleted", when)
                continue
            vals = {}
            token, known = _as_number(row.get("SyncToken")), _as_number(link.qbo_sync_token)
            newer = token is not None and (known is None or token > known)
            if newer:
                vals["qbo_sync_token"] = str(row["SyncToken"])   # the next update carries it: no 5010
            if entity in MOVE_TYPES:
                self._qbo_document_status(link, record, entity, row, when, operations, vals)
            elif newer:
                self._qbo_compare(company, link, record, row, when, vals)
            if vals:
                link.write(vals)

    def _qbo_document_status(self, link, record, entity, row, when, operations, vals):
        total = _as_number(row.get("TotalAmt")) or 0.0
        balance = _as_number(row.get("Balance"))
        balance = total if balance is None else balance
        voided = operations.get((entity, str(row["Id"]))) == "Void" or (
            total == 0 and str(row.get("PrivateNote") or "").startswith("Voided") and record.amount_total)
        if voided:
            self._qbo_gone(link, record, entity, "voided", when, vals)
            return
        if total > 0 and balance <= 0.004:
            status = "paid"
        elif 0.004 < balance < total:
            status = "partial"
        else:
            status = "open"
        vals.update({"qbo_total": total, "qbo_balance": balance, "qbo_remote_state": "known"})
        if link.qbo_status != status:
            vals.update({"qbo_status": status, "qbo_status_date": when})

    def _qbo_gone(self, link, record, entity, status, when, vals=None):
        """A linked document voided or deleted in QuickBooks (or a customer or item gone there)."""
        vals = {} if vals is None else vals
        if entity not in MOVE_TYPES:
            if not link.qbo_changed_fields:
                record._qbo_message_log(_lt(
                    "Deleted or merged away in QuickBooks on %(date)s: the next push would fail; unlink or "
                    "link it again.", date=fields.Datetime.to_string(when)))
            vals.update({"qbo_changed_fields": self.env._("Deleted or merged away in QuickBooks"),
                         "qbo_changed_at": when})
        elif link.qbo_status != status:
            vals.update({"qbo_status": status, "qbo_status_date": when, "qbo_balance": 0.0})
            if status == "deleted":
                vals["qbo_remote_state"] = "deleted"   # the reconciliation reads it too
            ours = status == "voided" and record.state == "cancel"   # Odoo cancelled it and pushed the void
            if not ours:
                label = (_lt("Voided in QuickBooks on %(date)s", date=fields.Date.to_string(when.date()))
                         if status == "voided" else
                         _lt("Deleted in QuickBooks on %(date)s", date=fields.Date.to_string(when.date())))
                record._qbo_message_log(_lt(
                    "%(label)s. Odoo's entries are unchanged: push it again to QuickBooks, or unlink it.",
                    label=label))
        if vals:
            link.write(vals)

    def _qbo_compare(self, company, link, record, row, when, vals):
        """A customer or item changed in QuickBooks: which fields now differ from Odoo's version."""
        try:
            payload, _operation = record._qbo_prepare_payload(company, link, None)
        except (QboPayloadError, UserError):
            return
        differing = field_differences(payload or {}, row)
        if differing:
            text = ", ".join(differing)
            if text != link.qbo_changed_fields:
                record._qbo_message_log(_lt("Changed in QuickBooks: %(fields)s.", fields=text))
                vals.update({"qbo_changed_fields": text, "qbo_changed_at": when})
        elif link.qbo_changed_fields:
            vals.update({"qbo_changed_fields": False, "qbo_changed_at": False})

    def _qbo_confirmed_merges(self, company, client, merges):
        """The merges an event reports that QuickBooks confirms: the survivor exists and the
        record merged away does not (one query per entity for all of them). An event's word
        alone never relinks a record: a delivery may be replayed, forged with a leaked verifier,
        or name ids of another company's books."""
        confirmed = []
        wanted = defaultdict(set)
        for entity, survivor, loser in merges:
            if INBOUND_MODELS.get(entity) in self.env and entity not in MOVE_TYPES:
                wanted[entity] |= {str(survivor), str(loser)}
        for entity, ids in wanted.items():
            found = set()
            for query in in_queries(f"SELECT Id FROM {entity}", "Id", sorted(ids), condition="Active IN (true, false)"):
                found |= {str(row.get("Id")) for row in client.query_rows(query)}
            for merge in merges:
                if merge[0] != entity:
                    continue
                if str(merge[1]) in found and str(merge[2]) not in found:
                    confirmed.append(merge)
                else:
                    _logger.warning("QuickBooks company %s: a Merge event of %s %s into %s is not what QuickBooks "
                                    "holds: ignored", company.id, entity, merge[2], merge[1])
        return confirmed

    def _qbo_apply_merges(self, company, client, merges):
        """QuickBooks merged `deleted id` into `id` (confirmed by reading QuickBooks): the Odoo
        record linked to the one that disappeared is relinked to the survivor, unless another
        Odoo record holds the survivor."""
        merges = [m for m in merges if INBOUND_MODELS.get(m[0]) in self.env and m[0] not in MOVE_TYPES]
        if not merges:
            return
        # only merges that touch a linked record are worth a read
        merges = [m for m in merges
                  if self._qbo_links_for(company, INBOUND_MODELS[m[0]], [str(m[2])])]
        for entity, survivor, loser in self._qbo_confirmed_merges(company, client, merges) if merges else []:
            model = INBOUND_MODELS[entity]
            links = self._qbo_links_for(company, model, [str(survivor), str(loser)])
            lost = links.get(str(loser))
            if not lost:
                continue
            record = self.env[model].sudo().browse(lost.res_id).exists()
            holder = links.get(str(survivor))
            if holder and holder != lost:
                other = self.env[model].sudo().browse(holder.res_id).exists()
                message = _lt(
                    "Merged in QuickBooks into %(entity)s %(id)s, which is linked to %(other)s: this record is no "
                    "longer linked to a QuickBooks record.", entity=entity, id=survivor,
                    other=other.display_name if other else "-")
                lost.write({"state": "error", "error_code": "merged", **reason_vals(message),
                            "qbo_changed_fields": self.env._("Merged away in QuickBooks"),
                            "qbo_changed_at": fields.Datetime.now()})
            else:
                message = _lt("Merged in QuickBooks: relinked from %(entity)s %(old)s to %(new)s.",
                                     entity=entity, old=loser, new=survivor)
                lost.write({"qbo_id": str(survivor), "qbo_sync_token": False, "qbo_changed_fields": False,
                            "qbo_changed_at": False})
            if record:
                record._qbo_message_log(message)

    # ==================================================================================
    # full comparison (beyond CDC's 30 days)
    # ==================================================================================
    @api.model
    def _qbo_full_compare(self, company, client=None, entities=None):
        """Read every linked record of the company by id (queries of 30 ids, sent as /batch) and
        apply them as CDC rows. Returns the number of rows read."""
        client = client or company._qbo_client()
        count = 0
        for entity, model in INBOUND_MODELS.items():
            if model not in self.env or (entities and entity not in entities):
                continue
            links = self.env["qbo.link"].sudo().search([("company_id", "=", company.id), ("res_model", "=", model),
                                                        ("qbo_id", "!=", False)])
            if entity in MOVE_TYPES:
                moves = self.env[model].sudo().browse(links.mapped("res_id")).exists()
                wanted = set(moves.filtered(lambda m: m.move_type == MOVE_TYPES[entity]).ids)
                links = links.filtered(lambda l: l.res_id in wanted)
            if not links:
                continue
            select = "SELECT *, Sku FROM Item" if entity == "Item" else f"SELECT * FROM {entity}"
            queries = in_queries(select, "Id", links.mapped("qbo_id"), condition="Active IN (true, false)"
                                 if entity in ("Customer", "Item") else None)
            rows = []
            for result in client.batch([{"bId": str(i), "Query": q} for i, q in enumerate(queries)]):
                if not result.ok:
                    raise result.error
                rows += (result.data or {}).get(entity, [])
            found = {str(r["Id"]) for r in rows}
            rows += [{"Id": qbo_id, "status": "Deleted"} for qbo_id in links.mapped("qbo_id") if qbo_id not in found]
            self._qbo_apply_rows(company, entity, rows)
            count += len(rows)
        return count
