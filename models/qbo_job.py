"""The durable push queue and the engine that drains it.

A job is a row written in the same transaction as the change that calls for it, so nothing
is lost if QuickBooks is down or Odoo restarts; repeated edits of one record coalesce into
its one pending job (a partial unique index), and the payload is built when the job is sent,
from the record as it is then.

Draining (ir.cron, any number of workers; see qbo_drain.py for turns and senders):
1. claim: ``FOR UPDATE SKIP LOCKED`` a bounded chunk of ready jobs of the lowest dependency
   level, mark them ``sending`` with an attempt counted, commit. Another worker skips them; a
   dead worker's jobs come back after their lease, an attempt counted.
2. prepare: one /batch of Query items finds the QBO twins of records not linked yet (never one
   request per record) and the current SyncToken of linked ones whose token is unknown; a twin
   linked to another Odoo record is never taken; payloads are built; whatever fails for one
   record is that record's error. Each job to send gets its idempotency key (kept from an
   unanswered earlier attempt, else new), committed before anything is sent.
3. send: /batch requests of 30 items and single writes, each request with its key as
   requestid, so any re-send replays the same id and QBO answers the first result instead of
   creating twice.
4. apply: links, SyncTokens, states (one function decides a record's state), errors (with a
   chatter note) and notifications, in bulk, committed. A failure of Odoo's own here puts the
   chunk back in the queue with the reason; nothing stays 'sending' without one.
Requests go through a per-realm budget held in PostgreSQL (see qbo_rate.py), shared by all
workers, so the queue drains near Intuit's ceiling without a 429.
"""
import logging
import time
import uuid
from collections import defaultdict
from datetime import timedelta

import psycopg2
from psycopg2.extras import Json

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools.sql import create_index

from ..qbo import BATCH_SIZE, AuthenticationError, DuplicateNameError, QBOError, RevokedError, StaleObjectError
from .qbo_drain import Chunk, Lane, send_batches, send_singles
from .qbo_rate import MARGIN as RATE_MARGIN, WINDOW as RATE_WINDOW
from .qbo_reason import Reason, _lt, join_reasons, qbo_error_reason, reason_json, reason_vals, shown
from .qbo_rights import USER_GROUP, check_company_action
from .qbo_sync_mixin import QboPayloadError, in_queries, link_state
from .qbo_walls import check_record_company, within_company

_logger = logging.getLogger(__name__)

