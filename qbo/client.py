"""The QBO Accounting API v3 client: one ``requests.Session``, typed errors, safe retries.

Why the retry loop is written here rather than left to ``urllib3.util.Retry``
mounted on the session (we borrow its ideas: exponential backoff with a cap,
``Retry-After`` honoured, a status allow-list):

* **Writes and requestid.** QBO makes a write idempotent through the
  ``requestid`` query parameter: a repeated id returns the first answer and does
  nothing new. ``Retry`` would never retry a POST unless told to, and then it
  could not guarantee that the id was generated once per logical write rather
  than per attempt. Here the id is fixed before the first attempt and every
  retry (after a 5xx, a 429, a timeout, a dropped connection or a 401 refresh)
  sends the very same URL.
* **401 means refresh, once.** The retry must carry a NEW ``Authorization``
  header obtained from the caller's refresh callback (which persists rotated
  tokens under a lock); ``Retry`` replays the same prepared request.
* **Throttles come in XML.** A 429 body may be
  ``<IntuitResponse><Fault><Error code="3001">`` even when JSON was asked for,
  sometimes a 403 says ThrottleExceeded; the decision needs the parsed fault.
* **The caller decides how long a wait may be.** With ``max_retry_after`` a long
  ``Retry-After`` raises :class:`ThrottledError` instead of blocking an Odoo
  worker, and a shared ``rate_limiter`` is consulted before every attempt.
* ``sleep`` is injectable so tests run instantly and can see each delay.

Reads and queries are retried as well: they change nothing.
"""
import contextlib
import email.utils
import hashlib
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3 import encode_multipart_formdata

from .errors import (AuthenticationError, ConnectionConfigError, QBOError, ThrottledError,
                     TransientError, UnexpectedAnswerError, error_from_fault)
from .hosts import HostRule
from .query import check_entity, select as build_select
from .redact import redact, register_secret

_logger = logging.getLogger(__name__)

REQUESTID_MAX = 50
BATCH_REQUESTID_MAX = 36
BATCH_SIZE = 30
USER_AGENT = "qbo-financial-hub/18.0 (+python-requests)"

_NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError,
                   requests.exceptions.ChunkedEncodingError)


def new_requestid():
    """A fresh requestid (uuid4, 36 characters: valid for single writes and batches)."""
    return str(uuid.uuid4())


def fit_requestid(requestid, limit=REQUESTID_MAX):
    """``requestid`` as is when it fits ``limit``; otherwise a deterministic digest of it.

    Deterministic, so the same logical write always maps to the same id.
    """
    requestid = str(requestid)
    if len(requestid) <= limit:
        return requestid
    return hashlib.sha256(requestid.encode("utf-8")).hexdigest()[:limit]


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None or value == "":
        return None
    with contextlib.suppress(ValueError):  # not delta-seconds: an HTTP date
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass
class BatchItemResult:
    """The answer to one batch item: ``data`` (entity dict or QueryResponse) or ``error``.

    ``answered`` is False when the batch request as a whole got no answer of QBO's for its
    items (timeout, lost answer, 5xx, 401, 429): it may or may not have been carried out, and
    only a re-send with the same requestid tells which without creating twice."""
    bId: str
    entity: str = None
    data: dict = None
    error: QBOError = None
    answered: bool = True

    @property
    def ok(self):
        return self.error is None


