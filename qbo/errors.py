"""Typed errors for QuickBooks Online faults, and the parser that builds them.

QBO answers a failed call with one of three bodies:

* ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": ..}}``
  (the usual shape, HTTP 400/500, also inside batch items);
* ``{"fault": {"error": [{"message", "detail", "code", "element"}], "type": ..}}``
  (lower-case keys, the 401 from the authentication gateway);
* ``<IntuitResponse><Fault><Error code="3001"><Message/><Detail/></Error></Fault></IntuitResponse>``
  (XML, historically the 429 throttle answer even when JSON was asked for).

:func:`error_from_fault` accepts all three and picks the exception class from
the first error's code and the HTTP status. Every text that ends up in an
exception goes through :func:`qbo.redact.redact`.
"""
import json
import re
import xml.etree.ElementTree as ET

from .redact import redact


class QBOError(Exception):
    """Base class: a QBO call failed.

    Attributes: ``code`` (str, QBO's fault code or a local one), ``message``,
    ``detail``, ``element``, ``status`` (HTTP status or None), ``intuit_tid``
    (Intuit's transaction id from the response header, quote it to Intuit
    support), ``fault_type``, ``errors`` (every error of the fault as dicts),
    ``transient`` (True when trying again later may succeed).
    """

    transient = False
    hint = ""

    def __init__(self, message="", code=None, detail=None, element=None, status=None,
                 intuit_tid=None, fault_type=None, errors=None):
        self.message = redact(message) or ""
        self.code = None if code is None else str(code)
        self.detail = redact(detail) or ""
        self.element = element or None
        self.status = status
        self.intuit_tid = intuit_tid or None
        self.fault_type = fault_type
        self.errors = list(errors or [])
        super().__init__(self._text())

    def _text(self):
        parts = []
        if self.code:
            parts.append("[%s]" % self.code)
        parts.append(self.message or self.__class__.__name__)
        if self.detail and self.detail != self.message:
            parts.append("- %s" % self.detail)
        if self.element:
            parts.append("(element %s)" % self.element)
        extra = []
        if self.status is not None:
            extra.append("HTTP %s" % self.status)
        if self.intuit_tid:
            extra.append("intuit_tid=%s" % self.intuit_tid)
        if extra:
            parts.append("(%s)" % ", ".join(extra))
        return " ".join(parts)

    def __str__(self):
        return self._text()

    def user_message(self):
        """A sentence for an end user: what QBO said, its code, and what to do."""
        what = self.message or "QuickBooks Online rejected the request"
        text = "QuickBooks Online error %s: %s" % (self.code or "?", what.rstrip("."))
        if self.detail and self.detail != self.message:
            text += ". %s" % self.detail.rstrip(".")
        if self.element:
            text += " (field %s)" % self.element
        text += "."
        if self.hint:
            text += " " + self.hint
        return text


class ConnectionConfigError(QBOError):
    """The connection is not usable as configured: missing realm or tokens, bad environment."""
    hint = "Check the QuickBooks connection settings."


class TransientError(QBOError):
    """A temporary failure (5xx, SystemFault 10000, timeout, dropped connection).

    ``retry_after``: seconds from the answer's ``Retry-After`` header, or None.
    """
    transient = True
    hint = "This is temporary; it will be tried again later."

    def __init__(self, *args, retry_after=None, **kwargs):
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class UnexpectedAnswerError(TransientError):
    """A 2xx answer of a shape QBO does not send (a list where an object belongs, a SyncToken
    that is not a number...). ``raw``: the answer as text (secrets masked, 4,000 characters at
    most), for the log; never shown to a user."""
    hint = "QuickBooks Online's answer could not be read; it will be tried again later."

    def __init__(self, *args, raw=None, **kwargs):
        if raw is not None and not isinstance(raw, str):
            try:
                raw = json.dumps(raw, default=str)
            except ValueError:
                raw = repr(raw)
        self.raw = redact(raw[:4000]) if raw else ""
        kwargs.setdefault("code", "invalid_response")
        super().__init__(*args, **kwargs)


class ThrottledError(TransientError):
    """QBO's rate limit was hit (HTTP 429 / fault 3001). ``retry_after`` in seconds or None."""
    hint = "QuickBooks Online limits how many requests an app may send; it will be tried again later."


class AuthenticationError(QBOError):
    """The access token or the app's credentials were refused (401 / 3200, invalid_client)."""
    hint = "Reconnect to QuickBooks Online if this persists."


class RevokedError(AuthenticationError):
    """The authorization was revoked or the refresh token is no longer valid."""
    hint = "The connection was revoked: reconnect to QuickBooks Online."


class NotFoundError(QBOError):
    """610: the object does not exist or was made inactive."""
    hint = "The record may have been deleted or made inactive in QuickBooks Online."


