"""How a worker drains the queue: fair turns between companies, realms side by side, and
writes sent one by one beside the batches.

Odoo's cron workers (any number, on any number of Odoo servers sharing the database) are the
engine; PostgreSQL holds everything they share:

* **Realm claims.** A worker works a QuickBooks company (realm) only while it holds that
  realm's advisory lock (a session lock on a connection of its own, so a dead worker's claim
  dies with its connection); another worker skips a held realm and takes the next one. Two
  cron workers therefore drain two realms at once, and one worker keeps several realms in
  flight (their requests wait on their own budgets, in sender threads, not on each other).
* **Fair turns.** A turn is one chunk. The next turn goes to the company whose last turn is
  the oldest (``qbo_turn``, written when a chunk is claimed), among the companies with ready
  jobs, so a company's small push waits at most one chunk of another company's backlog, and a
  worker looks for new turns every second while its chunks are in flight.
* **Budgets.** Every request reserves its slot in the realm's sliding-window budget and holds
  one of its 10 in-flight slots (``qbo_rate.py``), whichever worker or thread sends it.

A chunk goes through: claim, lookup and payloads (the worker's thread, Odoo's ORM), sends (a
small pool of sender threads that only speak HTTP: one /batch sequence and a few sequences of
single creates/updates, each with the requestid stored through the job's batch reference),
then results applied and committed (the worker's thread again). While a chunk's requests are
in flight the worker claims and prepares the next one, so the time spent in Odoo between two
chunks does not leave the realm's budget idle.
"""
import logging
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import psycopg2
import requests
from psycopg2.extras import Json

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import UserError

from ..qbo import (AuthenticationError, QBOClient, QBOError, StaleObjectError, ThrottledError, TransientError)
from .qbo_naming import DOC_NUMBER_MAX
from .qbo_rate import PgRateLimiter, budget_cursor
from .qbo_reason import _lt, reason_json

_logger = logging.getLogger(__name__)

REALM_LOCK_SPACE = 0x51B1   # first key of the advisory locks that claim a realm for one worker
SINGLE_SEQUENCES = 2        # a chunk's single writes go in this many parallel sequences
FLIGHTS = 4                 # chunks one worker has in flight at once
SENDERS = FLIGHTS * (1 + SINGLE_SEQUENCES)   # sender threads: a chunk's sends never queue behind another's
FLIGHTS_PER_COMPANY = 2     # of which one company's (the next is prepared while one is sent)
POLL = 1.0                  # seconds between two looks for a new turn while chunks are in flight
MAX_RETRY_AFTER = 120       # a longer Retry-After gives the chunk back to the queue
RETIRED_SUFFIX = "-del"     # given to the number of a document voided because Odoo deleted it


class Chunk:
    """What travels from the worker's thread to the senders and back: plain data only."""

    def __init__(self, company_id, realm, job_ids):
        self.company_id = company_id
        self.realm = realm
        self.job_ids = job_ids
        self.outcome = {}        # job id -> result dict, known before sending
        self.plans = {}          # job id -> (res_model, res_id, operation, payload)
        self.links = {}          # res_model -> {res_id: qbo.link id}
        self.batches = []        # (idempotency key, /batch items (bId = job id)): one request each
        self.singles = []        # (job id, entity, operation, payload, requestid)
        self.bids = {}           # bId of a superseded job's first request -> the job that replays it
        self.base_url = None
        self.access_token = None
        self.allowed_hosts = ()  # besides Intuit's and loopback hosts (qbo/hosts.py)
        self.results = {}        # job id -> (entity dict, None, True) or (None, QBOError, answered)
        self.futures = []
        self.usage = []          # (reads, writes) of each sender, as Intuit meters them

    def done(self):
        return all(future.done() for future in self.futures)


def send_batches(client, batches):
    """The chunk's /batch requests, one per idempotency key: {job id: (entity, error, answered)}.
    `answered` is False when the request got no answer of QBO's (the key is kept for the
    re-send). After an authentication failure or a 429 the rest is not sent (it would meet the
    same) and carries that error."""
    results, stop = {}, None
    for key, items in batches:
        if stop is not None:
            results.update({int(item["bId"]): (None, stop, False) for item in items})
            continue
        for r in client.batch(items, requestid=key):
            results[int(r.bId)] = (r.data, None, True) if r.ok else (None, r.error, r.answered)
            if not r.ok and not r.answered and isinstance(r.error, (AuthenticationError, ThrottledError)):
                stop = r.error
    return results