class QBOClient:
    """A client for one QBO company (realm). Not thread-safe: one per thread/worker.

    See the module docstring for the retry policy. ``refresh`` is a callable
    returning a new access token (called at most once per request, on a 401);
    ``rate_limiter.acquire(kind)`` runs before every HTTP attempt with kind
    "request" or "batch"; ``on_request(method, path, status, elapsed_s, kind)``
    is told about every attempt (status None when no answer came).

    ``allowed_hosts``: hosts besides Intuit's and loopback ones the base URL may be on
    (:class:`qbo.hosts.HostRule`); the token is never sent anywhere else, redirects included
    (none is followed).
    """

    def __init__(self, realm_id, base_url, access_token, refresh=None, timeout=30, max_retries=5,
                 backoff_base=0.5, backoff_cap=60.0, minorversion=75, session=None,
                 sleep=time.sleep, rate_limiter=None, on_request=None, max_retry_after=None,
                 on_usage=None, allowed_hosts=()):
        if not realm_id:
            raise ConnectionConfigError("No QuickBooks company (realm id) is configured", code="config")
        parts = urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConnectionConfigError("Invalid QuickBooks API base URL %r" % (base_url,), code="config")
        if not access_token and refresh is None:
            raise ConnectionConfigError("No access token: connect to QuickBooks Online first",
                                        code="config")
        self.realm_id = str(realm_id)
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v3"):
            self.base_url = self.base_url[:-3]
        self.allowed_hosts = tuple(allowed_hosts or ())
        self.host_rule = HostRule(self.allowed_hosts)
        self.host_rule.check(self.base_url, "The QuickBooks API base URL")
        self.access_token = register_secret(access_token)
        self.refresh = refresh
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.minorversion = minorversion
        self.session = session if session is not None else requests.Session()
        self.sleep = sleep
        self.rate_limiter = rate_limiter
        self.on_request = on_request
        # Intuit meters reads, queries and CDC ("CorePlus", each batch item counts) and not writes
        # ("Core"): every answered attempt is counted here and told to on_usage(reads, writes)
        self.on_usage = on_usage
        self.usage = {"reads": 0, "writes": 0}
        self.max_retry_after = max_retry_after
        self.random = random.Random()

    def __repr__(self):
        return "QBOClient(realm_id=%r, base_url=%r)" % (self.realm_id, self.base_url)

    def close(self):
        self.session.close()

    # ------------------------------------------------------------------ transport

    def _url(self, path):
        return "%s/v3/company/%s/%s" % (self.base_url, self.realm_id, path)

    def _refresh_access_token(self):
        token = self.refresh()
        if not token:
            raise AuthenticationError("The token refresh gave no access token", code="3200")
        self.access_token = register_secret(token)

    def _notify(self, method, path, status, elapsed, kind):
        if self.on_request is not None:
            try:
                self.on_request(method, path, status, elapsed, kind)
            except Exception:  # a broken counter must not break the sync
                _logger.exception("on_request callback failed")

    def _error_from_response(self, resp):
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return error_from_fault(resp.content, status=resp.status_code,
                                intuit_tid=resp.headers.get("intuit_tid"), retry_after=retry_after)

    def _attempt(self, method, path, params, headers, body, kind):
        """One HTTP attempt: (response, None) or (None, TransientError) for network trouble.

        ``rate_limiter.acquire(kind)`` runs before it and, when the limiter has one,
        ``rate_limiter.release()`` once its answer is in (or lost): the in-flight count."""
        url = self.host_rule.check(self._url(path), "A QuickBooks API request")
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(kind)
        headers = dict(headers, Authorization="Bearer %s" % self.access_token)
        start = time.monotonic()
        try:
            resp = self.session.request(method, url, params=params, data=body, headers=headers,
                                        timeout=self.timeout, allow_redirects=False)
        except _NETWORK_ERRORS as exc:
            self._notify(method, path, None, time.monotonic() - start, kind)
            code = "timeout" if isinstance(exc, requests.Timeout) else "connection"
            return None, TransientError("No answer from QuickBooks Online (%s: %s)"
                                        % (code, exc.__class__.__name__), code=code)
        finally:
            release = getattr(self.rate_limiter, "release", None)
            if release is not None:
                release()
        self._notify(method, path, resp.status_code, time.monotonic() - start, kind)
        return resp, None

    def _parse_success(self, resp):
        """The JSON body of a 2xx answer, or the error it hides."""
        tid = resp.headers.get("intuit_tid")
        try:
            body = resp.json()
        except ValueError:
            return None, TransientError("QuickBooks Online sent an unreadable answer",
                                        code="invalid_response", status=resp.status_code,
                                        intuit_tid=tid)
        if isinstance(body, dict) and ("Fault" in body or "fault" in body):
            return None, error_from_fault(body, status=resp.status_code, intuit_tid=tid)
        return body, None

    def _delay(self, error, attempt):
        """Seconds to wait before retry number ``attempt`` (0-based); raises when too long.

        A ``Retry-After`` from the server (429 or 5xx) is used as is; otherwise
        exponential backoff with jitter.
        """
        retry_after = error.retry_after
        if retry_after is not None:
            if self.max_retry_after is not None and retry_after > self.max_retry_after:
                raise error
            return retry_after
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        return ceiling / 2 + self.random.uniform(0, ceiling / 2)  # "equal jitter"

    def _meter(self, usage):
        reads, writes = usage
        self.usage["reads"] += reads
        self.usage["writes"] += writes
        if self.on_usage is not None and (reads or writes):
            try:
                self.on_usage(reads, writes)
            except Exception:  # a broken counter must not break the sync
                _logger.exception("on_usage callback failed")

    def _request(self, method, path, params=None, json_body=None, text_body=None,
                 kind="request", requestid=None, usage=None, multipart=None):
        """Send with retries; return (json body, intuit_tid). Raises a :class:`QBOError`."""
        query = {"minorversion": self.minorversion}
        query.update(params or {})
        if requestid is not None:
            query["requestid"] = requestid
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        body = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body).encode("utf-8")
        elif text_body is not None:
            headers["Content-Type"] = "application/text"
            body = text_body.encode("utf-8")
        elif multipart is not None:
            body, headers["Content-Type"] = encode_multipart_formdata(multipart)
        if not self.access_token:
            self._refresh_access_token()
        refreshed = False
        attempt = 0
        while True:
            resp, error = self._attempt(method, path, query, headers, body, kind)
            if resp is not None and resp.status_code not in (401, 429):
                self._meter(usage or ((1, 0) if method == "GET" or path == "query" else (0, 1)))
            if resp is not None and resp.status_code < 300:
                data, error = self._parse_success(resp)
                if error is None:
                    return data, resp.headers.get("intuit_tid")
            elif resp is not None and resp.status_code < 400:
                # never followed: the token would go wherever the answer points
                raise ConnectionConfigError("QuickBooks Online answered with a redirect (HTTP %s), which is not "
                                            "followed" % resp.status_code, code="redirect",
                                            status=resp.status_code)
            elif resp is not None:
                if resp.status_code == 401 and self.refresh is not None and not refreshed:
                    refreshed = True
                    _logger.info("QBO %s %s: 401, refreshing the access token", method, path)
                    self._refresh_access_token()
                    continue
                error = self._error_from_response(resp)
            if not isinstance(error, TransientError) or attempt >= self.max_retries:
                raise error
            delay = self._delay(error, attempt)
            attempt += 1
            _logger.warning("QBO %s %s failed (%s); retry %d/%d in %.2fs", method, path,
                            redact(error), attempt, self.max_retries, delay)
            self.sleep(delay)

    # ------------------------------------------------------------------ entities

    def _write(self, entity, payload, requestid, operation=None):
        check_entity(entity)
        requestid = new_requestid() if requestid is None else fit_requestid(requestid)
        params = {"operation": operation} if operation else None
        data, _tid = self._request("POST", entity.lower(), params=params, json_body=payload,
                                   requestid=requestid)
        return data.get(entity, data)

    def read(self, entity, id):
        """GET one entity by Id; returns the inner entity dict."""
        check_entity(entity)
        data, _tid = self._request("GET", "%s/%s" % (entity.lower(), id))
        return data.get(entity, data)

    def create(self, entity, payload, requestid=None):
        """Create; ``requestid`` (<= 50 chars, longer ones are hashed) makes it idempotent."""
        return self._write(entity, payload, requestid)

    def update(self, entity, payload, sparse=True, requestid=None):
        """Update; ``payload`` needs ``Id`` and the current ``SyncToken``."""
        if not payload.get("Id") or payload.get("SyncToken") in (None, ""):
            raise ValueError("an update needs Id and SyncToken")
        return self._write(entity, dict(payload, sparse=bool(sparse)), requestid)

    def delete(self, entity, id, sync_token, requestid=None):
        """Delete a transaction (name lists are made inactive with an update instead)."""
        return self._write(entity, {"Id": str(id), "SyncToken": str(sync_token)}, requestid,
                           operation="delete")

    def void(self, entity, id, sync_token, requestid=None):
        """Void a transaction (Invoice, Payment, SalesReceipt...)."""
        return self._write(entity, {"Id": str(id), "SyncToken": str(sync_token)}, requestid,
                           operation="void")

    def upload(self, file_name, content, content_type, attachable, requestid=None):
        """Upload a file with its Attachable metadata (which links it to entities) as QuickBooks'
        /upload expects: a multipart request of two parts, file_metadata_01 (the Attachable as
        JSON) and file_content_01 (the file). Returns the Attachable created."""
        requestid = new_requestid() if requestid is None else fit_requestid(requestid)
        metadata = dict(attachable, FileName=file_name, ContentType=content_type)
        parts = {"file_metadata_01": ("attachment.json", json.dumps(metadata).encode("utf-8"), "application/json"),
                 "file_content_01": (file_name, content, content_type)}
        data, tid = self._request("POST", "upload", multipart=parts, requestid=requestid, kind="upload")
        answers = (data or {}).get("AttachableResponse") or [{}]
        first = answers[0]
        if "Fault" in first:
            raise error_from_fault({"Fault": first["Fault"]}, status=400, intuit_tid=tid)
        return first.get("Attachable", first)

    # ------------------------------------------------------------------ queries

    def query(self, sql):
        """Run a query (POSTed as text, so long IN lists fit); returns the QueryResponse dict (its
        shape checked: every list in it is a list of rows)."""
        data, tid = self._request("POST", "query", text_body=sql)
        response = data.get("QueryResponse", {}) if isinstance(data, dict) else None
        if not isinstance(response, dict) or any(
                isinstance(value, list) and not all(isinstance(row, dict) for row in value)
                or key[:1].isupper() and not isinstance(value, list) for key, value in response.items()):
            raise UnexpectedAnswerError("QuickBooks Online sent a query answer of an unexpected shape",
                                        raw=data, intuit_tid=tid)
        return response

    def query_rows(self, sql):
        """The rows of a query: the first list in the QueryResponse ([] when none)."""
        response = self.query(sql)
        for value in response.values():
            if isinstance(value, list):
                return value
        return []

    def query_all(self, entity, where=None, select="*", order_by="Id", page_size=1000):
        """Iterate over every row, paging with STARTPOSITION/MAXRESULTS until a short page."""
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        start = 1
        while True:
            sql = build_select(entity, where=where, select=select, order_by=order_by,
                               start=start, max_results=page_size)
            rows = self.query(sql).get(entity, [])
            yield from rows
            if len(rows) < page_size:
                return
            start += len(rows)

    def count(self, entity, where=None):
        """``SELECT COUNT(*)``: the number of matching rows."""
        response = self.query(build_select(entity, where=where, select="COUNT(*)"))
        return int(response.get("totalCount", 0))

    def company_info(self):
        data, _tid = self._request("GET", "companyinfo/%s" % self.realm_id)
        return data.get("CompanyInfo", data)

    def preferences(self):
        data, _tid = self._request("GET", "preferences")
        return data.get("Preferences", data)

    def _cdc(self, entities, changed_since):
        """The CDC answer, its shape checked: (CDCResponse blocks, {entity: [rows]}, server time).
        An answer QBO does not send raises :class:`UnexpectedAnswerError` with the raw answer."""
        names = ",".join(check_entity(e) for e in entities)
        data, tid = self._request("GET", "cdc", params={"entities": names, "changedSince": changed_since})

        def unexpected(what):
            return UnexpectedAnswerError("QuickBooks Online sent a change data capture answer of an unexpected "
                                         "shape (%s)" % what, raw=data, intuit_tid=tid)
        if not isinstance(data, dict) or not isinstance(data.get("CDCResponse", []), list):
            raise unexpected("no CDCResponse list")
        if not isinstance(data.get("time", ""), str):
            raise unexpected("time is not a text")
        rows = {}
        for block in data.get("CDCResponse") or []:
            if not isinstance(block, dict):
                raise unexpected("a CDCResponse block is not an object")
            parts = block.get("QueryResponse") or []
            parts = parts if isinstance(parts, list) else [parts]
            for part in parts:
                if not isinstance(part, dict):
                    raise unexpected("a QueryResponse is not an object")
                for key, value in part.items():
                    if not isinstance(value, list):
                        continue   # startPosition, maxResults, totalCount
                    for row in value:
                        if not isinstance(row, dict) or not isinstance(row.get("Id"), (str, int)) \
                                or isinstance(row.get("Id"), bool):
                            raise unexpected("a %s row without an Id" % key)
                        token = row.get("SyncToken")
                        if token is not None and not str(token).strip().isdigit():
                            raise unexpected("%s %s has the SyncToken %r" % (key, row["Id"], token))
                    rows.setdefault(key, []).extend(value)
        return data.get("CDCResponse") or [], rows, data.get("time")

    def cdc(self, entities, changed_since):
        """Change data capture: ``entities`` list of names, ``changed_since`` ISO 8601 text; the
        CDCResponse blocks (their shape checked)."""
        return self._cdc(entities, changed_since)[0]

    def changes(self, entities, changed_since):
        """CDC as ``({entity: [rows]}, server time text)``: deleted records come back as
        ``{"Id", "status": "Deleted"}``; the server time is the base of the next cursor."""
        _blocks, rows, server_time = self._cdc(entities, changed_since)
        return rows, server_time

    # ------------------------------------------------------------------ batch

    def batch(self, items, requestid=None):
        """Send ``items`` in chunks of 30; one :class:`BatchItemResult` per item, in input order.

        Each chunk has its own requestid: ``f"{requestid}-{index}"`` (hashed to 36
        characters when longer) when a base id is given, else a uuid4. A chunk
        that fails as a whole gives its error to each of its items; after an
        authentication or throttling failure the remaining chunks are not sent
        and their items carry that error too.
        """
        items = [dict(item) for item in items]
        seen = set()
        for index, item in enumerate(items):
            item["bId"] = str(item.get("bId") or index + 1)
            if item["bId"] in seen:
                raise ValueError("duplicate bId %r in batch" % item["bId"])
            seen.add(item["bId"])
        results = []
        stop_error = None
        for index in range(0, (len(items) + BATCH_SIZE - 1) // BATCH_SIZE):
            chunk = items[index * BATCH_SIZE:(index + 1) * BATCH_SIZE]
            if stop_error is not None:
                results.extend(BatchItemResult(item["bId"], error=stop_error, answered=False) for item in chunk)
                continue
            chunk_id = (new_requestid() if requestid is None
                        else fit_requestid("%s-%d" % (requestid, index), BATCH_REQUESTID_MAX))
            try:
                queries = sum(1 for item in chunk if "Query" in item)
                data, tid = self._request("POST", "batch", json_body={"BatchItemRequest": chunk},
                                          kind="batch", requestid=chunk_id,
                                          usage=(queries, len(chunk) - queries))
            except QBOError as exc:
                if isinstance(exc, (AuthenticationError, ThrottledError)):
                    stop_error = exc
                results.extend(BatchItemResult(item["bId"], error=exc, answered=False) for item in chunk)
                continue
            answers = {str(a.get("bId")): a for a in data.get("BatchItemResponse", [])}
            results.extend(_batch_item_result(item["bId"], answers.get(item["bId"]), tid)
                           for item in chunk)
        return results


def _batch_item_result(bid, answer, intuit_tid):
    if answer is None:
        return BatchItemResult(bid, error=TransientError(
            "QuickBooks Online gave no answer for batch item %s" % bid, code="missing",
            intuit_tid=intuit_tid))
    if "Fault" in answer or "fault" in answer:
        return BatchItemResult(bid, error=error_from_fault(answer, intuit_tid=intuit_tid))
    for key, value in answer.items():
        if key != "bId" and isinstance(value, dict):
            return BatchItemResult(bid, entity=key, data=value)
    return BatchItemResult(bid, data={})
