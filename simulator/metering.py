"""Intuit's App Partner Program metering (2025): writes are free "Core" calls; reads, queries, CDC, reports
and PDFs are metered "CorePlus" calls, counted per realm and calendar month. A batch item is metered like a
call of its own. With a monthly CorePlus allowance (the Builder tier's is 500,000), CorePlus calls answer 429
once it is spent, until the month ends."""
import datetime
import math
import threading

from .errors import QBOError

CORE, COREPLUS = "core", "coreplus"


def month_of(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m")


def next_month_start(ts):
    day = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc).timestamp()


class Metering:
    def __init__(self, clock, coreplus_allowance=None):
        self.clock = clock
        self.lock = threading.Lock()
        self.default_allowance = coreplus_allowance
        self.reset()

    def reset(self):
        with self.lock:
            self.allowance = self.default_allowance
            self.calls = {}   # realm -> month -> {"core": n, "coreplus": n}

    def set_allowance(self, allowance):
        with self.lock:
            self.allowance = None if allowance in (None, "", 0) else int(allowance)

    def charge(self, realm, kind, count=1):
        """Count `count` calls of `kind`; a CorePlus call past the monthly allowance raises 429 instead."""
        now = self.clock.now()
        with self.lock:
            month = self.calls.setdefault(realm, {}).setdefault(month_of(now), {CORE: 0, COREPLUS: 0})
            if kind == COREPLUS and self.allowance is not None and month[COREPLUS] + count > self.allowance:
                retry = max(1, math.ceil(self.clock.real_seconds(next_month_start(now) - now)))
                raise QBOError("3001", "The CorePlus allowance of %d calls for %s is used up: data reads answer "
                               "429 until the month ends." % (self.allowance, month_of(now)), status=429,
                               ftype="SERVICE", message="message=ThrottleExceeded; errorCode=003001; "
                               "statusCode=429").with_headers({"Retry-After": str(retry)})
            month[kind] += count

    def usage(self, realm=None):
        with self.lock:
            if realm is not None:
                return {m: dict(v) for m, v in self.calls.get(realm, {}).items()}
            return {"allowance": self.allowance,
                    "realms": {r: {m: dict(v) for m, v in months.items()} for r, months in self.calls.items()}}

    def dump(self):
        with self.lock:
            return {"allowance": self.allowance, "calls": self.calls}

    def load(self, state):
        with self.lock:
            self.calls = (state or {}).get("calls", {})