def retire(client, entity, qbo_id, requestid):
    """Retire the QuickBooks twin of a record deleted in Odoo (or merged into another): a
    document is voided (an estimate deleted), its number first given a suffix so that Odoo may
    give the number to its next document; a customer or item is made inactive. Its SyncToken is
    read first: the link that knew it went with the record."""
    current = client.read(entity, qbo_id)
    if entity in ("Customer", "Item"):
        if current.get("Active") is False:
            return current
        return client.update(entity, {"Id": qbo_id, "SyncToken": current["SyncToken"], "Active": False},
                             requestid=requestid)
    number = current.get("DocNumber") or ""
    if number and not number.endswith(RETIRED_SUFFIX):
        current = client.update(entity, {"Id": qbo_id, "SyncToken": current["SyncToken"],
                                         "DocNumber": number[:DOC_NUMBER_MAX - len(RETIRED_SUFFIX)] + RETIRED_SUFFIX},
                                requestid=f"{requestid}-n")
    operation = "delete" if entity == "Estimate" else "void"
    return getattr(client, operation)(entity, qbo_id, current["SyncToken"], requestid=requestid)


def send_singles(client, singles):
    """One write per request: {job id: (entity, error, answered)}. After an authentication
    failure the rest is not sent (it would fail the same way) and carries that error."""
    results, stop = {}, None
    for job_id, entity, operation, payload, requestid in singles:
        if stop is not None:
            results[job_id] = (None, stop, False)
            continue
        try:
            if operation == "create":
                data = client.create(entity, payload, requestid=requestid)
            elif operation == "update":
                data = client.update(entity, payload, sparse=payload.get("sparse", False), requestid=requestid)
            elif operation == "retire":
                data = retire(client, entity, payload["Id"], requestid)
            else:  # void, delete
                data = getattr(client, operation)(entity, payload["Id"], payload["SyncToken"], requestid=requestid)
            results[job_id] = (data, None, True)
        except AuthenticationError as exc:
            stop = exc
            results[job_id] = (None, exc, False)
        except QBOError as exc:
            # a validation fault was answered (a re-send must be a new request); a stale
            # SyncToken too; a timeout, a 5xx or a 429 may not have been
            results[job_id] = (None, exc, not exc.transient or isinstance(exc, StaleObjectError))
    return results


# what another transaction's commit (or lock) did to ours: nobody's fault, nothing to count
CONFLICTS = (psycopg2.extensions.TransactionRollbackError, psycopg2.errors.LockNotAvailable)


def give_back(cr, jobs, error):
    """Odoo failed while preparing a chunk or applying its results (a database error, a bug):
    the chunk goes back to the queue with the reason, its idempotency keys kept; never left
    'sending' without a word. A bug counts an attempt (it ends in error after ten); a conflict
    with another transaction (a serialization failure, a deadlock) does not. If even that
    fails, one plain statement does it."""
    _logger.exception("QuickBooks: a chunk of %s job(s) failed in Odoo", len(jobs))
    cr.rollback()
    jobs.env.invalidate_all()
    try:
        jobs._qbo_release(error, count_attempt=not isinstance(error, CONFLICTS))
    except Exception:  # noqa: BLE001 - the bookkeeping itself fails: plain SQL
        _logger.exception("QuickBooks: recording the failure of the chunk failed")
        cr.rollback()
        jobs._qbo_release_plain(error)


def commit_or_give_back(cr, registry, job_ids, answered):
    """Commit the lane's cursor `cr`; when the commit fails (a serialization failure against
    another worker's or the token refresh's commit, a deadlock, the connection lost), what it
    held is rolled back and every claimed job of `job_ids` goes back to the queue, pending, no
    attempt counted, its idempotency key kept (a re-send replays it: QuickBooks answers what it
    did the first time), with the reason. The worker goes on. True when committed.
    `answered`: the commit held QuickBooks' answers (else the chunk as prepared to be sent)."""
    try:
        cr.commit()  # pylint: disable=invalid-commit  # the lane's own cursor (see the callers)
        return True
    except psycopg2.Error as exc:
        _logger.warning("QuickBooks: a chunk of %s job(s) not committed (%s): given back to the queue",
                        len(job_ids), exc)
        try:
            cr.rollback()
        except psycopg2.Error:
            _logger.debug("rollback after a failed commit failed", exc_info=True)
        error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        release_claimed(registry, job_ids, _lt(
            "Odoo could not save QuickBooks' answer (%(error)s): it is asked again under the same key, no attempt "
            "counted.", error=error) if answered else _lt(
            "Odoo could not save this chunk before sending it (%(error)s): it waits in the queue, no attempt "
            "counted.", error=error))
        return False


