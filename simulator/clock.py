"""The simulator clock: real time, scaled, plus an offset moved by advance()."""
import datetime
import threading
import time

PACIFIC = datetime.timezone(datetime.timedelta(hours=-8))


class Clock:
    def __init__(self, time_scale=1.0):
        self._lock = threading.Lock()
        self._base_real = time.time()
        self._base_mono = time.monotonic()
        self.time_scale = float(time_scale)
        self.offset = 0.0

    def now(self):
        with self._lock:
            return self._base_real + (time.monotonic() - self._base_mono) * self.time_scale + self.offset

    def advance(self, seconds):
        with self._lock:
            self.offset += float(seconds)

    def set_scale(self, time_scale):
        current = self.now()
        with self._lock:
            self._base_real = current - self.offset
            self._base_mono = time.monotonic()
            self.time_scale = float(time_scale)

    def reset(self):
        with self._lock:
            self.offset = 0.0

    def real_seconds(self, sim_seconds):
        """How long sim_seconds of simulated time take on the wall clock."""
        return sim_seconds / self.time_scale if self.time_scale > 0 else sim_seconds

    def iso(self, ts=None):
        """QBO-style timestamp, in US Pacific standard time like QBO answers."""
        ts = self.now() if ts is None else ts
        dt = datetime.datetime.fromtimestamp(ts, PACIFIC)
        return dt.isoformat(timespec="milliseconds")

    def iso_seconds(self, ts=None):
        ts = self.now() if ts is None else ts
        return datetime.datetime.fromtimestamp(ts, PACIFIC).isoformat(timespec="seconds")

    def today(self):
        return datetime.datetime.fromtimestamp(self.now(), PACIFIC).date()
