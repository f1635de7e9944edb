"""The HTTP server and the Simulator object that tests, scripts and the CLI drive."""
import collections
import contextlib
import json
import logging
import os
import re
import secrets
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import documents
from . import query as qparser
from . import schema
from . import web
from .clock import Clock
from .errors import QBOError, auth_body, business, system_error, throttle_error, throttle_xml, unsupported
from .limits import (DEFAULT_LIMITS, Counters, FaultPlan, IdempotencyCache, RateLimiter, Throttled)
from .metering import CORE, COREPLUS, Metering
from .oauth import DEFAULT_CLIENT_ID, OAuth, OAuthError
from .payables import DUPLICATE_BILL_PREF
from .seed import US_REALM, company_name, realm_ids, realm_number
from . import attachments
from .store import BY_LOWER, FAMILY, Company
from .webhooks import Webhooks

_log = logging.getLogger("qbo_simulator")
API_RE = re.compile(r"^/v3/company/([^/]+)/?(.*)$")
WRITE_KINDS = ("create", "update", "delete", "void")
MINOR_VERSION = 75   # since 2025-08-01 every lower minorversion, and none, is served as 75


class Response:
    def __init__(self, status=200, body=b"", content_type="application/json", headers=None, drop=None, delay=0.0):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = dict(headers or {})
        self.drop, self.delay = drop, delay
        self.code = None

    @classmethod
    def html(cls, text, status=200):
        return cls(status, text, "text/html; charset=utf-8")

    @classmethod
    def redirect(cls, location):
        return cls(302, b"", "text/plain", {"Location": location})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QBOSimulator/1.0"
    timeout = 300

    def log_message(self, fmt, *args):
        _log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        sim = self.server.sim
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            resp = sim.handle(method, self.path, self.headers, body)
        except Exception:  # the last net: never a stack trace to the client
            _log.error("unhandled error for %s %s\n%s", method, self.path, traceback.format_exc())
            resp = sim.fault_response(system_error())
        if resp.drop:
            if resp.delay:
                time.sleep(resp.delay)
            self.close_connection = True
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("intuit_tid", secrets.token_hex(16))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128   # the default 5 drops connections when many clients connect at once