def release_claimed(registry, job_ids, reason, delay=0):
    """Claimed jobs back to the queue, pending, their attempt given back, keys kept, with
    `reason`, ready again in `delay` seconds: one statement in a transaction of its own (the
    lane's may be gone). If even that fails, their lease brings them back (an attempt counted)."""
    if not job_ids:
        return
    try:
        with registry.cursor() as cr:
            cr.execute("""UPDATE qbo_job SET state = 'pending', attempts = GREATEST(attempts - 1, 0),
                                 next_attempt_at = (now() at time zone 'UTC') + make_interval(secs => %s),
                                 error_code = 'conflict', error_message = %s, error_reason = %s,
                                 write_date = now() at time zone 'UTC'
                           WHERE id IN %s AND state = 'sending'""",
                       [delay, str(reason), Json(reason_json(reason)), tuple(job_ids)])
            cr.commit()  # pylint: disable=invalid-commit  # the cursor opened just above, for this alone
    except psycopg2.Error:
        _logger.exception("QuickBooks: %s claimed job(s) could not be given back; their lease will", len(job_ids))


class Lane:
    """One worker's drain (a cron run, or a call for one company), until `deadline`."""

    def __init__(self, env, deadline, chunk_size, lease, company_ids=None, client_options=None):
        self.registry = env.registry
        self.dbname = env.registry.db_name
        self.deadline = deadline
        self.company_ids = list(company_ids) if company_ids else None
        self.chunk_size = chunk_size
        self.lease = lease
        self.client_options = dict(client_options or {})
        with self.registry.cursor() as cr:   # a cursor of its own: callers may share theirs between threads
            self.budgets = api.Environment(cr, SUPERUSER_ID, {})["qbo.job"]._qbo_budgets()
        self.finished = 0
        self.flying = []
        self.held = Counter()        # realm -> chunks of this lane in flight
        self.company_flights = Counter()
        self.failed = set()          # companies whose turn failed (no client, Odoo's error): not tried again in this run
        self._lock_cr = None
        self._pool = None
        self._local = threading.local()
        self._opened = []            # cursors and sessions of the sender threads
        self._opened_lock = threading.Lock()
        self._main = {}              # realm -> PgRateLimiter of the worker's thread
        self._main_cr = None
        self._session = None

    # ------------------------------------------------------------------------------------
    def run(self):
        try:
            while True:
                if time.monotonic() < self.deadline and len(self.flying) < FLIGHTS and self._start_turn():
                    continue
                if not self.flying:
                    break
                more = time.monotonic() < self.deadline and len(self.flying) < FLIGHTS
                self._land(timeout=POLL if more else None)
        finally:
            self._close()
        return self.finished

    # ------------------------------------------------------------------------------------
    # turns and realm claims
    # ------------------------------------------------------------------------------------
    def _candidates(self, cr):
        """Connected companies with jobs ready to go, the longest without a turn first."""
        busy = [cid for cid, n in self.company_flights.items() if n >= FLIGHTS_PER_COMPANY]
        cr.execute("""
            SELECT c.id, c.qbo_realm_id FROM res_company c LEFT JOIN qbo_turn t ON t.company_id = c.id
             WHERE c.qbo_enabled AND c.qbo_state = 'connected' AND c.qbo_realm_id IS NOT NULL
               AND (%(only)s::int[] IS NULL OR c.id = ANY(%(only)s::int[]))
               AND NOT c.id = ANY(%(busy)s::int[])
               AND (EXISTS (SELECT 1 FROM qbo_job j WHERE j.company_id = c.id AND j.state = 'pending'
                               AND j.next_attempt_at <= clock_timestamp() at time zone 'UTC')
                    OR EXISTS (SELECT 1 FROM qbo_job j WHERE j.company_id = c.id AND j.state = 'sending'
                                  AND j.sent_at < (now() at time zone 'UTC') - %(lease)s))
             ORDER BY t.last_turn NULLS FIRST, c.id""",
                   {"only": self.company_ids, "busy": busy, "lease": self.lease})
        return cr.fetchall()

    def _lock_realm(self, realm):
        if self.held[realm]:
            return True
        if self._lock_cr is None:
            self._lock_cr = sql_db.db_connect(self.dbname).cursor()
        self._lock_cr.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [REALM_LOCK_SPACE, realm])
        taken = self._lock_cr.fetchone()[0]
        self._lock_cr.commit()
        return taken

    def _unlock_realm(self, realm):
        if not self.held[realm] and self._lock_cr is not None:
            self._lock_cr.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [REALM_LOCK_SPACE, realm])
            self._lock_cr.commit()

    def _start_turn(self):
        """Claim and prepare one chunk of the next company in turn; False when none is ready."""
        with self.registry.cursor() as cr:
            candidates = [(cid, realm) for cid, realm in self._candidates(cr) if cid not in self.failed]
        for company_id, realm in candidates:
            if self.held[realm] and self._main_limiter(realm).ready_in() > POLL:
                # this lane's chunks in flight spent the realm's minute: the next chunk's lookup
                # would hold this thread (and every other company's turn) until the minute has
                # room; look again at the next poll
                continue
            if not self._lock_realm(realm):
                continue   # another worker drains this realm
            chunk, claimed = None, []
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    cr.execute("""INSERT INTO qbo_turn (company_id, last_turn) VALUES (%s, clock_timestamp())
                                  ON CONFLICT (company_id) DO UPDATE SET last_turn = EXCLUDED.last_turn""",
                               [company_id])
                    jobs = env["qbo.job"]._qbo_claim(company_id, self.chunk_size)
                    claimed = jobs.ids
                    if not jobs:
                        continue
                    company = env["res.company"].browse(company_id).with_company(company_id)
                    try:
                        client = company._qbo_client(rate_limiter=self._main_limiter(realm),
                                                     max_retry_after=MAX_RETRY_AFTER, session=self._main_session(),
                                                     **self.client_options)
                    except (QBOError, UserError) as exc:
                        jobs._qbo_release(exc, count_attempt=False)
                        # the lane's own cursor: the released jobs are durable before the next turn
                        commit_or_give_back(cr, self.registry, claimed, answered=False)
                        self.failed.add(company_id)   # no client for it in this run: not claimed again
                        return True
                    try:
                        chunk = jobs._qbo_prepare(company, client)
                    except Exception as exc:  # noqa: BLE001 - Odoo's own failure, not a record's
                        give_back(cr, jobs, exc)
                        chunk = None
                    # the lane's own cursor: keys and payloads stored before any HTTP
                    if not commit_or_give_back(cr, self.registry, claimed, answered=False):
                        chunk = None
                    if chunk is None:
                        return True   # the chunk was given back as a whole (QuickBooks unreachable...)
                    chunk.base_url, chunk.access_token = client.base_url, client.access_token
                    chunk.allowed_hosts = client.allowed_hosts
            except Exception:  # noqa: BLE001 - never the worker's end: the chunk waits in the queue
                _logger.exception("QuickBooks: the turn of company %s failed", company_id)
                self.failed.add(company_id)   # the next company has its turn, in this run too
                chunk = None
                release_claimed(self.registry, claimed, _lt(
                    "Odoo failed while preparing this chunk: it waits in the queue, no attempt counted."), delay=60)
                return True
            finally:
                if chunk is None:
                    self._unlock_realm(realm)
            self.held[realm] += 1
            self.company_flights[company_id] += 1
            self._dispatch(chunk)
            self.flying.append(chunk)
            return True
        return False

    # ------------------------------------------------------------------------------------
    # sends
    # ------------------------------------------------------------------------------------
    def _dispatch(self, chunk):
        if not (chunk.batches or chunk.singles):
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="qbo-sender")
        if chunk.batches:
            chunk.futures.append(self._pool.submit(self._send, chunk, send_batches, chunk.batches))
        for i in range(min(SINGLE_SEQUENCES, len(chunk.singles))):
            chunk.futures.append(self._pool.submit(self._send, chunk, send_singles, chunk.singles[i::SINGLE_SEQUENCES]))

    def _send(self, chunk, function, *args):
        """In a sender thread: HTTP only, through the thread's own session and budget cursor.
        Nothing of Odoo's ORM is touched here; a 401 is answered by the worker's thread."""
        local = self._local
        if getattr(local, "session", None) is None:
            local.session = requests.Session()
            local.cr = budget_cursor(self.dbname)
            local.limiters = {}
            with self._opened_lock:
                self._opened += [local.session, local.cr]
        limiter = local.limiters.get(chunk.realm)
        if limiter is None:
            limiter = local.limiters[chunk.realm] = PgRateLimiter(self.dbname, chunk.realm, self.budgets,
                                                                  cursor=lambda: local.cr)
        client = QBOClient(chunk.realm, chunk.base_url, chunk.access_token, rate_limiter=limiter,
                           session=local.session, max_retry_after=MAX_RETRY_AFTER, allowed_hosts=chunk.allowed_hosts,
                           **self.client_options)
        try:
            return function(client, *args)
        finally:
            limiter.release()
            chunk.usage.append((client.usage["reads"], client.usage["writes"]))

    def _land(self, timeout):
        """Apply the results of the chunks whose sends are over (waiting up to `timeout`)."""
        ready = [chunk for chunk in self.flying if chunk.done()]
        if not ready:
            # the sends still running (a finished one would end the wait at once: no busy loop)
            wait([f for chunk in self.flying for f in chunk.futures if not f.done()], timeout=timeout,
                 return_when=FIRST_COMPLETED)
            ready = [chunk for chunk in self.flying if chunk.done()]
        for chunk in ready:
            self.flying.remove(chunk)
            for future in chunk.futures:
                try:
                    chunk.results.update(future.result())
                except Exception as exc:  # noqa: BLE001 - a sender crashed: its jobs are retried
                    _logger.exception("QuickBooks sender failed")
                    error = TransientError(f"The sender failed: {exc}", code="sender")
                    for job_id, *_rest in chunk.singles:
                        chunk.results.setdefault(job_id, (None, error, False))
                    for _key, items in chunk.batches:
                        for item in items:
                            chunk.results.setdefault(int(item["bId"]), (None, error, False))
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    company = env["res.company"].browse(chunk.company_id).with_company(chunk.company_id)
                    jobs = env["qbo.job"].browse(chunk.job_ids)
                    finished = 0
                    try:
                        env["qbo.usage"]._qbo_record(chunk.company_id, *map(sum, zip((0, 0), *chunk.usage)))
                        finished = jobs._qbo_finish(company, chunk, self._refreshing_client)
                    except Exception as exc:  # noqa: BLE001 - Odoo's own failure, not a record's
                        give_back(cr, jobs, exc)
                    # the lane's own cursor: a chunk's results are durable before the next
                    if commit_or_give_back(cr, self.registry, chunk.job_ids, answered=True):
                        self.finished += finished
            except Exception:  # noqa: BLE001 - never the worker's end: the chunk waits in the queue
                _logger.exception("QuickBooks: applying the answers of a chunk of company %s failed", chunk.company_id)
                release_claimed(self.registry, chunk.job_ids, _lt(
                    "Odoo failed while saving QuickBooks' answer: it is asked again under the same key, no attempt "
                    "counted."), delay=60)
            finally:
                self.held[chunk.realm] -= 1
                self.company_flights[chunk.company_id] -= 1
                self._unlock_realm(chunk.realm)

    def _refreshing_client(self, company):
        """A client of the worker's thread that refreshes the token (after a sender's 401)."""
        return company._qbo_client(rate_limiter=self._main_limiter(company.qbo_realm_id),
                                   max_retry_after=MAX_RETRY_AFTER, session=self._main_session(),
                                   **self.client_options)

    # ------------------------------------------------------------------------------------
    def _main_session(self):
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def _main_limiter(self, realm):
        if realm not in self._main:
            if self._main_cr is None:
                self._main_cr = budget_cursor(self.dbname)
            self._main[realm] = PgRateLimiter(self.dbname, realm, self.budgets, cursor=lambda: self._main_cr)
        return self._main[realm]

    def _close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for limiter in self._main.values():
            limiter.release()
        for thing in self._opened + [self._main_cr, self._lock_cr, self._session]:
            if thing is not None and not getattr(thing, "closed", False):
                thing.close()   # closing the lock connection gives every realm claim back
