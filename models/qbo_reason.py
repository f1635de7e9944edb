"""Reasons people read, in their own language.

A reason (why a push failed, waits or was refused; what a chatter note says) is often written
by a cron worker, whose environment has no language, and read later by anyone: a bookkeeper in
fr_CA, an administrator in English. So a reason is stored as its English sentence and its
parameters, and translated when it is read.

How to write one::

    from .qbo_reason import _lt
    problems.append(_lt("The email %(email)r holds a line break or a tab: QuickBooks accepts none.",
                        email=partner.email))

``_lt`` marks the sentence for translation (Odoo's export extracts ``_lt(...)`` as it does
``_(...)``, so it lands in the .pot and fr_CA.po like any other string) and returns a
:class:`Reason`: a ``str`` whose value is the English text, so that it joins, compares, logs and
goes in ``error_message`` like the text it replaces, and which also carries the sentence and its
parameters. A parameter may be a reason itself (translated too) or a plain value: a name, a
number, QuickBooks' own words (shown as they are). Use whole sentences, named placeholders.

Keep the structure on the way: ``join_reasons(problems)`` instead of ``"\\n".join(problems)``,
``qbo_error_reason(exc)`` instead of ``exc.user_message()`` for a QuickBooks error, and store
``reason_json(reason)`` in the Json field beside the text: ``error_reason`` on ``qbo.job`` and
``qbo.link`` (the engine does it for every outcome), ``qbo_reason`` on a chatter note (write
notes with ``record._qbo_message_log(reason)``). ``reason_text(stored, lang)`` renders it in a
reader's language; the records' ``qbo_error``, the jobs' and links' ``error_text`` and the
chatter do so for whoever reads them.

A reason built with ``self.env._`` is a plain string in the writer's language: fine for an
answer shown at once to the user who acted (a UserError, a notification), not for what is
stored.
"""
import logging

from odoo.tools.translate import code_translations

from ..qbo import (AuthenticationError, ConnectionConfigError, DuplicateDocNumberError, DuplicateNameError, InvalidReferenceError,
                   NotFoundError, QBOError, RevokedError, StaleObjectError, ThrottledError, TransientError,
                   ValidationError)

_logger = logging.getLogger(__name__)

MODULE = "qbo_financial_hub"


def translate(source, lang):
    """`source` (an English sentence of this module's code) in `lang`, through Odoo's own code
    translations (the module's i18n/*.po); the English sentence when there is none."""
    if not lang or lang == "en_US":
        return source
    try:
        return code_translations.get_python_translations(MODULE, lang).get(source) or source
    except Exception:  # noqa: BLE001 - a reader never fails on a translation
        _logger.debug("no %s translations for %s", MODULE, lang, exc_info=True)
        return source


def _format(sentence, source, params):
    try:
        return sentence % params if params else sentence
    except (TypeError, ValueError, KeyError):
        _logger.warning("Bad translation %r of %r", sentence, source)
        return source % params if params else source


class Reason(str):
    """A reason: its value is the English text; `source` and `params` let it be read in any
    language (see the module's docstring). `lines` instead of a source: several reasons, one a line."""

    def __new__(cls, source=None, params=None, lines=None):
        params = dict(params or {})
        lines = list(lines or [])
        text = "\n".join(lines) if source is None else _format(source, source, params)
        reason = super().__new__(cls, text)
        reason.source, reason.params, reason.lines = source, params, lines
        return reason

    def to_json(self):
        if self.source is None:
            return [reason_json(line) for line in self.lines]
        return {"s": self.source, "p": {key: reason_json(value) for key, value in self.params.items()}}

    def render(self, lang):
        return reason_text(self.to_json(), lang)

    def __reduce__(self):   # a reason survives a copy or a pickle as a reason
        return (Reason, (self.source, self.params, self.lines))


def _lt(source, **params):
    """The reason `source` % `params`, translated when read (see the module's docstring)."""
    return Reason(source, params)