class ValidationError(QBOError):
    """QBO refused the data (codes 2000-4999 and 6000-6999)."""
    hint = "Correct the data and try again."


class DuplicateNameError(ValidationError):
    """6240: the name is already used by another customer, vendor or employee (maybe inactive)."""
    hint = ("Names are unique across customers, vendors and employees, inactive ones included: "
            "use a different name or link the existing record.")


class DuplicateDocNumberError(ValidationError):
    """6140: the document number is already used."""
    hint = "Use a different document number."


class StaleObjectError(ValidationError):
    """5010: the SyncToken is out of date. Re-read the object and apply the change again."""
    transient = True
    hint = "The record was changed in QuickBooks Online meanwhile: read it again and re-apply the change."


class InvalidReferenceError(ValidationError):
    """2500: a reference (customer, item, account, tax code...) points at nothing."""
    hint = "A referenced record does not exist in QuickBooks Online: synchronise it first."


class QueryError(ValidationError):
    """4000: QBO could not parse the query."""
    hint = ""


_BY_CODE = {
    610: NotFoundError,
    2500: InvalidReferenceError,
    3001: ThrottledError,
    3100: RevokedError,
    3200: AuthenticationError,
    4000: QueryError,
    5010: StaleObjectError,
    6140: DuplicateDocNumberError,
    6240: DuplicateNameError,
}


def _code_number(code):
    """'003200' -> 3200; None or non-numeric -> None."""
    if code is None:
        return None
    match = re.search(r"\d+", str(code))
    return int(match.group()) if match else None


def class_for(code, status=None, message=""):
    """The exception class for a fault ``code`` (str/int) and HTTP ``status``."""
    number = _code_number(code)
    if status == 429 or number == 3001 or "throttleexceeded" in (message or "").lower():
        return ThrottledError
    if number in _BY_CODE:
        cls = _BY_CODE[number]
    elif number is not None and (2000 <= number < 5000 or 6000 <= number < 7000):
        cls = ValidationError
    elif number is not None and 1 <= number < 500:
        cls = AuthenticationError
    elif number is not None and number >= 10000:
        cls = TransientError
    else:
        cls = QBOError
    if status is not None and status >= 500 and not cls.transient:
        return TransientError
    if status == 401 and not issubclass(cls, AuthenticationError):
        return AuthenticationError
    return cls


def _strip_ns(tag):
    return tag.rsplit("}", 1)[-1]


def _errors_from_xml(text):
    """Parse an ``<IntuitResponse><Fault>`` body into (errors, type)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return [], None
    fault_type = None
    errors = []
    for node in root.iter():
        tag = _strip_ns(node.tag)
        if tag == "Fault":
            fault_type = node.get("type")
        elif tag == "Error":
            error = {"code": node.get("code"), "element": node.get("element")}
            for child in node:
                error[_strip_ns(child.tag).lower()] = (child.text or "").strip()
            errors.append(error)
    return errors, fault_type


def _errors_from_dict(body):
    """(errors, type) from the upper- or lower-case JSON fault shape, keys lower-cased."""
    fault = body.get("Fault") or body.get("fault") or body
    raw = fault.get("Error") or fault.get("error") or []
    if isinstance(raw, dict):
        raw = [raw]
    errors = [{str(k).lower(): v for k, v in (e or {}).items()} for e in raw]
    return errors, fault.get("type")


def parse_fault(body):
    """(errors, fault_type) from a dict, a JSON/XML string or bytes; ([], None) if none."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        stripped = body.strip()
        if stripped.startswith("<"):
            return _errors_from_xml(stripped)
        try:
            body = json.loads(stripped)
        except ValueError:
            return [], None
    if not isinstance(body, dict):
        return [], None
    return _errors_from_dict(body)


def error_from_fault(fault, status=None, intuit_tid=None, retry_after=None):
    """Build the typed :class:`QBOError` for a fault body (dict, JSON or XML text)."""
    errors, fault_type = parse_fault(fault)
    first = errors[0] if errors else {}
    code = first.get("code")
    message = first.get("message") or ""
    if not errors and isinstance(fault, (str, bytes)):
        message = "Unexpected answer from QuickBooks Online: %s" % (
            fault[:200].decode("utf-8", "replace") if isinstance(fault, bytes) else fault[:200])
    elif not errors:
        message = "Unexpected answer from QuickBooks Online"
    if code is None and status == 429:
        code = "3001"
    cls = class_for(code, status, message)
    kwargs = dict(code=code, detail=first.get("detail"), element=first.get("element"),
                  status=status, intuit_tid=intuit_tid, fault_type=fault_type, errors=errors)
    if issubclass(cls, TransientError):
        return cls(message or "Temporary failure", retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
