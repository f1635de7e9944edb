"""Webhooks as Intuit sends them: every create, update, delete, void and merge of a company is an
event; events are batched for a short window and delivered by HTTP POST to the registered URL,
in the CloudEvents format (mandatory from 2026-07-31) or the older ``eventNotifications`` one,
signed with ``intuit-signature`` (base64 HMAC-SHA256 of the raw body, keyed with the app's
verifier token). The receiver has 3 seconds to answer 2xx (Intuit's best practices, February 2026:
acknowledge, then work); a delivery that fails (no answer in time, or an answer other than 2xx) is sent
again with the same body and the same event ids on Intuit's schedule: 10 s, 20 s, 30 s, 5 min, 20 min,
2 h and 4 h after the previous attempt, then every 6 hours (on the simulator clock, so ``advance()``
brings retries due); the simulator gives up 3 days after the first attempt (a choice: Intuit gives no end).

Deliveries run on a background thread (``auto``) or on demand with :meth:`Webhooks.flush`, which
the tests use so that a delivery happens at a known moment."""
import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid

_log = logging.getLogger("qbo_simulator")

FORMATS = ("cloudevents", "legacy")
# webhook operation -> the verb of a CloudEvents type (qbo.invoice.voided.v1, ...)
VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged",
         "Emailed": "emailed"}
# the store's write kinds -> webhook operations
OPERATIONS = {"create": "Create", "update": "Update", "delete": "Delete", "void": "Void"}
MAX_EVENTS = 100          # events in one delivery (Intuit batches; it gives no number: a choice)
ACK_SECONDS = 3.0         # a delivery not acknowledged (2xx) within 3 s failed
RETRY_DELAYS = (10, 20, 30, 300, 1200, 7200, 14400)   # simulated seconds before retries 1..7
RETRY_EVERY = 6 * 3600    # then every 6 hours
GIVE_UP_AFTER = 3 * 86400  # simulated seconds after the first attempt (the simulator's choice)


def retry_delay(attempts):
    """Simulated seconds between a failed attempt (the `attempts`-th) and the next one."""
    return RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else RETRY_EVERY


