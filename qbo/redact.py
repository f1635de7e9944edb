"""Keep OAuth secrets out of logs and exception texts.

Two layers:

* exact values: every client secret, access token, refresh token and
  authorization code that passes through this package is registered with
  :func:`register_secret` and replaced by ``***`` wherever it shows up;
* patterns: ``Bearer <x>``, ``Basic <x>`` and ``key=value`` / ``"key": "value"``
  pairs whose key names a secret, for values that never went through here.

The registry is process wide and bounded (the most recent values only); it
holds values this process already holds in memory anyway.
"""
import re
import threading
from collections import OrderedDict

MASK = "***"
_MAX_SECRETS = 256
_MIN_SECRET_LEN = 6

_lock = threading.Lock()
_secrets = OrderedDict()

_SECRET_KEYS = r"(?:access_token|refresh_token|client_secret|id_token|auth_code|authorization_code)"
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/=]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)(\b" + _SECRET_KEYS + r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,;}]+"), r"\1" + MASK),
    # the authorization code in a redirect URL or a form body
    (re.compile(r"(?i)([?&]code=)[^&\s\"']+"), r"\1" + MASK),
)


def register_secret(value):
    """Remember ``value`` so that :func:`redact` masks it from now on."""
    if not isinstance(value, str) or len(value) < _MIN_SECRET_LEN:
        return value
    with _lock:
        _secrets.pop(value, None)
        _secrets[value] = True
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)
    return value


def redact(text):
    """Return ``text`` (any object, made a str) with every known secret masked."""
    if text is None:
        return None
    text = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
