from odoo import api, fields, models
from odoo.tools import SQL

from ..qbo import in_list
from .qbo_reason import _lt, log_note, reason_vals, shown
from .qbo_rights import USER_GROUP, check_company_action
from .qbo_walls import within_company

QUERY_KEYS = 30  # values in one IN (...) of a lookup query

SYNC_STATES = [
    ("none", "Not linked"),
    ("queued", "Queued"),
    ("synced", "Synced"),
    ("error", "Error"),
]


def link_state(qbo_id, waiting=False, error=False):
    """The sync state a record shows, from what is known of it, decided here only: Error when
    its last push failed, Queued while a job waits for it, Synced when it has a QuickBooks
    twin, else Not linked (e.g. a quotation cancelled before it was ever sent)."""
    if error:
        return "error"
    if waiting:
        return "queued"
    return "synced" if qbo_id else "none"


def in_queries(select, field, values, condition="Active IN (true, false)"):
    """Lookup queries for `values` of `field`, QUERY_KEYS values per query (sent as one /batch)."""
    values = sorted({v for v in values if v})
    prefix = f"{select} WHERE {condition} AND " if condition else f"{select} WHERE "
    return [f"{prefix}{field} IN {in_list(values[i:i + QUERY_KEYS])}" for i in range(0, len(values), QUERY_KEYS)]


class QboPayloadError(Exception):
    """Everything that would make QuickBooks refuse a record, found before anything is sent."""

    def __init__(self, problems, code="pre-flight"):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.code = code
        super().__init__("\n".join(self.problems))