class Simulator:
    def __init__(self, host="127.0.0.1", port=0, data_file=None, latency_ms=0, time_scale=1.0, limits=True,
                 autosave_s=30.0, realms=2, coreplus_allowance=None):
        self.host, self.port = host, port
        self.data_file = data_file
        self.autosave_s = autosave_s
        self._stopping = threading.Event()
        self.latency_ms = float(latency_ms or 0)
        self.clock = Clock(time_scale)
        # the US and Canadian companies, and with realms=N (--realms N) copies of them up to N
        self.companies = {realm: Company(realm, self.clock) for realm in realm_ids(realms)}
        self.webhooks = Webhooks(self.clock)
        for company in self.companies.values():
            company.listener = self.webhooks.on_write
        self.oauth = OAuth(self.clock)
        self.limiter = RateLimiter(self.clock)
        self.counters_ = Counters()
        self.idem = IdempotencyCache()
        self.metering = Metering(self.clock, coreplus_allowance)
        self.faults = {}
        self.log = collections.deque(maxlen=500)
        self.log_lock = threading.Lock()
        self._server = None
        self._thread = None
        if not limits:
            self.limiter.configure(enabled=False)
        if data_file and os.path.exists(data_file):
            self.load(data_file)

    # ----- lifecycle -------------------------------------------------------------------------------
    def start(self):
        self._server = _Server((self.host, self.port), Handler)
        self._server.sim = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="qbo-simulator", daemon=True)
        self._thread.start()
        self._stopping.clear()
        if self.data_file and self.autosave_s:
            threading.Thread(target=self._autosave, name="qbo-simulator-save", daemon=True).start()
        return self

    def _autosave(self):
        while not self._stopping.wait(self.autosave_s):
            try:
                self.save()
            except OSError:
                _log.exception("autosave to %s failed", self.data_file)

    def stop(self):
        self._stopping.set()
        self.webhooks.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self.data_file:
            self.save(self.data_file)

    def serve_forever(self):
        """Run in the foreground (the CLI); Ctrl-C stops and saves."""
        if self._server is None:
            self.start()
        try:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
                while True:
                    time.sleep(3600)
        finally:
            self.stop()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def discovery_url(self):
        return self.url + "/.well-known/openid_configuration"

    @property
    def api_base(self):
        return self.url + "/v3"

    # ----- Python interface ---------------------------------------------------------------------------
    def reset(self):
        for company in self.companies.values():
            company.reset()
        self.oauth.reset(keep_apps=True)
        self.limiter.reset()
        self.limiter.configure(**DEFAULT_LIMITS)
        self.counters_.reset()
        self.idem.reset()
        self.metering.reset()
        self.faults = {}
        self.webhooks.reset()
        self.clock.reset()
        with self.log_lock:
            self.log.clear()

    def advance(self, seconds):
        self.clock.advance(seconds)

    def set_time_scale(self, time_scale):
        self.clock.set_scale(time_scale)

    def register_app(self, client_id, client_secret, redirect_uris):
        self.oauth.register_app(client_id, client_secret, redirect_uris)

    def issue_tokens(self, realm_id, client_id=DEFAULT_CLIENT_ID):
        self._company(realm_id)
        return self.oauth.issue(realm_id, client_id)

    def set_faults(self, realm_id, latency_ms=0, error_rate=0.0, timeout_rate=0.0, lost_rate=0.0,
                   throttle_rate=0.0, seed=None, timeout_s=5.0):
        self._company(realm_id)
        self.faults[realm_id] = FaultPlan(latency_ms, error_rate, timeout_rate, lost_rate, throttle_rate,
                                          seed, timeout_s)

    def set_limits(self, per_minute=500, concurrent=10, batch_per_minute=40, batch_items=30, enabled=True,
                   realm_batch_per_minute=120):
        """Intuit's limits: per realm and app (per_minute, concurrent, batch_per_minute, batch_items), and
        per realm whatever the app (realm_batch_per_minute)."""
        self.limiter.configure(per_minute=per_minute, concurrent=concurrent, batch_per_minute=batch_per_minute,
                               batch_items=batch_items, enabled=enabled, realm_batch_per_minute=realm_batch_per_minute)

    def counters(self, realm_id=None):
        return self.counters_.snapshot(realm_id)

    def usage(self, realm_id=None):
        """Metered calls: {month: {"core", "coreplus"}} of one realm, or every realm and the allowance."""
        return self.metering.usage(realm_id)

    def set_coreplus_allowance(self, allowance):
        """Monthly CorePlus allowance per realm (None: unlimited); past it CorePlus calls answer 429."""
        self.metering.set_allowance(allowance)

    def set_refresh_hard_expiry(self, realm_id, seconds):
        """Refresh tokens of the realm's current grants expire for good `seconds` from now (simulated)."""
        self._company(realm_id)
        self.oauth.set_hard_expiry(realm_id, self.clock.now() + float(seconds))

    def close_books(self, realm_id, date, password=False):
        """QuickBooks' "Close the books": transactions dated on or before `date` (ISO) answer 6200 (6210 with a
        password) to any write; None opens the books again."""
        self._company(realm_id).close_books(date, password)

    def warn_duplicate_bill_numbers(self, realm_id, on=True):
        """QuickBooks' "Warn if duplicate bill number is used": while on (the default) a vendor's bill number
        used twice answers 6140."""
        self._company(realm_id).set_other_pref(DUPLICATE_BILL_PREF, "true" if on else "false")

    def entities(self, realm_id, entity):
        return self._company(realm_id).entities(self._entity_name(entity))

    def revoke_all(self, realm_id):
        self.oauth.revoke_realm(realm_id)

    def company_names(self):
        return [(realm, self.companies[realm].info.get("CompanyName", company_name(realm)))
                for realm in self.companies]

    def request_log(self):
        with self.log_lock:
            return list(self.log)

    def _company(self, realm_id):
        company = self.companies.get(str(realm_id))
        if company is None:
            raise KeyError("unknown realm %r" % realm_id)
        return company

    @staticmethod
    def _entity_name(entity):
        name = BY_LOWER.get(str(entity).lower())
        if name is None:
            raise KeyError("unknown entity %r" % entity)
        return name

    # ----- persistence --------------------------------------------------------------------------------
    def save(self, path=None):
        path = path or self.data_file
        state = {"version": 1, "clock_offset": self.clock.offset,
                 "companies": {realm: c.dump() for realm, c in self.companies.items()},
                 "oauth": self.oauth.dump(), "idempotency": self.idem.dump(), "metering": self.metering.dump()}
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(tmp, path)
        return path

    def load(self, path):
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        for realm, company_state in state.get("companies", {}).items():
            if realm not in self.companies and realm_number(realm) is not None:
                self.companies[realm] = Company(realm, self.clock)   # saved by a run with more --realms
                self.companies[realm].listener = self.webhooks.on_write
            if realm in self.companies:
                self.companies[realm].load(company_state)
        self.oauth.load(state.get("oauth", {}))
        self.idem.load(state.get("idempotency"))
        self.metering.load(state.get("metering"))
        self.clock.advance(state.get("clock_offset", 0) - self.clock.offset)

    # ----- HTTP plumbing -----------------------------------------------------------------------------------
    def now_text(self):
        return self.clock.iso()

    def fault_response(self, err, headers=None):
        body = {"Fault": err.fault(), "time": self.now_text()}
        resp = Response(err.status, body, headers=dict(err.headers, **(headers or {})))
        resp.code = err.code
        return resp

    def _record(self, realm, method, path, resp, params):
        entry = {"time": self.clock.iso_seconds(), "realm": realm or "", "method": method, "path": path,
                 "status": "dropped" if resp.drop else resp.status, "code": resp.code,
                 "requestid": params.get("requestid"), "minorversion": self.minor_version(params.get("minorversion")),
                 "minorversion_asked": params.get("minorversion")}
        with self.log_lock:
            self.log.append(entry)

    def handle(self, method, raw_path, headers, body):
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        match = API_RE.match(path)
        if match:
            realm = match.group(1)
            resp = self._api(method, realm, match.group(2).strip("/"), params, headers, body)
            if resp.code and resp.status != 429:
                self.counters_.add(realm, "faults")
            self._record(realm, method, url.path, resp, params)
            return resp
        if path.startswith("/admin/"):
            return self._admin(method, path[len("/admin/"):], params, body)
        base = self._base_url(headers)
        if path in ("/.well-known/openid_configuration", "/.well-known/openid-configuration"):
            return Response(200, self.discovery(base))
        if path in ("/connect/oauth2", "/connect/oauth2/approve"):
            return self._authorize(method, params, body)
        if path == "/oauth2/v1/tokens/bearer":
            return self._token(headers, body)
        if path == "/v2/oauth2/tokens/revoke":
            return self._revoke(headers, body)
        if path == "/v1/openid_connect/userinfo":
            realm, detail = self.oauth.bearer(headers.get("Authorization"))
            if detail:
                return Response(401, {"error": "invalid_token", "error_description": detail})
            return Response(200, {"sub": "sim-user-" + realm, "email": "demo@example.com", "emailVerified": True,
                                  "givenName": "Demo", "familyName": "User"})
        if path == "/op/v1/jwks":
            return Response(200, {"keys": []})
        if path == "/":
            return Response.html(web.dashboard(self))
        if method == "POST" and path.startswith("/company/"):
            status, text = web.page_action(self, path, body)
            if status == 303:
                return Response(303, b"", "text/plain", {"Location": text})
            return Response.html(web.error_page(text), status)
        return self._record_pages(path, params)

    @staticmethod
    def minor_version(asked):
        """The minorversion a request is served with: 75 for anything lower or absent, else the one asked."""
        try:
            return max(MINOR_VERSION, int(asked))
        except (TypeError, ValueError):
            return MINOR_VERSION

    def _base_url(self, headers):
        host = headers.get("Host")
        return "http://" + host if host else self.url

    @staticmethod
    def discovery(base):
        return {"issuer": base, "authorization_endpoint": base + "/connect/oauth2",
                "token_endpoint": base + "/oauth2/v1/tokens/bearer",
                "userinfo_endpoint": base + "/v1/openid_connect/userinfo",
                "revocation_endpoint": base + "/v2/oauth2/tokens/revoke", "jwks_uri": base + "/op/v1/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone",
                                     "com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]}

    def _record_pages(self, path, params):
        parts = path.strip("/").split("/")
        entity, rid, realm = None, None, params.get("realmId")
        if len(parts) == 4 and parts[0] == "company":
            realm, entity, rid = parts[1], BY_LOWER.get(parts[2].lower()), parts[3]
        elif parts == ["app", "attachment"] and params.get("realmId") in self.companies:
            found = attachments.content(self.companies[params["realmId"]], params.get("id"))
            if found:
                name, ctype, data = found
                return Response(200, data, ctype, {"Content-Disposition": 'inline; filename="%s"' % name})
        elif len(parts) == 2 and parts[0] == "app" and parts[1].lower() in web.ENTITY_PAGES:
            entity = web.ENTITY_PAGES[parts[1].lower()]
            rid = params.get("txnId") or params.get("nameId") or params.get("itemId")
        if entity and rid:
            text = web.record_page(self, entity, rid, realm)
            if text:
                return Response.html(text)
            return Response.html(web.page("Not found", "<h1>%s %s was not found</h1><p><a href='/'>Back</a></p>"
                                          % (web.esc(entity), web.esc(rid))), 404)
        return Response.html(web.page("Not found", "<h1>Not found</h1><p><a href='/'>Back</a></p>"), 404)

    # ----- OAuth endpoints -----------------------------------------------------------------------------
    def _authorize(self, method, params, body):
        self.counters_.add(None, "authorize")
        if method == "POST":
            params = dict(params)
            params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        problem = self.oauth.check_client(params.get("client_id"), params.get("redirect_uri"))
        if problem:
            return Response.html(web.error_page(problem), 400)
        if params.get("response_type", "code") != "code":
            return Response.html(web.error_page("response_type must be code"), 400)
        if method != "POST":
            return Response.html(web.consent_page(params, self.company_names()))
        redirect, state = params["redirect_uri"], params.get("state", "")
        if params.get("action") == "cancel":
            return Response.redirect(web.redirect_url(redirect, {"error": "access_denied", "state": state}))
        realm = params.get("realmId") or US_REALM
        if realm not in self.companies:
            return Response.html(web.error_page("Unknown company %s" % realm), 400)
        code = self.oauth.new_code(params["client_id"], redirect, realm)
        return Response.redirect(web.redirect_url(redirect, {"code": code, "state": state, "realmId": realm}))

    def _token(self, headers, body):
        self.counters_.add(None, "token")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        try:
            hard = (headers.get("x-include-refresh-token-hard-expires-in") or "").strip().lower() == "true"
            return Response(200, self.oauth.token(headers.get("Authorization"), form, include_hard_expiry=hard),
                            headers={"Cache-Control": "no-store"})
        except OAuthError as exc:
            return Response(exc.status, exc.body)

    def _revoke(self, headers, body):
        """The token comes as JSON (intuit-oauth) or form-encoded (RFC 7009)."""
        text = body.decode("utf-8", "replace").strip()
        try:
            token = json.loads(text).get("token") if text.startswith("{") else \
                {k: v[-1] for k, v in parse_qs(text).items()}.get("token")
        except (ValueError, AttributeError):
            token = None
        try:
            self.oauth.revoke(headers.get("Authorization"), token)
        except OAuthError as exc:
            return Response(exc.status, exc.body)
        return Response(200, b"", "text/plain")

    # ----- the accounting API -----------------------------------------------------------------------------
    def _api(self, method, realm, rest, params, headers, body):
        self.counters_.add(realm, "total")
        token_realm, detail, app = self.oauth.bearer_app(headers.get("Authorization"))
        if detail:
            self.counters_.add(realm, "unauthorized")
            resp = Response(401, auth_body(detail, int(self.clock.now() * 1000)),
                            headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
            resp.code = "3200"
            return resp
        if realm not in self.companies or token_realm != realm:
            return self.fault_response(QBOError(
                "3100", "ApplicationAuthorizationFailed: the access token does not grant access to company %s"
                % realm, status=403, ftype="AuthorizationFault"))
        segments = [s for s in rest.split("/") if s]
        is_batch = bool(segments) and segments[0].lower() == "batch"
        try:
            self.limiter.acquire((realm, app), is_batch)
        except Throttled as exc:
            self.counters_.add(realm, "throttled")
            return self.fault_response(throttle_error(), {"Retry-After": str(exc.retry_after)})
        try:
            plan = self.faults.get(realm)
            latency = self.latency_ms + (plan.latency_ms if plan else 0)
            if latency:
                time.sleep(latency / 1000.0)
            if plan:
                injected = self._inject(realm, plan)
                if injected:
                    return injected
            resp = self._api_call(method, realm, segments, params, headers, body)
            if plan and plan.roll(plan.lost_rate):
                self.counters_.add(realm, "lost")
                resp.drop = "lost"
            return resp
        except QBOError as err:
            return self.fault_response(err)
        finally:
            self.limiter.release((realm, app))

    def _inject(self, realm, plan):
        if plan.roll(plan.throttle_rate):
            self.counters_.add(realm, "injected_429")
            self.counters_.add(realm, "throttled")
            if plan.next_throttle_is_xml():
                resp = Response(429, throttle_xml(self.now_text()), "application/xml", {"Retry-After": "1"})
                resp.code = "3001"
                return resp
            return self.fault_response(throttle_error(), {"Retry-After": "1"})
        if plan.roll(plan.error_rate):
            self.counters_.add(realm, "injected_5xx")
            if plan.roll(0.5):
                return Response(503, "<html><body><h1>503 Service Unavailable</h1></body></html>",
                                "text/html", {"Retry-After": "1"})
            return self.fault_response(system_error("System Failure Error: injected fault"))
        if plan.roll(plan.timeout_rate):
            self.counters_.add(realm, "timeouts")
            return Response(504, drop="timeout", delay=plan.timeout_s)
        return None

    def _api_call(self, method, realm, segments, params, headers, body):
        company = self.companies[realm]
        if not segments:
            raise unsupported("Operation Could not find resource for relative : /v3/company/%s" % realm)
        head = segments[0].lower()
        nowhere = unsupported("Operation Could not find resource for relative : /%s of full path: /v3/company/%s/%s"
                              % ("/".join(segments), realm, "/".join(segments)))
        entity = BY_LOWER.get(head)
        if head in ("query", "cdc", "batch") and len(segments) > 1:
            raise nowhere
        if head == "query":
            self.metering.charge(realm, COREPLUS)
            self.counters_.add(realm, "query")
            text = params.get("query") if method == "GET" else body.decode("utf-8", "replace")
            return self._ok({"QueryResponse": company.query(text or params.get("query", ""))})
        if head == "cdc" and method == "GET":
            self.metering.charge(realm, COREPLUS)
            self.counters_.add(realm, "cdc")
            return self._ok({"CDCResponse": [{"QueryResponse": self._cdc(company, params)}]})
        if head == "upload" and method == "POST":
            self.counters_.add(realm, "upload")
            return self._idempotent(company, params, lambda: attachments.upload(company, body), 50)
        if head == "batch" and method == "POST":
            self.counters_.add(realm, "batch")
            request_id = params.get("requestid")
            return self._idempotent(company, params, lambda: self._batch(company, self._json(body), request_id), 36)
        if entity is None or len(segments) > 3:
            raise nowhere
        document = segments[2].lower() if len(segments) == 3 else None
        if document and not (entity in documents.DOCUMENT_ENTITIES
                             and (document, method) in (("pdf", "GET"), ("send", "POST"))):
            raise nowhere
        if method == "GET":
            rid = segments[1] if len(segments) > 1 else ("1" if entity in ("Preferences", "CompanyInfo") else None)
            if rid is None:
                raise unsupported("Operation GET without an id is not supported for %s." % entity)
            self._check_id(entity, rid)
            self.metering.charge(realm, COREPLUS)
            self.counters_.add(realm, "read")
            if document == "pdf":
                if not documents.accepts_pdf(headers.get("Accept")):
                    raise unsupported("Operation pdf answers application/pdf; the request accepts only %s."
                                      % headers.get("Accept"))
                return Response(200, documents.pdf(company, entity, rid), "application/pdf")
            return self._ok({entity: company.read(entity, rid)})
        if method != "POST":
            raise unsupported("Method %s is not supported." % method)
        if document == "send":
            self._check_id(entity, segments[1])

            def send():
                self.metering.charge(realm, CORE)
                answer = documents.send(company, entity, segments[1], params.get("sendTo"))
                self.counters_.add(realm, "send")
                return {entity: answer}
            return self._idempotent(company, params, send, 50)
        if len(segments) > 1:
            raise nowhere

        def write():
            self.metering.charge(realm, CORE)
            kind, answer = company.write(entity, self._json(body), params.get("operation"), params.get("include"))
            self.counters_.add(realm, kind)
            return {entity: answer}
        return self._idempotent(company, params, write, 50)

    @staticmethod
    def _check_id(entity, rid):
        """QBO ids are numbers (the US pseudo tax codes TAX and NON aside): anything else answers 2030."""
        if entity in ("TaxCode", "CompanyInfo", "Preferences") or rid.isdigit():
            return
        raise QBOError("2030", "Invalid ID : Id should be a valid number. Supplied value:%s" % rid, "id")

    def _cdc(self, company, params):
        names = [n.strip() for n in params.get("entities", "").split(",") if n.strip()]
        if not names:
            raise QBOError("2020", "Required parameter entities is missing in the request", "entities")
        try:
            since = qparser.time_key(params.get("changedSince", ""))
        except ValueError:
            raise QBOError("2020", "Required parameter changedSince is missing or not a date/time",
                           "changedSince") from None
        since = max(since, self.clock.now() - 30 * 86400)
        answers, budget = [], 1000
        for name in names:
            entity = BY_LOWER.get(name.lower())
            if entity is None:
                raise QBOError("2010", "Unknown entity %s in entities" % name, "entities")
            rows = company.changed_since(entity, since)[:budget]
            budget -= len(rows)
            answers.append({entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
        return answers

    def _ok(self, payload):
        payload["time"] = self.now_text()
        return Response(200, payload)

    @staticmethod
    def _json(body):
        try:
            return json.loads(body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise QBOError("2010", "Request has invalid or unsupported property: malformed JSON (%s)" % exc,
                           message="Request has invalid or unsupported property") from None

    def _idempotent(self, company, params, run, max_len):
        request_id = params.get("requestid")
        if request_id and len(request_id) > max_len:
            raise business("Business Validation Error: You cannot enter more than %d characters in the "
                           "request_id field. You tried entering %s, which is %d characters."
                           % (max_len, request_id[:10] + "...", len(request_id)))
        with company.lock:
            if request_id:
                cached = self.idem.get(company.realm, request_id)
                if cached is not None:
                    self.counters_.add(company.realm, "replayed")
                    resp = Response(cached[0], cached[1])
                    resp.code = cached[2]
                    return resp
            try:
                resp = self._ok(run())
            except QBOError as err:
                if err.code == "10000":
                    raise
                resp = self.fault_response(err)
            if request_id:
                self.idem.put(company.realm, request_id, resp.status, json.loads(resp.body), resp.code)
            return resp

    def _batch(self, company, payload, request_id=None):
        items = payload.get("BatchItemRequest") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise QBOError("2020", "Required parameter BatchItemRequest is missing in the request",
                           "BatchItemRequest")
        limit = self.limiter.config["batch_items"]
        if self.limiter.config["enabled"] and len(items) > limit:
            raise QBOError("2000", "Batch request has %d BatchItemRequest items; at most %d are allowed."
                           % (len(items), limit), "BatchItemRequest")
        self.counters_.add(company.realm, "batch_items", len(items))
        answers = []
        with company.lock:
            company.batch_begin()
            try:
                for item in items:
                    bid = item.get("bId") if isinstance(item, dict) else None
                    try:
                        if request_id and len(request_id) + len(str(bid or "")) > 50:
                            # QBO joins requestid and bId into one id of at most 50 characters
                            raise business("Business Validation Error: requestid and bId together are longer than "
                                           "50 characters (%d + %d)." % (len(request_id), len(str(bid or ""))))
                        answers.append(dict(self._batch_item(company, item), bId=bid))
                    except QBOError as err:
                        answers.append({"bId": bid, "Fault": err.fault()})
            finally:
                company.batch_end()
        return {"BatchItemResponse": answers}

    def _batch_item(self, company, item):
        if not isinstance(item, dict):
            raise QBOError("2010", "BatchItemRequest entries must be objects")
        schema.check_batch_item(item, FAMILY)
        if "Query" in item:
            self.metering.charge(company.realm, COREPLUS)   # each item is metered like a call of its own
            return {"QueryResponse": company.query(item["Query"])}
        entity = next((key for key in item if key in FAMILY), None)
        if entity is None:
            raise QBOError("2010", "Batch item has no entity to %s" % item.get("operation", "create"))
        operation = item.get("operation", "create")
        if operation not in ("create", "update", "delete"):
            raise unsupported("Batch operation %s is not supported." % operation)
        self.metering.charge(company.realm, CORE)
        return {entity: company.write(entity, item[entity], operation, item.get("include"))[1]}

    # ----- admin ------------------------------------------------------------------------------------------
    def _admin(self, method, action, params, body):
        try:
            data = json.loads(body.decode("utf-8") or "{}") if body else {}
        except ValueError as exc:
            return Response(400, {"error": "malformed JSON: %s" % exc})
        data = dict(params, **data) if isinstance(data, dict) else dict(params)
        try:
            return Response(200, self._admin_action(method, action, data))
        except (KeyError, ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)})

    def _admin_action(self, method, action, data):
        realm = data.get("realm_id")
        if action == "reset":
            self.reset()
        elif action == "advance":
            self.advance(float(data.get("seconds", 0)))
        elif action == "time_scale":
            self.set_time_scale(float(data["time_scale"]))
        elif action == "apps":
            if method == "GET":
                return self.oauth.apps
            self.register_app(data["client_id"], data["client_secret"], data.get("redirect_uris") or [])
        elif action == "tokens":
            return self.issue_tokens(realm, data.get("client_id", DEFAULT_CLIENT_ID))
        elif action == "faults":
            if method == "GET":
                return {r: p.settings() for r, p in self.faults.items()}
            self.set_faults(realm, **{k: v for k, v in data.items() if k != "realm_id"})
        elif action == "limits":
            if method == "GET":
                return self.limiter.config
            self.limiter.configure(**data)
        elif action == "realms":
            return [{"realm_id": r, "name": name} for r, name in self.company_names()]
        elif action == "counters":
            return self.counters(realm or None)
        elif action == "usage":
            if method == "POST":
                self.set_coreplus_allowance(data.get("coreplus_allowance"))
            return self.usage(realm or None)
        elif action == "close_books":
            self.close_books(realm, data.get("date"), str(data.get("password", False)).lower() in ("true", "1"))
        elif action == "duplicate_bill_numbers":
            self.warn_duplicate_bill_numbers(realm, str(data.get("warn", True)).lower() not in ("false", "0", ""))
        elif action == "refresh_hard_expiry":
            self.set_refresh_hard_expiry(realm, float(data["seconds"]))
        elif action == "entities":
            return self.entities(realm, data.get("entity", "Customer"))
        elif action == "revoke":
            self.revoke_all(realm)
        elif action == "save":
            return {"ok": True, "path": self.save(data.get("path"))}
        elif action == "log":
            return self.request_log()
        elif action == "webhooks":
            if method == "POST":
                self.webhooks.configure(data["url"], data["verifier"], data.get("format", "cloudevents"),
                                        float(data.get("window", 1.0)),
                                        str(data.get("auto", True)).lower() not in ("false", "0", ""))
            return self.webhooks.settings()
        elif action == "webhooks/flush":
            return {"statuses": self.webhooks.flush()}
        else:
            raise KeyError("unknown admin action %r" % action)
        return {"ok": True, "time": self.now_text()}
