"""One request budget per QBO realm, shared by every Odoo worker through PostgreSQL.

Intuit allows 500 requests and 40 batch requests per minute per company, counted over a
sliding minute. Each budget is a sliding-window log: the send times of the last requests of
that kind for the realm, in PostgreSQL. A worker reserves the earliest slot at which the
window holds fewer requests than the limit: at once when there is room, else one window after
the request that would fall out. The reservation is a row lock and an INSERT, committed at
once, so workers on any number of Odoo servers share the budget without talking to each
other, and a worker only ever sleeps for its own slot. Unlike an evenly spaced budget, time
spent between batches (claiming, building payloads, writing results) is not lost: the next
chunk's first batches go as soon as the window has room. The window carries a small margin so
that network jitter between Odoo and Intuit never puts one request too many in a minute."""
import time

from odoo import sql_db

# kind -> requests per window
DEFAULT_BUDGETS = {"request": 500, "batch": 40}
WINDOW = 60.0
MARGIN = 1.02


class PgRateLimiter:
    """The rate_limiter the QBO client calls before every HTTP attempt."""

    def __init__(self, dbname, realm, budgets=None, sleep=time.sleep, window=WINDOW):
        self.dbname = dbname
        self.realm = realm
        self.budgets = dict(DEFAULT_BUDGETS, **(budgets or {}))
        self.window = window * MARGIN
        self.sleep = sleep
        self._cr = None
        self.waited = 0.0

    def _cursor(self):
        if self._cr is None or self._cr.closed:
            self._cr = sql_db.db_connect(self.dbname).cursor()
        return self._cr

    def close(self):
        if self._cr is not None and not self._cr.closed:
            self._cr.close()
        self._cr = None

    def _reserve(self, kind):
        """Seconds to wait for this realm's next free slot of `kind`, the slot being taken."""
        limit = self.budgets[kind]
        cr = self._cursor()
        params = {"realm": self.realm, "kind": kind, "window": self.window, "limit": limit}
        cr.execute("""
            INSERT INTO qbo_rate_budget (realm, kind, tat) VALUES (%(realm)s, %(kind)s, clock_timestamp())
            ON CONFLICT (realm, kind) DO NOTHING""", params)
        # serialise the reservations of this realm and kind
        cr.execute("SELECT 1 FROM qbo_rate_budget WHERE realm = %(realm)s AND kind = %(kind)s FOR UPDATE", params)
        cr.execute("""
            WITH nth AS (
                SELECT sent_at FROM qbo_rate_log
                 WHERE realm = %(realm)s AND kind = %(kind)s
                 ORDER BY sent_at DESC OFFSET %(limit)s - 1 LIMIT 1)
            INSERT INTO qbo_rate_log (realm, kind, sent_at)
            SELECT %(realm)s, %(kind)s,
                   GREATEST(clock_timestamp(),
                            COALESCE((SELECT sent_at FROM nth), '-infinity') + make_interval(secs => %(window)s))
            RETURNING EXTRACT(EPOCH FROM (sent_at - clock_timestamp()))""", params)
        wait = max(float(cr.fetchone()[0]), 0.0)
        cr.execute("""DELETE FROM qbo_rate_log WHERE realm = %(realm)s AND kind = %(kind)s
                        AND sent_at < clock_timestamp() - make_interval(secs => 2 * %(window)s)""", params)
        cr.commit()  # the slot is taken for every worker at once, whatever happens next
        return wait

    def acquire(self, kind="request"):
        kinds = ("batch", "request") if kind == "batch" else ("request",)
        wait = max(self._reserve(k) for k in kinds)
        if wait > 0:
            self.waited += wait
            self.sleep(wait)