class QboSyncMixin(models.AbstractModel):
    """What every record pushed to QuickBooks shares: its link for the current company,
    the sync-state badge, the error, a link to QuickBooks, and the act of queueing it.

    A model using it sets `_qbo_kind` (the job kind), `_qbo_entity` (QBO's entity name),
    `_qbo_level` (dependency order: lower levels are pushed first) and implements
    `_qbo_match_queries`, `_qbo_prepare_payload` and `_qbo_app_path`."""

    _name = "qbo.sync.mixin"
    _inherit = ["qbo.smart.button"]
    _description = "QuickBooks Online synchronised record"

    _qbo_kind = None
    _qbo_entity = None
    _qbo_level = 0

    qbo_state = fields.Selection(SYNC_STATES, string="QuickBooks", compute="_compute_qbo_link",
                                 search="_search_qbo_state")
    qbo_id = fields.Char("QuickBooks Id", compute="_compute_qbo_link", search="_search_qbo_id")
    qbo_error = fields.Text("QuickBooks error", compute="_compute_qbo_link")
    qbo_last_sync = fields.Datetime("Last QuickBooks sync", compute="_compute_qbo_link")
    qbo_url = fields.Char("Open in QuickBooks", compute="_compute_qbo_link")

    # ------------------------------------------------------------------------------
    # links of the current company
    # ------------------------------------------------------------------------------
    def _qbo_links(self, company=None):
        company = company or self.env.company
        links = self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", self._name), ("res_id", "in", self.ids)])
        return {link.res_id: link for link in links}

    @api.depends_context("company", "lang")
    def _compute_qbo_link(self):
        company = self.env.company
        links = self._qbo_links(company) if self.ids else {}
        for record in self:
            link = links.get(record.id)
            record.qbo_state = link.state if link else "none"
            record.qbo_id = link.qbo_id if link else False
            record.qbo_error = (shown(link.error_reason, link.error_message, self.env.lang) or False
                                if link and link.state == "error" else False)
            record.qbo_last_sync = link.last_sync if link else False
            record.qbo_url = (company._qbo_app_url(record._qbo_app_path(link.qbo_id))
                              if link and link.qbo_id and company.qbo_enabled else False)

    def _qbo_linked_ids_query(self, condition):
        self.env["qbo.link"].flush_model()
        return SQL("(SELECT res_id FROM qbo_link WHERE company_id = %s AND res_model = %s AND %s)",
                   self.env.company.id, self._name, condition)

    def _search_qbo_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(self.env._("Unsupported search on the QuickBooks state."))
        values = [value] if isinstance(value, str) else list(value or [])
        positive = operator in ("=", "in")
        linked = [v for v in values if v != "none"]
        subquery = self._qbo_linked_ids_query(SQL("state IN %s", tuple(linked) if linked else ("",)))
        domain = [("id", "in", subquery)]
        if "none" in values:
            not_none = self._qbo_linked_ids_query(SQL("state != 'none'"))
            domain = ["|", ("id", "not in", not_none)] + domain
        return domain if positive else ["!"] + domain

    def _search_qbo_id(self, operator, value):
        if operator == "=" and not value:
            return [("id", "not in", self._qbo_linked_ids_query(SQL("qbo_id IS NOT NULL")))]
        if operator == "!=" and not value:
            return [("id", "in", self._qbo_linked_ids_query(SQL("qbo_id IS NOT NULL")))]
        if operator in ("=", "in"):
            ids = (value,) if isinstance(value, str) else tuple(value)
            return [("id", "in", self._qbo_linked_ids_query(SQL("qbo_id IN %s", ids)))]
        raise NotImplementedError(self.env._("Unsupported search on the QuickBooks id."))

    def unlink(self):
        """A deleted record takes its links and waiting jobs with it: it never blocks its
        QuickBooks twin from being linked again (QuickBooks itself is left as it is, except
        where a model retires the twin: see `_qbo_retire_twins`)."""
        ids = self.ids
        res = super().unlink()
        if ids:
            self.env["qbo.job"].sudo().search([("res_model", "=", self._name), ("res_id", "in", ids),
                                               ("state", "=", "pending")]).write(
                reason_vals(_lt("The record was deleted in Odoo."), state="cancelled"))
            self.env["qbo.link"].sudo().search([("res_model", "=", self._name), ("res_id", "in", ids)]).unlink()
        return res

    def _qbo_cancel_pending_jobs(self):
        """Drop what waits in the queue for these records (a draft or a cancelled document is
        not pushed): each shows Synced when it has a QuickBooks twin, else Not linked."""
        if not self.ids:
            return
        jobs = self.env["qbo.job"].sudo().search([("res_model", "=", self._name), ("res_id", "in", self.ids),
                                                  ("state", "=", "pending"), ("operation", "=", "push")])
        jobs.write(reason_vals(_lt("Cancelled: the record changed state in Odoo."), state="cancelled"))
        links = self.env["qbo.link"].sudo().search([("res_model", "=", self._name), ("res_id", "in", self.ids),
                                                    ("state", "=", "queued")])
        for state, group in links.grouped(lambda link: link_state(link.qbo_id)).items():
            group.write({"state": state})
        self.invalidate_recordset(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url"])

    def _qbo_retirement_vals(self, operation, companies=None):
        """Values of the jobs that retire the QuickBooks twins of these records, deleted (or
        merged away) in Odoo: `operation` 'void' for documents, 'delete' (made inactive) for
        customers and items. The jobs carry the QuickBooks id: they outlive the record and its
        link. Read while the records exist, queued after with `_qbo_queue_retirements`."""
        domain = [("res_model", "=", self._name), ("res_id", "in", self.ids), ("qbo_id", "!=", False)]
        if companies is not None:
            domain.append(("company_id", "in", companies.ids))
        links = self.env["qbo.link"].sudo().search(domain)
        return [{"company_id": link.company_id.id, "res_model": self._name, "res_id": link.res_id,
                 "kind": self.browse(link.res_id)._qbo_kind, "operation": operation, "qbo_id": link.qbo_id,
                 "level": self.browse(link.res_id)._qbo_level_of()}
                for link in links if link.company_id.qbo_enabled]

    def _qbo_queue_retirements(self, vals_list):
        if vals_list:
            self.env["qbo.job"].sudo().create(vals_list)
            self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")._trigger()

    # ------------------------------------------------------------------------------
    # queueing
    # ------------------------------------------------------------------------------
    def _qbo_enqueue(self, company=None, operation="push", trigger=True):
        """Queue `operation` for these records in `company`, in the current transaction.
        Repeated edits coalesce into the one pending job; the payload is built when the job
        is sent, from the record as it is then."""
        company = company or self.env.company
        if not self.ids:
            return
        self.env["qbo.job"]._qbo_create_jobs(company, self._name, self.ids, self._qbo_kind, operation,
                                             levels={record.id: record._qbo_level_of() for record in self})
        if trigger:
            self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")._trigger()

    def _qbo_level_of(self):
        """Dependency level of this record's job: lower levels are pushed first."""
        return self._qbo_level

    def _qbo_check_push_rights(self, companies=None):
        """Pushing, linking and unlinking are for QuickBooks users, on records they may read, for
        companies they work in (`companies`: those the action sends to; the current one by default)."""
        check_company_action(self.env, companies or self.env.company, self,
                             group=USER_GROUP, message=self.env._("Only QuickBooks users can push records to QuickBooks."))

    def action_qbo_push(self):
        """Queue these records for QuickBooks and return at once (the cron pushes them)."""
        self._qbo_check_push_rights()
        company = self.env.company
        problems = company._qbo_mapping_problems(scope=(self._qbo_kind,))
        records = within_company(self._qbo_filter_pushable(company), company)
        records._qbo_enqueue(company)
        message = self.env._("%(count)s record(s) queued for QuickBooks.", count=len(records))
        if len(records) < len(self):
            message += " " + self.env._("%(count)s skipped (not in the Financial Hub, or of another company).",
                                        count=len(self) - len(records))
        if problems:
            message += "\n" + "\n".join(problems)
        return company._qbo_notify(self.env._("QuickBooks"), message, "warning" if problems else "info")

    def action_qbo_retry(self):
        return self.filtered(lambda r: r.qbo_state == "error").action_qbo_push()

    def _qbo_filter_pushable(self, company):
        return self

    def _qbo_app_path(self, qbo_id):
        raise NotImplementedError

    # ------------------------------------------------------------------------------
    # hooks for the engine (qbo.job), implemented by each model
    # ------------------------------------------------------------------------------
    def _qbo_match_queries(self, company):
        """QBO queries that find the QBO twins of these not-yet-linked records.
        Returns (list of query strings, function(record, rows) -> matching row or None)."""
        return [], lambda record, rows: None

    def _qbo_match_taken(self, company, link, match, other):
        """The QBO record `match` found for this record is linked to `other` (another Odoo
        record of this model and company): it is never matched, updated or renamed on this
        record's behalf. Returns the QboPayloadError that explains it."""
        name = match.get("DisplayName") or match.get("Name") or match.get("DocNumber") or ""
        return QboPayloadError(_lt(
            "QuickBooks %(entity)s %(name)s (id %(id)s) matches this record but is already linked to %(other)s "
            "in Odoo: it is not taken for this record.",
            entity=self._qbo_entity, name=name, id=match.get("Id"), other=other.display_name), code="taken")

    def _qbo_preflight(self, company):
        """Every problem that would make QBO refuse this record, known without asking QBO."""
        return []

    def _qbo_prepare_payload(self, company, link, match):
        """(QBO entity dict, operation) to send for this record; raises QboPayloadError. Called
        only for records whose `_qbo_preflight` found nothing."""
        raise NotImplementedError

    def _qbo_check_result(self, company, entity):
        """After a successful push: None, or why the QBO result is not acceptable (the record
        stays linked to it, in error with that message)."""
        return None

    def _qbo_after_push(self, company, entities):
        """After these records' pushes were applied (their links are up to date): `entities`
        maps each record id to what QBO answered."""
        return None

    def _qbo_message_log(self, body):
        """A note in the chatter of these records: `body` a reason (models/qbo_reason.py), read in
        each reader's language, or a text."""
        if hasattr(self, "_message_log"):
            log_note(self, body)
