"""One request budget per QBO realm, shared by every Odoo worker through PostgreSQL.

Intuit allows 500 requests and 40 batch requests per minute per company. Each budget is a
GCRA ("generic cell rate algorithm") cell: one row holding the theoretical arrival time of
the next request. Reserving a slot is a single UPDATE ... RETURNING on that row, so workers
on any number of Odoo servers get evenly spaced slots without talking to each other, and a
worker only ever sleeps for its own slot. The intervals carry a small margin so that
network jitter between Odoo and Intuit does not push two requests into one window."""
import time

from odoo import sql_db

# kind -> (requests per minute, burst)
DEFAULT_BUDGETS = {"request": (500, 5), "batch": (40, 0)}
MARGIN = 1.03


class PgRateLimiter:
    """The rate_limiter the QBO client calls before every HTTP attempt."""

    def __init__(self, dbname, realm, budgets=None, sleep=time.sleep):
        self.dbname = dbname
        self.realm = realm
        self.budgets = dict(DEFAULT_BUDGETS, **(budgets or {}))
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
        per_minute, burst = self.budgets[kind]
        interval = 60.0 / per_minute * MARGIN
        cr = self._cursor()
        cr.execute("""
            INSERT INTO qbo_rate_budget (realm, kind, tat) VALUES (%s, %s, clock_timestamp())
            ON CONFLICT (realm, kind) DO NOTHING""", [self.realm, kind])
        cr.execute("""
            UPDATE qbo_rate_budget b
               SET tat = GREATEST(b.tat, c.now) + make_interval(secs => %(interval)s)
              FROM (SELECT clock_timestamp() AS now) c
             WHERE b.realm = %(realm)s AND b.kind = %(kind)s
         RETURNING GREATEST(EXTRACT(EPOCH FROM (b.tat - c.now)) - %(interval)s - %(tolerance)s, 0)
        """, {"interval": interval, "tolerance": burst * interval, "realm": self.realm, "kind": kind})
        wait = float(cr.fetchone()[0])
        cr.commit()  # the slot is taken for every worker at once, whatever happens next
        return wait

    def acquire(self, kind="request"):
        kinds = ("batch", "request") if kind == "batch" else ("request",)
        wait = max(self._reserve(k) for k in kinds)
        if wait > 0:
            self.waited += wait
            self.sleep(wait)
