"""Intuit's throttling limits, per-realm fault injection, counters and the idempotency cache."""
import collections
import math
import random
import threading

WINDOW = 60.0
# per realm and app: 500 requests a minute, 10 at once, 40 /batch requests a minute of 30 items each; per realm
# whatever the app: 120 /batch requests a minute (Intuit, since 2025-10-31 in production)
DEFAULT_LIMITS = {"per_minute": 500, "concurrent": 10, "batch_per_minute": 40, "batch_items": 30,
                  "realm_batch_per_minute": 120, "enabled": True}
FAULT_KEYS = ("latency_ms", "error_rate", "timeout_rate", "lost_rate", "throttle_rate", "timeout_s")
COUNTER_KEYS = ("total", "read", "query", "cdc", "create", "update", "delete", "void", "send", "batch", "batch_items",
                "token", "authorize", "replayed", "throttled", "unauthorized", "faults", "injected_5xx",
                "injected_429", "lost", "timeouts")


class Throttled(Exception):
    def __init__(self, retry_after):
        super().__init__("throttled")
        self.retry_after = retry_after


class RateLimiter:
    """Sliding 60-second windows on the simulator clock, plus an in-flight cap, per realm and app; and the
    realm's /batch window that every app shares."""

    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.Lock()
        self.config = dict(DEFAULT_LIMITS)
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = collections.defaultdict(collections.deque)       # (realm, app) -> times
            self.batches = collections.defaultdict(collections.deque)        # (realm, app) -> times
            self.realm_batches = collections.defaultdict(collections.deque)  # realm -> times, every app
            self.in_flight = collections.defaultdict(int)                    # (realm, app) -> requests

    def configure(self, **kwargs):
        with self.lock:
            for key, value in kwargs.items():
                if key not in DEFAULT_LIMITS:
                    raise ValueError("unknown limit %r" % key)
                if value is not None:
                    self.config[key] = bool(value) if key == "enabled" else int(value)

    def _retry_after(self, window, now):
        wait = window[0] + WINDOW - now
        return max(1, math.ceil(self.clock.real_seconds(wait)))

    def acquire(self, key, is_batch):
        """Count one API request; raise Throttled when a limit is crossed. `key` is (realm, app): what Intuit
        limits per company and app (the app being the access token's client id); the realm's /batch window
        (every app) is counted on its first part."""
        realm = key[0] if isinstance(key, tuple) else key
        now = self.clock.now()
        with self.lock:
            if not self.config["enabled"]:
                self.in_flight[key] += 1
                return
            for window in (self.requests[key], self.batches[key], self.realm_batches[realm]):
                while window and window[0] <= now - WINDOW:
                    window.popleft()
            if self.in_flight[key] >= self.config["concurrent"]:
                raise Throttled(1)
            if len(self.requests[key]) >= self.config["per_minute"]:
                raise Throttled(self._retry_after(self.requests[key], now))
            if is_batch:
                for window, limit in ((self.batches[key], "batch_per_minute"),
                                      (self.realm_batches[realm], "realm_batch_per_minute")):
                    if len(window) >= self.config[limit]:
                        raise Throttled(self._retry_after(window, now))
            self.requests[key].append(now)
            if is_batch:
                self.batches[key].append(now)
                self.realm_batches[realm].append(now)
            self.in_flight[key] += 1

    def release(self, key):
        with self.lock:
            self.in_flight[key] = max(0, self.in_flight[key] - 1)


class FaultPlan:
    """What to inject for one realm; decisions come from a seeded random generator."""

    def __init__(self, latency_ms=0, error_rate=0.0, timeout_rate=0.0, lost_rate=0.0, throttle_rate=0.0,
                 seed=None, timeout_s=5.0):
        self.latency_ms = float(latency_ms or 0)
        self.error_rate = float(error_rate or 0)
        self.timeout_rate = float(timeout_rate or 0)
        self.lost_rate = float(lost_rate or 0)
        self.throttle_rate = float(throttle_rate or 0)
        self.timeout_s = float(timeout_s or 5.0)
        self.seed = seed
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.xml_next = False

    def settings(self):
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "timeout_rate": self.timeout_rate,
                "lost_rate": self.lost_rate, "throttle_rate": self.throttle_rate, "seed": self.seed,
                "timeout_s": self.timeout_s}

    def roll(self, rate):
        if rate <= 0:
            return False
        with self.lock:
            return self.random.random() < rate

    def next_throttle_is_xml(self):
        with self.lock:
            self.xml_next = not self.xml_next
            return not self.xml_next


def parse_fault_spec(spec):
    """'REALM:error_rate=0.1,lost_rate=0.05' -> (realm, {..})."""
    realm, _, rest = spec.partition(":")
    values = {}
    for part in filter(None, rest.split(",")):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in FAULT_KEYS + ("seed",):
            raise ValueError("unknown fault setting %r" % key)
        values[key] = int(value) if key == "seed" else float(value)
    return realm.strip(), values


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.by_realm = collections.defaultdict(collections.Counter)

    def add(self, realm, kind, n=1):
        with self.lock:
            self.by_realm[realm or "-"][kind] += n

    def snapshot(self, realm=None):
        with self.lock:
            if realm is not None:
                source = [self.by_realm.get(realm, collections.Counter())]
            else:
                source = list(self.by_realm.values())
            total = collections.Counter({k: 0 for k in COUNTER_KEYS})
            for counter in source:
                total.update(counter)
            result = dict(total)
            if realm is None:
                result["by_realm"] = {r: dict(c) for r, c in self.by_realm.items()}
            return result


class IdempotencyCache:
    """First answer per (realm, requestid); bounded, oldest dropped first."""

    def __init__(self, size=20000):
        self.size = size
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.entries = collections.OrderedDict()

    def get(self, realm, request_id):
        with self.lock:
            return self.entries.get("%s|%s" % (realm, request_id))

    def put(self, realm, request_id, status, body, code=None):
        with self.lock:
            self.entries["%s|%s" % (realm, request_id)] = [status, body, code]
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def dump(self):
        with self.lock:
            return dict(self.entries)

    def load(self, entries):
        with self.lock:
            self.entries = collections.OrderedDict(entries or {})
