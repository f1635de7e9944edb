"""One request budget per QBO realm, shared by every Odoo worker through PostgreSQL.

Intuit allows 500 requests and 40 batch requests per minute per company, counted over a
sliding minute, and at most 10 requests in flight at once. Each budget is a sliding-window log:
the send times of the last requests of that kind for the realm, in PostgreSQL. A worker reserves
the earliest slot at which the window holds fewer requests than the limit: at once when there
is room, else one window after the request that would fall out. The reservation is a row lock
and an INSERT, committed at once, so workers on any number of Odoo servers share the budget
without talking to each other, and a worker only ever sleeps for its own slot. Unlike an evenly
spaced budget, time spent between batches (claiming, building payloads, writing results) is not
lost: the next chunk's first batches go as soon as the window has room. The window carries a
small margin so that network jitter between Odoo and Intuit never puts one request too many in
a minute.

The 10-at-once limit is a set of PostgreSQL advisory locks, one per slot and realm: a request
holds one slot's session lock from just before it is sent until its answer (or its failure)
came back. A worker that dies loses its connection and with it its slots, so nothing leaks."""
import random
import time

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import sql_db

# kind -> requests per window
DEFAULT_BUDGETS = {"request": 500, "batch": 40, "concurrent": 10}
WINDOW = 60.0
MARGIN = 1.02
SLOT_LOCK_SPACE = 0x51B0   # first key of the advisory locks of the in-flight slots ("QBO")
SLOT_POLL = 0.05           # seconds between two looks for a free in-flight slot


def budget_cursor(dbname):
    """A cursor of its own for budget reservations, in READ COMMITTED (Odoo's cursors are
    REPEATABLE READ): once the realm's budget row is locked, the next statement must see the
    reservation the previous holder just committed, and a concurrent cleanup is no conflict."""
    cr = sql_db.db_connect(dbname).cursor()
    cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
    return cr


class PgRateLimiter:
    """The rate_limiter the QBO client calls before (``acquire``) and after (``release``) every
    HTTP attempt. Not thread-safe: one per thread. ``cursor`` may be a callable returning the
    cursor to use (several limiters of one thread can share a connection); by default the
    limiter opens its own connection (see `budget_cursor`); ``transient`` gives it back to the
    pool once each answer is in (a client outside the drain: lists, imports, CDC, a wizard, whose
    requests count in the realm's budget like the drain's)."""

    def __init__(self, dbname, realm, budgets=None, sleep=time.sleep, window=WINDOW, cursor=None, transient=False):
        self.dbname = dbname
        self.realm = realm
        self.budgets = dict(DEFAULT_BUDGETS, **(budgets or {}))
        self.window = window * MARGIN
        self.sleep = sleep
        self._cursor_source = cursor
        self._cr = None
        self._slot = None
        self.transient = transient
        self.waited = 0.0

    def _cursor(self):
        if self._cursor_source is not None:
            return self._cursor_source()
        if self._cr is None or self._cr.closed:
            self._cr = budget_cursor(self.dbname)
        return self._cr

    def close(self):
        self._free_slot()
        self._close_cursor()

    def _close_cursor(self):
        if self._cr is not None and not self._cr.closed:
            self._cr.close()
        self._cr = None

    def _reserve(self, kinds):
        """Seconds to wait for this realm's next free slot of every kind in `kinds`, the slots
        being taken: one statement per kind (cleanup, serialisation and reservation)."""
        cr = self._cursor()
        wait = 0.0
        for kind in kinds:
            params = {"realm": self.realm, "kind": kind, "window": self.window, "limit": self.budgets[kind]}
            cr.execute("""
                INSERT INTO qbo_rate_budget (realm, kind, tat) VALUES (%(realm)s, %(kind)s, clock_timestamp())
                ON CONFLICT (realm, kind) DO NOTHING;
                -- serialise the reservations of this realm and kind
                SELECT 1 FROM qbo_rate_budget WHERE realm = %(realm)s AND kind = %(kind)s FOR UPDATE;
                DELETE FROM qbo_rate_log WHERE realm = %(realm)s AND kind = %(kind)s
                   AND sent_at < clock_timestamp() - make_interval(secs => 2 * %(window)s);
                WITH nth AS (
                    SELECT sent_at FROM qbo_rate_log
                     WHERE realm = %(realm)s AND kind = %(kind)s
                     ORDER BY sent_at DESC OFFSET %(limit)s - 1 LIMIT 1)
                INSERT INTO qbo_rate_log (realm, kind, sent_at)
                SELECT %(realm)s, %(kind)s,
                       GREATEST(clock_timestamp(),
                                COALESCE((SELECT sent_at FROM nth), '-infinity') + make_interval(secs => %(window)s))
                RETURNING EXTRACT(EPOCH FROM (sent_at - clock_timestamp()))""", params)
            wait = max(wait, float(cr.fetchone()[0]))
        # the slots are taken for every worker at once, whatever happens next
        cr.commit()  # pylint: disable=invalid-commit  # the limiter's own bookkeeping cursor
        return max(wait, 0.0)

    def ready_in(self, kinds=("batch", "request")):
        """Seconds until this realm's budgets of `kinds` have room (0: now), nothing reserved."""
        cr = self._cursor()
        wait = 0.0
        for kind in kinds:
            cr.execute("""
                SELECT EXTRACT(EPOCH FROM (sent_at + make_interval(secs => %(window)s) - clock_timestamp()))
                  FROM qbo_rate_log WHERE realm = %(realm)s AND kind = %(kind)s
                 ORDER BY sent_at DESC OFFSET %(limit)s - 1 LIMIT 1""",
                       {"realm": self.realm, "kind": kind, "window": self.window, "limit": self.budgets[kind]})
            row = cr.fetchone()
            wait = max(wait, float(row[0]) if row else 0.0)
        cr.commit()  # pylint: disable=invalid-commit  # the limiter's own bookkeeping cursor
        if self.transient:
            self._close_cursor()
        return max(wait, 0.0)

    def _take_slot(self):
        """Hold one of the realm's in-flight slots (a session advisory lock), waiting for one."""
        limit = self.budgets["concurrent"]
        cr = self._cursor()
        first = random.randrange(limit)
        while True:
            for i in range(limit):
                slot = (first + i) % limit
                cr.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [SLOT_LOCK_SPACE, f"{self.realm}:{slot}"])
                if cr.fetchone()[0]:
                    cr.commit()  # pylint: disable=invalid-commit  # the limiter's own bookkeeping cursor
                    self._slot = slot
                    return
            cr.commit()  # pylint: disable=invalid-commit  # the limiter's own bookkeeping cursor
            self.waited += SLOT_POLL
            self.sleep(SLOT_POLL)

    def acquire(self, kind="request"):
        self.release()   # an attempt that raised before its answer never told us
        try:
            wait = self._reserve(("batch", "request") if kind == "batch" else ("request",))
        except Exception:
            self._cursor().rollback()   # the cursor serves the next reservation
            if self.transient:
                self._close_cursor()
            raise
        if wait > 0:
            self.waited += wait
            self.sleep(wait)
        self._take_slot()

    def release(self):
        """The answer came back (or never will): the in-flight slot is free again."""
        self._free_slot()
        if self.transient:
            self._close_cursor()

    def _free_slot(self):
        if self._slot is not None:
            slot, self._slot = self._slot, None
            cr = self._cursor()
            if not cr.closed:
                cr.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [SLOT_LOCK_SPACE, f"{self.realm}:{slot}"])
                cr.commit()  # pylint: disable=invalid-commit  # the limiter's own bookkeeping cursor