def sign(verifier, body):
    """The intuit-signature header of `body` (bytes) for the verifier token."""
    digest = hmac.new(verifier.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _utc(iso_time):
    """QBO's local time text as a UTC 'Z' time for CloudEvents."""
    from datetime import datetime, timezone
    try:
        when = datetime.fromisoformat(iso_time)
    except (TypeError, ValueError):
        return iso_time
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Webhooks:
    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.RLock()
        self._wake = threading.Event()
        self._thread = None
        self._stopping = threading.Event()
        self.reset()

    # ----- configuration -------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.url = None
            self.verifier = None
            self.format = "cloudevents"
            self.window = 1.0
            self.auto = False
            self.outbox = []        # events waiting for the batching window
            self.retries = []       # {"body", "attempt", "next_at", "events"}
            self.log = []           # one entry per delivery attempt
            self.sent = 0

    def configure(self, url, verifier, fmt="cloudevents", window=1.0, auto=True):
        if fmt not in FORMATS:
            raise ValueError("format must be one of %s" % ", ".join(FORMATS))
        if not url or not verifier:
            raise ValueError("a webhook needs a url and a verifier token")
        with self.lock:
            self.url, self.verifier, self.format = url, verifier, fmt
            self.window, self.auto = float(window), bool(auto)
        if auto:
            self._ensure_thread()

    def settings(self):
        with self.lock:
            return {"url": self.url, "format": self.format, "window": self.window, "auto": self.auto,
                    "waiting": len(self.outbox), "retrying": len(self.retries), "delivered_events": self.sent,
                    "deliveries": list(self.log[-50:])}

    # ----- events --------------------------------------------------------------------------------------
    def emit(self, realm, entity, rid, operation, last_updated=None, deleted_id=None):
        """Record one change; delivered with the next batch."""
        with self.lock:
            if not self.url:
                return
            self.outbox.append({"realm": str(realm), "entity": entity, "id": str(rid), "operation": operation,
                                "lastUpdated": last_updated or self.clock.iso_seconds(),
                                "deletedId": deleted_id, "first": time.monotonic()})
        if self.auto:
            self._wake.set()

    def on_write(self, realm, entity, kind, answer):
        """The store's listener: one event per successful write."""
        operation = OPERATIONS.get(kind)
        if operation and isinstance(answer, dict) and answer.get("Id"):
            updated = (answer.get("MetaData") or {}).get("LastUpdatedTime")
            self.emit(realm, entity, answer["Id"], operation, updated)

    # ----- payloads ----------------------------------------------------------------------------------------
    def payload(self, events, fmt=None):
        fmt = fmt or self.format
        if fmt == "legacy":
            by_realm = {}
            for ev in events:
                entity = {"name": ev["entity"], "id": ev["id"], "operation": ev["operation"],
                          "lastUpdated": _utc(ev["lastUpdated"])}
                if ev.get("deletedId"):
                    entity["deletedId"] = ev["deletedId"]
                by_realm.setdefault(ev["realm"], []).append(entity)
            return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}
                                           for realm, entities in by_realm.items()]}
        out = []
        for ev in events:
            item = {"specversion": "1.0", "id": "%s-%s-%s" % (uuid.uuid4(), ev["entity"], ev["id"]),
                    "source": "intuit.qbo-simulator", "type": "qbo.%s.%s.v1" % (
                        ev["entity"].lower(), VERBS[ev["operation"]]),
                    "datacontenttype": "application/json", "time": _utc(ev["lastUpdated"]),
                    "intuitentityid": ev["id"], "intuitaccountid": ev["realm"]}
            if ev.get("deletedId"):
                item["data"] = {"deletedid": ev["deletedId"]}
            out.append(item)
        return out

    # ----- delivery --------------------------------------------------------------------------------------------
    def flush(self, force=True, send=None):
        """Deliver what waits now (every batch, and retries even when not due with `force`).
        Returns the HTTP status of each delivery attempt (None when no answer came).
        `send(url, body, headers) -> status` replaces the HTTP POST (tests that hand the
        delivery to the receiving code directly)."""
        with self.lock:
            if not self.url:
                return []
            events, self.outbox = self.outbox, []
            due = [r for r in self.retries if force or r["next_at"] <= self.clock.now()]
            self.retries = [r for r in self.retries if r not in due]
            url, verifier = self.url, self.verifier
            batches = [json.dumps(self.payload(events[i:i + MAX_EVENTS])).encode("utf-8")
                       for i in range(0, len(events), MAX_EVENTS)]
            jobs = [{"body": body, "attempt": 0, "events": len(events[i * MAX_EVENTS:(i + 1) * MAX_EVENTS])}
                    for i, body in enumerate(batches)] + due
        return [self._deliver(url, verifier, job, send) for job in jobs]

    def _deliver(self, url, verifier, job, send=None):
        headers = {"Content-Type": "application/cloudevents-batch+json" if self.format == "cloudevents"
                   else "application/json", "intuit-signature": sign(verifier, job["body"]),
                   "User-Agent": "QBOSimulator-Webhooks/1.0"}
        status, started = None, time.monotonic()
        try:
            if send is not None:
                status = send(url, job["body"], headers)
            else:
                request = urllib.request.Request(url, data=job["body"], method="POST", headers=headers)
                with urllib.request.urlopen(request, timeout=ACK_SECONDS) as answer:
                    status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            _log.info("webhook delivery to %s failed: %s", url, exc)
        elapsed = time.monotonic() - started
        job["attempt"] += 1
        job.setdefault("first_at", self.clock.now())
        late = elapsed > ACK_SECONDS
        ok = status is not None and 200 <= status < 300 and not late
        with self.lock:
            self.log.append({"time": self.clock.iso_seconds(), "url": url, "events": job["events"],
                             "attempt": job["attempt"], "status": status, "late": late,
                             "ms": int(elapsed * 1000)})
            del self.log[:-500]
            next_at = self.clock.now() + retry_delay(job["attempt"])
            if ok:
                self.sent += job["events"]
            elif next_at - job["first_at"] <= GIVE_UP_AFTER:
                job["next_at"] = next_at
                self.retries.append(job)
            else:
                _log.warning("webhook delivery of %d event(s) given up after %d attempts", job["events"],
                             job["attempt"])
        return None if late else status

    # ----- background delivery -------------------------------------------------------------------------------
    def _ensure_thread(self):
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="qbo-simulator-webhooks", daemon=True)
            self._thread.start()

    def stop(self):
        self._stopping.set()
        self._wake.set()

    def _run(self):
        while not self._stopping.is_set():
            self._wake.wait(0.2)
            self._wake.clear()
            with self.lock:
                if not self.auto or not self.url:
                    continue
                ready = bool(self.outbox) and time.monotonic() - self.outbox[0]["first"] >= self.window
                ready = ready or any(r["next_at"] <= self.clock.now() for r in self.retries)
            if ready:
                try:
                    self.flush(force=False)
                except Exception:  # noqa: BLE001 - the delivery thread must survive anything
                    _log.exception("webhook delivery failed")