JOB_STATES = [
    ("pending", "Queued"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
JOB_KINDS = [
    ("customer", "Customer"),
    ("item", "Product"),
    ("invoice", "Invoice"),
    ("creditmemo", "Credit note"),
    ("estimate", "Quotation"),
]
ENTITY_BY_KIND = {"customer": "Customer", "item": "Item", "invoice": "Invoice", "creditmemo": "CreditMemo",
                  "estimate": "Estimate"}
# Transient failures back off 30 s, 1, 2, 4, 8, 16, 32 min then hourly: a job survives QBO
# being down for about four hours before it is put in error (and a Retry brings it back).
MAX_ATTEMPTS = 10
DIRECT_OPERATIONS = ("attach",)  # sent by their model's _qbo_send_direct, not in a /batch
CHUNK_SIZE = 600          # jobs claimed at once: 20 batches of 30
SINGLES_UP_TO = 5         # a chunk of this many writes or fewer is sent one request per job
JOB_RETENTION_DAYS = 30   # finished jobs are removed by the autovacuum after this many days
BATCH_ITEMS = BATCH_SIZE  # jobs sharing one idempotency key: one /batch request
LEASE = timedelta(minutes=10)   # a 'sending' job older than this belonged to a dead worker
CRON_TIME_BUDGET = 60     # seconds a cron run drains before handing over (limit_time_real is 120 s)


def record_names(lines):
    """{(res_model, res_id): display name} of the records `lines` (jobs or links) point at, read
    with one query per model rather than one per line."""
    ids = defaultdict(set)
    for line in lines:
        if line.res_model in line.env:
            ids[line.res_model].add(line.res_id)
    names = {}
    for res_model, res_ids in ids.items():
        for record in line.env[res_model].browse(sorted(res_ids)).exists():
            names[(res_model, record.id)] = record.display_name
    return names


def bulk_update(model, rows):
    """UPDATE rows of `model` from dicts {'id': .., column: value} (all with the same columns),
    in statements of 1,000 rows through Odoo's cr.execute_values; values are cast to the
    fields' column types, and the model's cache of those fields is dropped."""
    if not rows:
        return
    columns = [column for column in rows[0] if column != "id"]
    cast = {column: model._fields[column].column_type[1] for column in columns}
    model.env.cr.execute_values(
        f"""UPDATE {model._table} t SET {", ".join(f'"{c}" = v."{c}"' for c in columns)},
                   write_date = now() at time zone 'UTC'
              FROM (VALUES %s) AS v(id, {", ".join(f'"{c}"' for c in columns)}) WHERE t.id = v.id""",
        [tuple(row[column] for column in ["id"] + columns) for row in rows],
        template="(%s, " + ", ".join(f"%s::{cast[c]}" for c in columns) + ")", page_size=1000)
    model.invalidate_model(columns)


def as_json(value):
    """A value for a jsonb column in bulk_update (SQL NULL for nothing)."""
    return Json(value) if value else None


def identities(entity):
    """What identifies a QBO record among others of its entity (lowercased): its name, SKU,
    email and document number, each tagged with its kind."""
    values = {("name", entity.get("DisplayName") or entity.get("Name")), ("sku", entity.get("Sku")),
              ("email", (entity.get("PrimaryEmailAddr") or {}).get("Address")), ("number", entity.get("DocNumber"))}
    return {(kind, value.strip().lower()) for kind, value in values if isinstance(value, str) and value.strip()}


class QboJob(models.Model):
    _name = "qbo.job"
    _description = "QuickBooks Online push job"
    _order = "id desc"
    _rec_name = "record_name"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    res_model = fields.Char("Model", required=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", required=True)
    record_name = fields.Char(compute="_compute_record_name")
    kind = fields.Selection(JOB_KINDS, required=True)
    operation = fields.Selection([("push", "Push"), ("void", "Void"), ("delete", "Delete")],
                                 default="push", required=True)
    level = fields.Integer(default=0, help="Dependency order: lower levels are pushed first.")
    state = fields.Selection(JOB_STATES, default="pending", required=True, index=True)
    attempts = fields.Integer(default=0)
    next_attempt_at = fields.Datetime(default=fields.Datetime.now, required=True)
    batch_ref = fields.Char("Idempotency key", copy=False,
                            help="The requestid of the QuickBooks request that carried this job, kept until "
                                 "QuickBooks answers it: any re-send replays it, so nothing is created twice.")
    sent_request = fields.Json(
        copy=False, help="What was sent under the idempotency key the first time (entity, operation, payload and "
                         "its bId or requestid): until QuickBooks answers that key, a re-send replays exactly this, "
                         "so its answer (QuickBooks replays its first one) is read against what it answers.")
    follow_up = fields.Boolean(
        copy=False, help="The record changed while this job waited with the key of an unanswered request: "
                         "QuickBooks may answer that first request again, so the record is queued once more after.")
    sent_at = fields.Datetime()
    done_at = fields.Datetime()
    qbo_id = fields.Char("QuickBooks Id")
    error_code = fields.Char()
    error_message = fields.Text(help="The reason in English, as logs and exports read it.")
    error_reason = fields.Json(copy=False, help="The reason as a sentence and its values, read in each reader's language.")
    error_text = fields.Text("Reason", compute="_compute_error_text",
                             help="Why the job failed or waits, in the reader's language.")

    def init(self):
        cr = self.env.cr
        # one pending job per record and operation: repeated edits coalesce (no WHERE in
        # odoo.tools.sql.create_unique_index, hence the statement)
        cr.execute("""CREATE UNIQUE INDEX IF NOT EXISTS qbo_job_pending_unique
                          ON qbo_job (company_id, res_model, res_id, operation) WHERE state = 'pending'""")
        create_index(cr, "qbo_job_ready_index", self._table, ["company_id", "level", "id"], where="state = 'pending'")
        create_index(cr, "qbo_job_sending_index", self._table, ["sent_at"], where="state = 'sending'")
        create_index(cr, "qbo_job_record_index", self._table, ["res_model", "res_id"])
        create_index(cr, "qbo_job_finished_index", self._table, ["done_at"], where="state IN ('done', 'cancelled')")
        cr.execute("""
            CREATE TABLE IF NOT EXISTS qbo_rate_budget (
                realm varchar NOT NULL, kind varchar NOT NULL, tat timestamptz NOT NULL,
                PRIMARY KEY (realm, kind));
            CREATE TABLE IF NOT EXISTS qbo_rate_log (
                realm varchar NOT NULL, kind varchar NOT NULL, sent_at timestamptz NOT NULL);
            CREATE INDEX IF NOT EXISTS qbo_rate_log_index ON qbo_rate_log (realm, kind, sent_at DESC);
            CREATE TABLE IF NOT EXISTS qbo_turn (
                company_id integer PRIMARY KEY REFERENCES res_company(id) ON DELETE CASCADE,
                last_turn timestamptz NOT NULL);
        """)
        create_index(cr, "qbo_job_next_index", self._table, ["company_id", "next_attempt_at"], where="state = 'pending'")

    @api.autovacuum
    def _gc_finished_jobs(self):
        """Finished jobs (done or cancelled) older than the retention age go; a job in error
        stays until it is retried, its reason readable."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "qbo_financial_hub.job_retention_days", JOB_RETENTION_DAYS) or JOB_RETENTION_DAYS)
        self.env.cr.execute("""DELETE FROM qbo_job WHERE state IN ('done', 'cancelled')
                                AND done_at < (now() at time zone 'UTC') - make_interval(days => %s)""", [days])
        _logger.info("QuickBooks queue: %s finished job(s) older than %s days removed", self.env.cr.rowcount, days)

    @api.constrains("company_id", "res_model", "res_id")
    def _check_record_company(self):
        check_record_company(self)

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        names = record_names(self)
        for job in self:
            job.record_name = names.get((job.res_model, job.res_id)) or f"{job.res_model},{job.res_id}"

    @api.depends_context("lang")
    @api.depends("error_message", "error_reason")
    def _compute_error_text(self):
        for job in self:
            job.error_text = shown(job.error_reason, job.error_message, self.env.lang)

    # ==================================================================================
    # enqueue
    # ==================================================================================
    @api.model
    def _qbo_check_user(self):
        if not self.env.user.has_group("qbo_financial_hub.group_qbo_user"):
            raise AccessError(self.env._("Only QuickBooks users can push records to QuickBooks."))

    @api.model
    def _qbo_create_jobs(self, company, res_model, ids, kind, operation="push", level=0, levels=None,
                         mark_queued=True):
        """Insert one pending job per record (coalescing with a pending one) and mark the
        records' links queued, in two statements whatever the number of records. Records the
        company may not hold (its multi-company rules hide them) are never queued for it."""
        if ids and res_model in self.env:
            ids = within_company(self.env[res_model].browse(ids), company).ids
        if not ids:
            return
        cr = self.env.cr
        uid = self.env.uid
        levels = levels or {}
        rows = [{"company_id": company.id, "res_model": res_model, "res_id": rid, "kind": kind, "operation": operation,
                 "level": levels.get(rid, level), "uid": uid, "state": link_state(None, waiting=True)} for rid in ids]
        cr.execute_values("""
            INSERT INTO qbo_job (company_id, res_model, res_id, kind, operation, level, create_uid, write_uid,
                                 state, attempts, next_attempt_at, create_date, write_date)
            SELECT v.company_id, v.res_model, v.res_id, v.kind, v.operation, v.level, v.uid, v.uid, 'pending', 0,
                   now() at time zone 'UTC', now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(company_id, res_model, res_id, kind, operation, level, uid)
            ON CONFLICT (company_id, res_model, res_id, operation) WHERE state = 'pending'
            DO UPDATE SET next_attempt_at = LEAST(qbo_job.next_attempt_at, EXCLUDED.next_attempt_at),
                          write_uid = EXCLUDED.write_uid,
                          follow_up = qbo_job.follow_up OR qbo_job.batch_ref IS NOT NULL
        """, rows, template="(%(company_id)s, %(res_model)s, %(res_id)s, %(kind)s, %(operation)s, %(level)s, %(uid)s)",
            page_size=1000)
        if not mark_queued:   # e.g. an invoice PDF to attach: the record's own state is unchanged
            self.invalidate_model()
            return
        cr.execute_values("""
            INSERT INTO qbo_link (company_id, res_model, res_id, state, create_uid, write_uid, create_date, write_date)
            SELECT v.company_id, v.res_model, v.res_id, v.state, v.uid, v.uid,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(company_id, res_model, res_id, state, uid)
            ON CONFLICT (company_id, res_model, res_id)
            DO UPDATE SET state = EXCLUDED.state, write_date = now() at time zone 'UTC'
        """, rows, template="(%(company_id)s, %(res_model)s, %(res_id)s, %(state)s, %(uid)s)", page_size=1000)
        self.env["qbo.link"].invalidate_model()
        self.invalidate_model()
        if res_model in self.env:
            self.env[res_model].invalidate_model(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url"])

    # ==================================================================================
    # cron
    # ==================================================================================
    @api.model
    def _cron_process(self, time_budget=CRON_TIME_BUDGET):
        """One cron worker's run: turns between the companies with ready jobs, on the realms no
        other worker holds (see qbo_drain.py). Every cron of this model running this method is
        a worker of its own; when more realms are ready than this one takes, the others are
        woken up."""
        self._qbo_wake_other_workers()
        done = Lane(self.env, time.monotonic() + time_budget, CHUNK_SIZE, LEASE).run()
        self.env.cr.execute("""SELECT count(*) FILTER (WHERE next_attempt_at <= clock_timestamp() at time zone 'UTC'),
                                      min(next_attempt_at)
                                 FROM qbo_job j JOIN res_company c ON c.id = j.company_id
                                WHERE j.state = 'pending' AND c.qbo_enabled AND c.qbo_state = 'connected'""")
        ready, next_at = self.env.cr.fetchone()
        cron = self.env.ref("qbo_financial_hub.ir_cron_qbo_sync", raise_if_not_found=False)
        if cron and next_at and not ready:
            cron._trigger(at=next_at)
        self.env["ir.cron"]._notify_progress(done=done, remaining=ready or 0)
        return done

    @api.model
    def _qbo_wake_other_workers(self):
        """Trigger the other queue crons when jobs of more than one realm are ready."""
        self.env.cr.execute("""SELECT count(DISTINCT c.qbo_realm_id) FROM res_company c
                                WHERE c.qbo_enabled AND c.qbo_state = 'connected'
                                  AND EXISTS (SELECT 1 FROM qbo_job j WHERE j.company_id = c.id AND j.state = 'pending'
                                                 AND j.next_attempt_at <= clock_timestamp() at time zone 'UTC')""")
        if self.env.cr.fetchone()[0] < 2:
            return
        crons = self.env["ir.cron"].sudo().search([("model_id.model", "=", self._name),
                                                   ("code", "=like", "%_cron_process()%"),
                                                   ("id", "!=", self.env.context.get("cron_id") or 0)])
        for cron in crons:
            cron._trigger()

    @api.model
    def _qbo_process_company(self, company_id, deadline=None, chunk_size=CHUNK_SIZE, client_options=None):
        """Drain the queue of one company until it is empty or `deadline` (monotonic) passes,
        as a cron worker does (nothing when another worker holds its realm).
        Returns the number of jobs finished (done or error)."""
        deadline = deadline or time.monotonic() + CRON_TIME_BUDGET
        return Lane(self.env, deadline, chunk_size, LEASE, company_ids=[company_id],
                    client_options=client_options).run()

    @api.model
    def _qbo_budgets(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        return {"request": int(get("qbo_financial_hub.requests_per_minute", 500)),
                "batch": int(get("qbo_financial_hub.batches_per_minute", 40)),
                "concurrent": int(get("qbo_financial_hub.concurrent_requests", 10))}

    def _qbo_singles(self, count, realm=None):
        """How many of a claim of `count` jobs are sent one per request, beside its /batch
        requests: all of a claim of a few jobs (one request instead of one batch); none while
        the minute's batches of `realm` have room for the whole claim (a single write costs a
        request and more time than its share of a /batch: it only helps past the batch
        ceiling); else the share that uses both of a realm's budgets at once, whole batches of
        30 for the rest.
        With Intuit's 500 requests and 40 batches a minute, and one /batch of lookups per
        chunk, 180 of 600: per chunk 15 batches and 195 requests, about 1,500 writes a
        minute where batches alone carry 1,170."""
        if not self._qbo_single_writes():
            return 0
        if count <= SINGLES_UP_TO:
            return count
        budgets = self._qbo_budgets()
        if realm and self._qbo_batch_room(realm, budgets["batch"]) > -(-count // BATCH_ITEMS):
            return 0
        spare = budgets["request"] - budgets["batch"]
        if spare <= 0:
            return 0
        # requests per record = batches per record * request / batch budget, solved for the share
        per_batch, lookup = 1 / BATCH_ITEMS, 1 / count
        share = spare * (per_batch + lookup) / (budgets["batch"] + spare * per_batch)
        batched = BATCH_ITEMS * round((1 - share) * count / BATCH_ITEMS)
        return min(max(count - batched, 0), count)

    def _qbo_batch_room(self, realm, limit):
        """/batch requests `realm` may still send this minute: its budget less the batches in
        its window (qbo_rate.py) and those of its other chunks claimed and not answered yet
        (some of which are in the window already: the room is never overstated)."""
        self.env.cr.execute("""
            SELECT (SELECT count(*) FROM qbo_rate_log WHERE realm = %(realm)s AND kind = 'batch'
                       AND sent_at > clock_timestamp() - make_interval(secs => %(window)s))
                 + (SELECT count(DISTINCT j.batch_ref) FROM qbo_job j JOIN res_company c ON c.id = j.company_id
                     WHERE c.qbo_realm_id = %(realm)s AND j.state = 'sending' AND j.batch_ref IS NOT NULL
                       AND j.batch_ref NOT LIKE '%%s' AND NOT j.id = ANY(%(ids)s))""",
                            {"realm": realm, "window": RATE_WINDOW * RATE_MARGIN, "ids": self.ids})
        return limit - self.env.cr.fetchone()[0]

    @api.model
    def _qbo_single_writes(self):
        """System parameter qbo_financial_hub.single_writes (default on): "0" sends every create
        and update in /batch requests (fewest requests per record, about 1,170 writes a minute
        per QuickBooks company at most)."""
        value = self.env["ir.config_parameter"].sudo().get_param("qbo_financial_hub.single_writes", "1")
        return value.strip().lower() not in ("0", "false", "no", "off")

    @api.model
    def _qbo_claim(self, company_id, limit):
        """Take ready jobs of the lowest level not finished yet (pending or being sent: a later
        level waits until they are in) for this worker, committed as 'sending', an attempt
        counted; never a job of a record whose other job is in flight (its answer, perhaps the
        creation of the record's twin, comes first). Jobs of a worker that stopped (lease expired) are taken
        back first, an attempt counted too (past the limit they are put in error), with their
        idempotency keys, so their re-send replays the same requestids."""
        cr = self.env.cr
        cr.execute("""
            WITH stale AS (
                SELECT id FROM qbo_job
                 WHERE company_id = %s AND state = 'sending' AND sent_at < (now() at time zone 'UTC') - %s
                 ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
            UPDATE qbo_job j SET attempts = j.attempts + 1, sent_at = now() at time zone 'UTC',
                                 write_date = now() at time zone 'UTC'
              FROM stale WHERE j.id = stale.id
            RETURNING j.id
        """, [company_id, LEASE, limit])
        ids = [r[0] for r in cr.fetchall()]
        if not ids:
            cr.execute("""
                WITH ready AS (
                    SELECT id FROM qbo_job j
                     WHERE company_id = %(c)s AND state = 'pending' AND next_attempt_at <= clock_timestamp() at time zone 'UTC'
                       AND level = (SELECT min(level) FROM qbo_job
                                     WHERE company_id = %(c)s AND (state = 'sending' OR (state = 'pending'
                                       AND next_attempt_at <= clock_timestamp() at time zone 'UTC')))
                       -- one job of a record in flight at a time: a newer change waits for the answer
                       AND NOT EXISTS (SELECT 1 FROM qbo_job s WHERE s.res_model = j.res_model AND s.res_id = j.res_id
                                          AND s.company_id = j.company_id AND s.state = 'sending')
                     ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
                UPDATE qbo_job j SET state = 'sending', attempts = j.attempts + 1,
                                     sent_at = now() at time zone 'UTC', write_date = now() at time zone 'UTC'
                  FROM ready WHERE j.id = ready.id
                RETURNING j.id
            """, {"c": company_id, "limit": limit})
            ids = [r[0] for r in cr.fetchall()]
        cr.commit()  # pylint: disable=invalid-commit  # only ever called on a drain's own cursor: the claim is 'sending' before any HTTP
        self.invalidate_model()
        return self.browse(sorted(ids))

    # ==================================================================================
    # prepare one claimed chunk, then apply what QuickBooks answered
    # ==================================================================================
    def _qbo_prepare(self, company, client):
        """Build the claimed jobs `self` (all of one company and level) into a Chunk for the
        senders (qbo_drain.py). Whatever fails for one record (a pre-flight problem, an
        exception while matching it or building its payload) is that record's outcome; the
        others go on. Returns None when the chunk was given back as a whole (QuickBooks
        unreachable, connection revoked): nothing is left to send."""
        chunk = Chunk(company.id, company.qbo_realm_id, self.ids)
        outcome = chunk.outcome
        plans = {}       # job id -> (record, operation, payload); record None: the twin of a deleted record
        # a lease re-claimed past the limit: the worker sending it stopped every time
        for job in self.filtered(lambda j: j.attempts > MAX_ATTEMPTS):
            outcome[job.id] = {"state": "error", "code": "lease", "message": _lt(
                "Given up after %(n)s attempts: the worker sending it stopped each time before QuickBooks' "
                "answer was recorded.", n=job.attempts - 1)}
        try:
            direct = self.filtered(lambda j: j.operation in DIRECT_OPERATIONS and j.id not in outcome)
            if direct:  # e.g. an invoice PDF uploaded: sent on its own, applied by its model
                outcome.update(direct._qbo_send_direct(company, client))
            groups = self._qbo_groups(company, outcome, plans)
            replays = self._qbo_replays(groups)
            all_matches = self._qbo_lookup(company, client, [
                (jobs, records.browse(sorted(set(jobs.filtered(lambda j: j.id not in replays).mapped("res_id")))), links)
                for jobs, records, links in groups], outcome)
        except (RevokedError, AuthenticationError) as exc:
            # not the records' fault: the chunk waits for the reconnection, no attempt counted
            company._qbo_mark_reconnect(exc.user_message())
            self._qbo_apply(company, self._qbo_outcome_all(outcome, "release", exc))
            return None
        except QBOError as exc:
            # the lookup failed as a whole (QBO down, throttled for long): retry later, keys kept
            self._qbo_apply(company, self._qbo_outcome_all(outcome, "retry", exc))
            return None
        for (jobs, records, links), matches in zip(groups, all_matches):
            # a record whose earlier send may have created its match comes first
            keyed = set(jobs.filtered("batch_ref").mapped("res_id"))
            taken = self._qbo_taken(company, records, links, matches, keyed)
            unsettled = self._qbo_unsettled_creates(company, records, links, matches, taken)
            for job in jobs:
                if job.id in outcome:
                    continue
                if job.id in replays:
                    plans[job.id] = replays[job.id]
                    continue
                record = records.browse(job.res_id).with_prefetch(records._prefetch_ids)   # one read for all
                link = links.get(record.id)
                match = matches.get(record.id)
                try:
                    if record.id in taken:
                        raise record._qbo_match_taken(company, link, match, taken[record.id])
                    if record.id in unsettled:
                        raise QboPayloadError(_lt(
                            "QuickBooks %(entity)s %(name)s (id %(id)s) matches this record, but the request that "
                            "sent %(other)s is not answered yet and may have created it: this record waits until "
                            "it is.", entity=record._qbo_entity, id=match.get("Id"), other=unsettled[record.id].display_name,
                            name=match.get("DisplayName") or match.get("Name") or match.get("DocNumber") or ""),
                            code="defer")
                    payload, operation = record._qbo_prepare_payload(company, link, match)
                except QboPayloadError as exc:
                    state = exc.code if exc.code in ("defer", "clash") else "error"
                    outcome[job.id] = {"state": state, "code": exc.code, "message": join_reasons(exc.problems)}
                    continue
                except psycopg2.Error:
                    raise  # the transaction is lost: the whole chunk goes back (see qbo_drain.py)
                except Exception as exc:  # noqa: BLE001 - one record's bug never stops its neighbours
                    _logger.warning("QuickBooks payload of %s failed", record, exc_info=True)
                    outcome[job.id] = {"state": "error", "code": "odoo", "message": _lt(
                        "Odoo could not build this record for QuickBooks: %(error)s", error=exc)}
                    continue
                if payload is None:  # nothing to send (e.g. already in step)
                    outcome[job.id] = {"state": "done", "entity": match}
                    continue
                plans[job.id] = (record, operation, payload)
        self._qbo_plan_requests(chunk, plans)
        return chunk

    def _qbo_replays(self, groups):
        """{job id: (record, operation, payload)} of the jobs of `groups` whose idempotency key is
        kept (QuickBooks never answered it) with what was sent under it: they send exactly that
        again, not looked up nor rebuilt, so that QuickBooks' answer, a replay of its first one
        when the first request was carried out, is read against what it answers. A change of
        the record since then is pushed after (follow-up); a refusal settles the key, and the
        record is built afresh at its next attempt."""
        replays = {}
        for jobs, records, _links in groups:
            for job in jobs.filtered(lambda j: j.batch_ref and j.sent_request):
                replays[job.id] = (records.browse(job.res_id), job.sent_request["operation"], job.sent_request["payload"])
        return replays

    def _qbo_unsettled_creates(self, company, records, links, matches, taken):
        """{record id: other Odoo record} for the unlinked `records` whose match may be the work
        of another record's create that QuickBooks has not answered yet (its job 'sending' in
        another chunk, or waiting with its kept key): the create whose requestid made a QBO
        record owns it, so the match is not adopted before that answer is known. The one
        known is compared on what identifies a QBO record (name, SKU, email, number)."""
        wanted = {rid: row for rid, row in matches.items()
                  if row and rid not in taken and not (links.get(rid) and links[rid].qbo_id)}
        if not wanted:
            return {}
        self.env.cr.execute("""SELECT res_id, sent_request FROM qbo_job
                                WHERE company_id = %s AND res_model = %s AND state IN ('pending', 'sending')
                                  AND batch_ref IS NOT NULL AND sent_request->>'operation' = 'create'""",
                            [company.id, records._name])
        claims = defaultdict(set)   # identifying value -> res ids whose unanswered create sent it
        for res_id, sent in self.env.cr.fetchall():
            for value in identities(sent.get("payload") or {}):
                claims[value].add(res_id)
        unsettled = {}
        for rid, row in wanted.items():
            others = set().union(*(claims.get(value, ()) for value in identities(row))) - {rid}
            if others:
                unsettled[rid] = records.browse(min(others))
        return unsettled

    def _qbo_outcome_all(self, outcome, state, error):
        """`outcome` completed with `state` for every job that has none yet."""
        outcome = dict(outcome)
        for job in self:
            outcome.setdefault(job.id, {"state": state, "code": error.code, "message": qbo_error_reason(error),
                                        "retry_after": getattr(error, "retry_after", None)})
        return outcome

    def _qbo_plan_requests(self, chunk, plans):
        """Put the planned writes in the chunk's requests. Each job carries an idempotency key:
        the one of an earlier attempt QBO never answered, else a new one, committed with the
        chunk before anything is sent (the worker commits after this), so that any re-send of
        the job (after a lost answer, a timeout, a worker killed mid-flight, a failed chunk)
        replays the same requestid and QBO answers the first result instead of creating twice.
        30 batch writes share a key (one /batch request); the newest writes past what the
        minute's batches carry (`_qbo_singles`), or all of a few, go one per request, their
        key ending with 's' so that a re-send goes the same way. An answered key is dropped."""
        jobs = self.browse(sorted(plans))
        keys = {job.id: job.batch_ref for job in jobs if job.batch_ref}
        fresh = jobs.filtered(lambda j: not j.batch_ref)
        sent = {job.id: job.sent_request for job in jobs if job.batch_ref and job.sent_request}
        writes = fresh.filtered(lambda j: plans[j.id][1] in ("create", "update"))
        singles = fresh - writes
        alone = self._qbo_singles(len(writes), chunk.realm) if writes else 0
        if alone:
            singles |= writes[-alone:]
            writes = writes[:len(writes) - alone]
        base = uuid.uuid4().hex[:24]
        keys.update({job.id: f"{base}s" for job in singles})
        for index in range(0, len(writes), BATCH_ITEMS):
            keys.update({job.id: f"{base}-{index // BATCH_ITEMS}" for job in writes[index:index + BATCH_ITEMS]})
        for job in fresh:
            record, operation, payload = plans[job.id]
            if record is not None:
                sent[job.id] = {"entity": record._qbo_entity, "operation": operation, "payload": payload,
                                "bId": str(job.id), "requestid": f"{keys[job.id]}-{job.id}"}
        bulk_update(self, [{"id": job.id, "batch_ref": keys[job.id], "sent_request": as_json(sent.get(job.id))}
                           for job in fresh])
        batches = defaultdict(list)
        for job in jobs:
            record, operation, payload = plans[job.id]
            key = keys[job.id]
            if record is None:   # the twin of a deleted record: voided or made inactive
                chunk.singles.append((job.id, ENTITY_BY_KIND[job.kind], "retire", {"Id": job.qbo_id}, f"{key}-{job.id}"))
                continue
            chunk.plans[job.id] = (job.res_model, record.id, operation, payload)
            # a job that took over the key of an older one (superseded) replays that one's bId and requestid
            first = sent.get(job.id) or {}
            bid, requestid = first.get("bId") or str(job.id), first.get("requestid") or f"{key}-{job.id}"
            if int(bid) != job.id:
                chunk.bids[int(bid)] = job.id
            if operation in ("create", "update") and not key.endswith("s"):
                batches[key].append({"bId": bid, "operation": operation, record._qbo_entity: payload})
            else:
                chunk.singles.append((job.id, record._qbo_entity, operation, payload, requestid))
        chunk.batches = list(batches.items())

    def _qbo_finish(self, company, chunk, refreshing_client):
        """Apply what QuickBooks answered to the chunk's jobs `self`. Writes refused for an
        expired access token are sent again, with the same requestids, by a client that
        refreshes it (`refreshing_client(company)`). A revoked connection met anywhere puts the
        company in "Reconnect needed" and every job without an answer back in the queue, its
        attempt not counted and its key kept."""
        results = chunk.results = {chunk.bids.get(bid, bid): answer for bid, answer in chunk.results.items()}
        expired = {job_id for job_id, (_data, error, _answered) in results.items()
                   if isinstance(error, AuthenticationError) and not isinstance(error, RevokedError)}
        revoked = next((error for _data, error, _a in results.values() if isinstance(error, RevokedError)), None)
        if expired and not revoked:
            try:
                client = refreshing_client(company)
                batches = [(key, items) for key, items in chunk.batches
                           if any(chunk.bids.get(int(item["bId"]), int(item["bId"])) in expired for item in items)]
                results.update({chunk.bids.get(bid, bid): answer   # the same requestids
                                for bid, answer in send_batches(client, batches).items()})
                results.update(send_singles(client, [s for s in chunk.singles if s[0] in expired]))
            except QBOError as exc:
                revoked = exc
        revoked = revoked or next((error for _data, error, _a in results.values()
                                   if isinstance(error, AuthenticationError)), None)
        if revoked:
            company._qbo_mark_reconnect(revoked.user_message())
        outcome = dict(chunk.outcome)
        for job_id, (data, error, answered) in results.items():
            if error is None:
                outcome[job_id] = {"state": "done", "entity": data, "answered": True}
            elif isinstance(error, AuthenticationError):
                outcome[job_id] = {"state": "release", "code": error.code, "message": qbo_error_reason(error)}
            else:
                if job_id in chunk.plans:
                    res_model, res_id, operation, payload = chunk.plans[job_id]
                    record = self.env[res_model].with_company(company).browse(res_id)
                else:   # the retirement of a deleted record's twin
                    record, operation, payload = None, "retire", None
                outcome[job_id] = dict(self._qbo_classify(error, (record, operation, payload)), answered=answered)
                if answered and outcome[job_id]["state"] == "error" and job_id in self.ids \
                        and self.browse(job_id).follow_up:
                    # the refusal answers what was first sent; the record changed since: sent afresh
                    outcome[job_id]["state"] = "renew"
        return self._qbo_apply(company, outcome)

    def _qbo_groups(self, company, outcome, orphans):
        """[(jobs, records, links)] per model and kind, without the jobs whose outcome is known
        without asking QBO (record gone, pre-flight problem): those go in `outcome`; the
        QuickBooks twins of deleted records to void or deactivate go in `orphans`.
        A model may map to several QBO entities (an account.move is an Invoice or a CreditMemo),
        and each group's lookup queries one entity."""
        by_model = defaultdict(lambda: self.browse())
        for job in self.filtered(lambda j: j.id not in outcome):
            by_model[(job.res_model, job.kind)] |= job
        groups = []
        for (res_model, _kind), jobs in sorted(by_model.items()):
            records = self.env[res_model].with_company(company).browse(jobs.mapped("res_id")).exists()
            existing = set(records.ids)
            links = records._qbo_links(company)
            # the engine runs as superuser: the company's own walls say what it may push
            foreign = set((records - within_company(records, company)).ids)
            for job in jobs:
                if job.res_id in foreign:
                    outcome[job.id] = {"state": "error", "code": "company", "message": _lt(
                        "This record belongs to another company: it is not pushed to the QuickBooks of %(company)s.",
                        company=company.name)}
                    continue
                if job.res_id not in existing:
                    if job.operation in ("void", "delete") and job.qbo_id:
                        orphans[job.id] = (None, job.operation, None)  # the twin of a deleted record
                    else:
                        outcome[job.id] = {"state": "cancelled", "message": _lt("The record no longer exists.")}
                    continue
                try:
                    problems = records.browse(job.res_id).with_prefetch(records._prefetch_ids)._qbo_preflight(company)
                except psycopg2.Error:
                    raise
                except Exception as exc:  # noqa: BLE001
                    _logger.warning("QuickBooks pre-flight of %s,%s failed", res_model, job.res_id, exc_info=True)
                    problems = [_lt("Odoo could not check this record for QuickBooks: %(error)s", error=exc)]
                if problems:
                    outcome[job.id] = {"state": "error", "code": "pre-flight", "message": join_reasons(problems)}
            jobs = jobs.filtered(lambda j: j.id not in outcome and j.id not in orphans)
            groups.append((jobs, records.browse(sorted(set(jobs.mapped("res_id")))), links))
        return groups

    def _qbo_fail_records(self, jobs, records, outcome, code, message):
        for job in jobs.filtered(lambda j: j.res_id in records.ids):
            outcome[job.id] = {"state": "error", "code": code, "message": message}

    def _qbo_lookup(self, company, client, groups, outcome):
        """Current QBO rows, for each (jobs, records, links) group of one entity: matches of
        unlinked records by the configured key and fresh SyncTokens of linked ones whose token
        is unknown. The queries of every group go in one /batch (split by 30 only past 30
        queries). A record whose lookup cannot even be written (a line break in its key) is put
        in error in `outcome`. Returns one {record id: row or None} per group."""
        items, plans = [], []
        for index, (jobs, records, links) in enumerate(groups):
            unlinked = records.filtered(lambda r: not (links.get(r.id) and links[r.id].qbo_id))
            stale = records.filtered(lambda r: links.get(r.id) and links[r.id].qbo_id
                                     and not links[r.id].qbo_sync_token)
            queries, pick = [], None
            if unlinked:
                try:
                    queries, pick = unlinked._qbo_match_queries(company)
                except Exception:  # noqa: BLE001 - find the record(s) at fault, look the others up
                    for record in unlinked:
                        try:
                            record._qbo_match_queries(company)
                        except Exception as exc:  # noqa: BLE001
                            self._qbo_fail_records(jobs, record, outcome, "lookup", _lt(
                                "This record cannot be looked up in QuickBooks: %(error)s", error=exc))
                            unlinked -= record
                    queries, pick = unlinked._qbo_match_queries(company) if unlinked else ([], None)
            entity = records._qbo_entity
            select = "SELECT *, Sku FROM Item" if entity == "Item" else f"SELECT * FROM {entity}"
            queries = list(queries) + in_queries(select, "Id", [links[r.id].qbo_id for r in stale], condition=None)
            items += [{"bId": f"q{index}-{i}", "Query": q} for i, q in enumerate(queries)]
            plans.append((entity, unlinked, stale, pick))
        rows = defaultdict(list)
        for result in client.batch(items) if items else []:
            if not result.ok:
                raise result.error
            index = int(result.bId[1:].split("-")[0])
            rows[index].extend((result.data or {}).get(plans[index][0], []))
        found_by_group = []
        for index, (jobs, _records, links) in enumerate(groups):
            _entity, unlinked, stale, pick = plans[index]
            by_id = {row["Id"]: row for row in rows[index]}
            found = {r.id: by_id.get(links[r.id].qbo_id) for r in stale}
            for record in unlinked:
                try:
                    found[record.id] = pick(record, rows[index])
                except Exception as exc:  # noqa: BLE001
                    self._qbo_fail_records(jobs, record, outcome, "lookup", _lt(
                        "This record cannot be matched in QuickBooks: %(error)s", error=exc))
            found_by_group.append(found)
        return found_by_group

    def _qbo_taken(self, company, records, links, matches, keyed=()):
        """{record id: other Odoo record} for the unlinked records whose match is linked to
        another record of this company and model, or matched by a record of this chunk first
        (records in `keyed`, whose unanswered request may have created their match, first): a
        QBO record linked to one Odoo record is never taken for another. The link of a deleted
        record does not count (it is removed)."""
        wanted = {rid: row["Id"] for rid, row in sorted(matches.items(), key=lambda item: (item[0] not in keyed, item[0]))
                  if row and row.get("Id") and not (links.get(rid) and links[rid].qbo_id)}
        if not wanted:
            return {}
        holders = self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", records._name),
            ("qbo_id", "in", list(set(wanted.values())))])
        alive = set(records.browse(holders.mapped("res_id")).exists().ids)
        holder_of = {link.qbo_id: link.res_id for link in holders if link.res_id in alive}
        holders.filtered(lambda link: link.res_id not in alive).unlink()
        taken, seen = {}, {}
        for rid, qbo_id in wanted.items():
            other = holder_of.get(qbo_id) or seen.get(qbo_id)
            if other and other != rid:
                taken[rid] = records.browse(other)
            else:
                seen[qbo_id] = rid
        return taken

    def _qbo_classify(self, error, plan):
        record, operation, payload = plan
        if isinstance(error, DuplicateNameError) and operation == "create" and record._qbo_name_clash_allowed(payload):
            return {"state": "clash", "code": error.code, "message": qbo_error_reason(error)}
        if isinstance(error, StaleObjectError):
            return {"state": "stale", "code": error.code, "message": qbo_error_reason(error)}
        if error.transient:
            return {"state": "retry", "code": error.code, "message": qbo_error_reason(error),
                    "retry_after": getattr(error, "retry_after", None)}
        return {"state": "error", "code": error.code, "message": qbo_error_reason(error)}

    def _qbo_release(self, error, count_attempt):
        """Put claimed jobs back in the queue after a failure of the whole chunk; their
        idempotency keys are kept. Without `count_attempt` the claim's attempt is given back."""
        message = qbo_error_reason(error) if isinstance(error, QBOError) else _lt(
            "Odoo failed while sending this chunk: %(error)s", error=error)
        state = "retry" if count_attempt else "release"
        company = self.company_id[:1]
        return self._qbo_apply(company, {job.id: {"state": state, "code": getattr(error, "code", None) or "odoo",
                                                  "message": message,
                                                  "retry_after": getattr(error, "retry_after", None)}
                                         for job in self})

    def _qbo_release_plain(self, error):
        """The last resort when even the bookkeeping fails: one statement puts the chunk back
        in the queue with the reason (in error past the attempt limit), keys kept."""
        reason = _lt("Odoo failed while sending this chunk: %(error)s", error=error)
        self.env.cr.execute("""
            UPDATE qbo_job SET state = CASE WHEN attempts >= %(max)s THEN 'error' ELSE 'pending' END,
                   done_at = CASE WHEN attempts >= %(max)s THEN now() at time zone 'UTC' END,
                   next_attempt_at = (now() at time zone 'UTC') + make_interval(secs => LEAST(3600, 30 * 2 ^ attempts)),
                   error_code = 'odoo', error_message = %(msg)s, error_reason = %(reason)s,
                   write_date = now() at time zone 'UTC'
             WHERE id IN %(ids)s AND state = 'sending'""",
            {"max": MAX_ATTEMPTS, "ids": tuple(self.ids), "msg": reason, "reason": Json(reason_json(reason))})
        self.invalidate_model()

    # ==================================================================================
    # apply results
    # ==================================================================================
    def _qbo_job_vals(self, job, result, now):
        """What becomes of a job after its outcome `result` (see _qbo_send for the states)."""
        state = result["state"]
        vals = {"id": job.id, "state": "error", "attempts": job.attempts, "next_attempt_at": job.next_attempt_at,
                "qbo_id": job.qbo_id or None, "error_code": result.get("code"), "error_message": result.get("message"),
                "done_at": now, "batch_ref": job.batch_ref or None, "follow_up": job.follow_up,
                "sent_request": job.sent_request or None}
        if state == "done":
            problem = result.get("problem")
            vals.update(state="error" if problem else "done", qbo_id=(result.get("entity") or {}).get("Id") or vals["qbo_id"],
                        error_code="mismatch" if problem else None, error_message=problem)
        elif state in ("retry", "stale") and job.attempts >= MAX_ATTEMPTS:
            vals["error_message"] = _lt("Given up after %(n)s attempts: %(message)s", n=job.attempts,
                                        message=result.get("message") or "-")
        elif state in ("retry", "stale", "defer", "clash", "release", "renew"):
            counted = state in ("retry", "stale")
            attempts = job.attempts if counted else max(job.attempts - 1, 0)
            # the client already retried quickly: back off, and never sooner than QBO asked
            delay = max(result.get("retry_after") or 0, min(30 * 2 ** max(attempts - 1, 0), 3600)) if counted \
                else {"defer": 30}.get(state, 0)
            vals.update(state="pending", attempts=attempts, next_attempt_at=now + timedelta(seconds=delay), done_at=None)
            if result.get("answered"):
                # QBO answered this key: a re-send must be a new request
                vals.update(batch_ref=None, follow_up=False)
        elif state == "cancelled":
            vals.update(state="cancelled", error_code=None)
        # what was sent is kept only as long as its key waits for an answer
        vals["sent_request"] = as_json(vals["sent_request"] if vals["state"] == "pending" and vals["batch_ref"] else None)
        # the reason is stored as its sentence and parameters too: read in each reader's language
        vals["error_reason"] = as_json(reason_json(vals["error_message"]))
        return vals

    def _qbo_link_vals(self, link, job_vals, result, now, queued):
        """The one place a record's sync state is decided, from its job's outcome: Error when
        the job failed; Queued while a job of the record waits; otherwise Synced when the
        record has a QuickBooks twin, Not linked when it has none (a quotation cancelled
        before it was ever sent)."""
        entity = (result.get("entity") or {}) if result["state"] == "done" else {}
        if entity.get("status") == "Deleted":
            # the QBO twin was deleted: the record is linked to nothing any more
            return {"id": link.id, "qbo_id": None, "qbo_sync_token": None, "qbo_name": None, "qbo_doc_number": None,
                    "name_clash": bool(link.name_clash), "last_sync": now, "error_code": None, "error_message": None,
                    "error_reason": None,
                    "state": link_state(None, waiting=job_vals["state"] == "pending" or queued,
                                        error=job_vals["state"] == "error")}
        qbo_id = entity.get("Id") or link.qbo_id or None
        vals = {
            "id": link.id, "qbo_id": qbo_id,
            "qbo_sync_token": None if result["state"] == "stale" else (entity.get("SyncToken") or link.qbo_sync_token or None),
            "qbo_name": entity.get("DisplayName") or entity.get("Name") or link.qbo_name or None,
            "qbo_doc_number": entity.get("DocNumber") or link.qbo_doc_number or None,
            "name_clash": bool(link.name_clash or result["state"] == "clash"),
            "last_sync": now if entity else (link.last_sync or None),
            "error_code": None, "error_message": None, "error_reason": None,
        }
        failed = job_vals["state"] == "error"
        vals["state"] = link_state(qbo_id, waiting=job_vals["state"] == "pending" or queued, error=failed)
        if failed:
            vals.update(error_code=job_vals["error_code"], error_message=job_vals["error_message"],
                        error_reason=job_vals["error_reason"])
        return vals

    def _qbo_check_answers(self, company, outcome, links):
        """A QBO record answered for one job but already linked to another Odoo record (or
        answered for two jobs of this chunk) is never linked twice: that job is in error."""
        answers = {}
        for job in self:
            result = outcome.get(job.id) or {}
            qbo_id = result.get("state") == "done" and job.operation == "push" and (result.get("entity") or {}).get("Id")
            link = links.get((job.res_model, job.res_id))
            if qbo_id and not (link and link.qbo_id == qbo_id):
                answers[job.id] = qbo_id
        if not answers:
            return
        holders = self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "in", list(set(self.mapped("res_model")))),
            ("qbo_id", "in", list(set(answers.values())))])
        holder_of = {(link.res_model, link.qbo_id): link for link in holders}
        seen = {}
        for job in self.browse(sorted(answers)):
            key = (job.res_model, answers[job.id])
            holder = holder_of.get(key)
            other_id = holder.res_id if holder and holder.res_id != job.res_id else seen.get(key)
            if holder and holder.res_id != job.res_id and not self.env[job.res_model].browse(holder.res_id).exists():
                holder_of.pop(key).unlink()  # the link of a deleted record
                other_id = seen.get(key)
            if other_id and other_id != job.res_id:
                other = self.env[job.res_model].browse(other_id)
                outcome[job.id] = {"state": "error", "code": "taken", "message": _lt(
                    "QuickBooks answered with its record %(id)s, which is already linked to %(other)s in Odoo: "
                    "it is not linked to this record too.", id=answers[job.id], other=other.display_name)}
            else:
                seen[key] = job.res_id

    def _qbo_apply(self, company, outcome):
        """Write the outcome of every job of the chunk: jobs, links, chatter notes of errors,
        notifications; in a few statements whatever the size of the chunk."""
        now = fields.Datetime.now()
        self.flush_recordset()
        Link = self.env["qbo.link"].sudo()
        Link.flush_model()
        links = {(link.res_model, link.res_id): link for link in Link.search([
            ("company_id", "=", company.id), ("res_model", "in", list(set(self.mapped("res_model")))),
            ("res_id", "in", list(set(self.mapped("res_id"))))])}
        checked = self.filtered(lambda j: j.operation == "push" and (outcome.get(j.id) or {}).get("state") == "done"
                                and outcome[j.id].get("entity"))
        alive = {res_model: self.env[res_model].with_company(company).browse(    # one query and one read a model
                     checked.filtered(lambda j: j.res_model == res_model).mapped("res_id")).exists()
                 for res_model in set(checked.mapped("res_model"))}
        for job in checked:
            records = alive[job.res_model]
            record = records.browse([job.res_id] if job.res_id in records._ids else []).with_prefetch(records._prefetch_ids)
            # e.g. QBO's total against Odoo's: the record is linked, and in error if they differ
            outcome[job.id]["problem"] = record._qbo_check_result(company, outcome[job.id]["entity"]) if record else None
        self._qbo_check_answers(company, outcome, links)
        # other jobs waiting for the same records (a change queued while these were sending)
        self.env.cr.execute("""SELECT res_model, res_id, operation, id FROM qbo_job
                                WHERE company_id = %s AND state = 'pending' AND id NOT IN %s
                                  AND res_id IN %s""",
                            [company.id, tuple(self.ids), tuple(set(self.mapped("res_id")))])
        waiting = {(m, r, o): jid for m, r, o, jid in self.env.cr.fetchall()}
        job_rows, link_rows, handed, errors, successes, follow_ups = [], [], [], [], defaultdict(list), []
        pushed = defaultdict(dict)  # res_model -> {res_id: QBO entity}
        for job in self:
            result = outcome.get(job.id) or {"state": "retry", "message": _lt("No answer from QuickBooks.")}
            vals = self._qbo_job_vals(job, result, now)
            newer = waiting.get((job.res_model, job.res_id, job.operation))
            if vals["state"] == "pending" and newer:
                # a newer change of the record waits already: it carries this job's key on
                superseded = _lt("Superseded by a newer change.")
                vals.update(state="cancelled", done_at=now, error_message=superseded,
                            error_reason=as_json(reason_json(superseded)))
                if vals["batch_ref"]:
                    handed.append({"id": newer, "batch_ref": vals["batch_ref"], "follow_up": True,
                                   "sent_request": as_json(job.sent_request)})
            job_rows.append(vals)
            direct = job.operation in DIRECT_OPERATIONS   # it leaves the record's link alone
            link = None if direct else links.get((job.res_model, job.res_id))
            queued = any((job.res_model, job.res_id, op) in waiting for op in ("push", "void", "delete"))
            if link:
                link_rows.append(self._qbo_link_vals(link, vals, result, now, queued))
            if vals["state"] == "error":
                # a record already in error with this very message was told to its user already
                told = link and link.state == "error" and link.error_message == vals["error_message"]
                errors.append((job, vals["error_code"], vals["error_message"]) + ((None,) if told else ()))
            elif vals["state"] == "done" and not direct:
                successes[job.create_uid.id].append(job)
                pushed[job.res_model][job.res_id] = result.get("entity") or {}
                if job.follow_up:
                    follow_ups.append(job)
        bulk_update(self, job_rows)
        bulk_update(self, handed)
        bulk_update(Link, link_rows)
        self._qbo_settle_errors(company, [job for jobs in successes.values() for job in jobs])
        for job in follow_ups:
            # the record changed after a send whose answer was replayed: its current state follows
            record = self.env[job.res_model].browse(job.res_id).exists()
            record.with_company(company)._qbo_enqueue(company, job.operation, trigger=False)
        for res_model, entities in pushed.items():
            self.env[res_model].browse(list(entities)).exists().with_company(company)._qbo_after_push(company, entities)
        for job, code, message, *_told in errors:
            record = self.env[job.res_model].browse(job.res_id).exists()
            record._qbo_message_log(_lt("QuickBooks push failed (%(code)s): %(message)s", code=code or "-",
                                        message=message))
        self._qbo_notify([e for e in errors if len(e) == 3], successes)
        self.env["qbo.live"]._qbo_broadcast(company, self.mapped("res_model"))
        for res_model in set(self.mapped("res_model")):
            if res_model in self.env:
                self.env[res_model].invalidate_model(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url"])
        return sum(1 for row in job_rows if row["state"] in ("done", "error"))

    def _qbo_notify(self, errors, successes):
        """Tell the users who queued the records what became of them."""
        Users = self.env["res.users"]
        for uid, jobs in successes.items():
            user = Users.browse(uid)
            if not user.exists() or user._is_superuser() or user._is_public():
                continue
            names = ", ".join(j.record_name for j in jobs[:5]) + ("…" if len(jobs) > 5 else "")
            self.env["qbo.live"]._qbo_toast(user, {
                "type": "success", "title": self.env._("Linked to QuickBooks"),
                "message": self.env._("%(count)s record(s) in QuickBooks: %(names)s", count=len(jobs), names=names)})
        self.env["qbo.live"]._qbo_notify_failed([(job.create_uid, job.res_model, job.res_id, job.record_name, message)
                                                 for job, _code, message in errors])

    # ==================================================================================
    # UI
    # ==================================================================================
    def action_retry(self):
        check_company_action(self.env, self.company_id, self, group=USER_GROUP,
                             message=self.env._("Only QuickBooks users can push records to QuickBooks."))
        for job in self.filtered(lambda j: j.state in ("error", "cancelled")):
            record = self.env[job.res_model].browse(job.res_id).exists()
            if record:
                record.with_company(job.company_id)._qbo_enqueue(job.company_id, job.operation, trigger=False)
        self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")._trigger()
        return True

    def _qbo_settle_errors(self, company, done_jobs):
        """A record pushed with success leaves no error behind in the sync history: its earlier
        failed pushes are closed (Cancelled, their reason kept after a note)."""
        def stored_reason(stored):
            if isinstance(stored, dict) and "s" in stored:
                return Reason(stored["s"], {k: stored_reason(v) for k, v in (stored.get("p") or {}).items()})
            if isinstance(stored, list):
                return Reason(lines=[stored_reason(v) for v in stored])
            return stored

        latest = {}
        for job in done_jobs:
            if job.operation == "push":
                key = (job.res_model, job.res_id)
                latest[key] = max(latest.get(key, 0), job.id)
        by_model = defaultdict(list)
        for res_model, res_id in latest:
            by_model[res_model].append(res_id)
        for res_model, ids in by_model.items():
            failed = self.sudo().search([("company_id", "=", company.id), ("res_model", "=", res_model),
                                         ("res_id", "in", ids), ("operation", "=", "push"), ("state", "=", "error")])
            for job in failed.filtered(lambda j: j.id < latest[(j.res_model, j.res_id)]):
                previous = stored_reason(job.error_reason) if job.error_reason else (job.error_message or "-")
                job.write(reason_vals(_lt("Settled by a later push: %(reason)s", reason=previous), state="cancelled"))

    def action_open_record(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        return {"type": "ir.actions.act_window", "res_model": self.res_model, "res_id": self.res_id,
                "view_mode": "form", "target": "current"}