def join_reasons(reasons, sep="\n"):
    """Several reasons, one a line (what `sep.join` gives, keeping each part translatable)."""
    reasons = [r for r in reasons if r]
    if len(reasons) == 1:
        return reasons[0]
    if sep != "\n":
        return Reason(sep.join(["%%(r%s)s" % i for i in range(len(reasons))]),
                      {"r%s" % i: r for i, r in enumerate(reasons)})
    return Reason(lines=reasons)


def reason_json(value):
    """What to store of a reason: a Reason's sentence and parameters, a plain value as it is."""
    if isinstance(value, Reason):
        return value.to_json()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [reason_json(v) for v in value]
    return str(value)


def reason_text(stored, lang):
    """A stored reason (see reason_json) as text in `lang`."""
    if stored is None or stored is False:
        return ""
    if isinstance(stored, list):
        return "\n".join(reason_text(part, lang) for part in stored)
    if isinstance(stored, dict) and "s" in stored:
        params = {key: reason_text(value, lang) if isinstance(value, (dict, list)) else value
                  for key, value in (stored.get("p") or {}).items()}
        return _format(translate(stored["s"], lang), stored["s"], params)
    return str(stored)


def reason_vals(reason, **vals):
    """`vals` with `reason` as the error of a job or link: its English text and its stored form."""
    return dict(vals, error_message=reason, error_reason=reason_json(reason) if reason else False)


def as_text(value, lang):
    """A reason (or a text, or nothing) as text in `lang`: what a screen computed for its reader shows."""
    return reason_text(reason_json(value), lang) or False


def shown(stored, text, lang):
    """What a reader in `lang` sees of a reason stored as `stored` (Json) beside `text`, its
    English text. The text decides: a row written before reasons were kept, or whose text was
    written alone since (say by `self.env._` in a user's language), shows its text."""
    if not text:
        return ""
    if stored and reason_text(stored, "en_US") == text:
        return reason_text(stored, lang)
    return text


def log_note(records, body):
    """Log `body` in the chatter of `records` (mail.thread): a reason is stored with the note
    (mail.message.qbo_reason) and shown in each reader's language."""
    for record in records:
        message = record._message_log(body=body)
        if isinstance(body, Reason):
            message.sudo().write({"qbo_reason": body.to_json()})


# ----------------------------------------------------------------------------------------
# QuickBooks' errors: its own words (code, message, detail, field) as they came, our
# explanation of what to do translated
# ----------------------------------------------------------------------------------------
def _hints():
    return [
        (RevokedError, _lt("The connection was revoked: reconnect to QuickBooks Online.")),
        (AuthenticationError, _lt("Reconnect to QuickBooks Online if this persists.")),
        (ThrottledError, _lt("QuickBooks Online limits how many requests an app may send; it will be tried "
                             "again later.")),
        (StaleObjectError, _lt("The record was changed in QuickBooks Online meanwhile.")),
        (TransientError, _lt("This is temporary; it will be tried again later.")),
        (NotFoundError, _lt("The record may have been deleted or made inactive in QuickBooks Online.")),
        (DuplicateNameError, _lt("Names are unique across customers, vendors and employees, inactive ones "
                                 "included: use a different name or link the existing record.")),
        (DuplicateDocNumberError, _lt("Use a different document number.")),
        (InvalidReferenceError, _lt("A referenced record does not exist in QuickBooks Online: synchronise it "
                                    "first.")),
        (ValidationError, _lt("Correct the data and try again.")),
        (ConnectionConfigError, _lt("Check the QuickBooks connection settings.")),
    ]


def qbo_error_reason(error):
    """The reason of a QuickBooks error (qbo.QBOError), or of any exception."""
    if not isinstance(error, QBOError):
        return str(error)
    words = (error.message or "QuickBooks Online rejected the request").rstrip(".")
    if error.detail and error.detail != error.message:
        words += ". " + error.detail.rstrip(".")
    if error.element:
        words += " (%s)" % error.element
    hint = next((text for cls, text in _hints() if isinstance(error, cls) and error.hint), None)
    if hint is None:
        return _lt("QuickBooks Online error %(code)s: %(message)s.", code=error.code or "?", message=words)
    return _lt("QuickBooks Online error %(code)s: %(message)s. %(hint)s", code=error.code or "?", message=words,
               hint=hint)
