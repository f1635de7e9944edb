"""OAuth 2.0 for QBO, through intuit-oauth's ``AuthClient``.

``AuthClient`` does the protocol (authorization URL, Basic auth header, code
exchange, refresh, revoke, discovery document). This module adds what it
lacks: a timeout on every call, typed errors (``invalid_grant`` ->
:class:`RevokedError`, ``invalid_client`` -> :class:`AuthenticationError`, 5xx
and network trouble -> :class:`TransientError`), a :class:`TokenSet` with
absolute expiry times, a callback that receives every new token set the
instant it arrives (refresh tokens rotate; losing the newest one means the
user must reconnect), and secrets kept out of exception texts.

``AuthClient`` is stateful (the answer lands on its attributes) so calls are
serialised with a lock.
"""
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from .errors import AuthenticationError, ConnectionConfigError, RevokedError, TransientError
from .hosts import API_BASE_URLS, PRODUCTION, SANDBOX, HostRule, normal_environment
from .redact import register_secret

HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
# the attributes intuit-oauth sets from the discovery document, and the keys they come from
DISCOVERED = {"auth_endpoint": "authorization_endpoint", "token_endpoint": "token_endpoint",
              "revoke_endpoint": "revocation_endpoint", "issuer_uri": "issuer", "jwks_uri": "jwks_uri",
              "user_info_url": "userinfo_endpoint"}


@dataclass
class TokenSet:
    """Tokens with absolute expiry times (epoch seconds). Tokens are left out of repr()."""
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float = 0.0
    refresh_expires_at: float = None
    # the refresh token's hard expiry (Intuit's five-year cap), when the answer gives it
    refresh_hard_expires_at: float = None

    @classmethod
    def from_response(cls, data, now=None):
        """From the token endpoint's JSON (``expires_in``, ``x_refresh_token_expires_in``)."""
        now = time.time() if now is None else now
        refresh_in = data.get("x_refresh_token_expires_in")
        hard_in = data.get("x_refresh_token_lifetime_expires_in")
        if hard_in in (None, ""):
            hard_in = data.get("x_refresh_token_hard_expires_in")
        tokens = cls(
            access_token=data.get("access_token"),
            refresh_token=data.get("refresh_token"),
            expires_at=now + float(data.get("expires_in") or 3600),
            refresh_expires_at=None if refresh_in in (None, "") else now + float(refresh_in),
            refresh_hard_expires_at=None if hard_in in (None, "") else now + float(hard_in),
        )
        register_secret(tokens.access_token)
        register_secret(tokens.refresh_token)
        return tokens

    def expired(self, now=None, margin=60.0):
        """True when the access token expires within ``margin`` seconds."""
        now = time.time() if now is None else now
        return now + margin >= self.expires_at


class _TimedAuthClient(AuthClient):
    """``AuthClient`` (a ``requests.Session``) with a default timeout on every request, and
    every request (the discovery document, the token and revocation endpoints, each hop of a
    redirect) sent only where ``rule`` (a :class:`HostRule`) allows.

    ``adapter``: a transport adapter mounted for http and https (tests, proxies);
    mounted at the first request because ``AuthClient.__init__`` already sends one.
    """

    def __init__(self, *args, timeout=30, adapter=None, rule=None, **kwargs):
        self._qbo_timeout = timeout
        self._qbo_adapter = adapter
        self._qbo_rule = rule or HostRule()
        super().__init__(*args, **kwargs)
        for attribute, key in DISCOVERED.items():
            self._qbo_rule.check(getattr(self, attribute, None),
                                 "The %s named by the OAuth discovery document" % key)

    def send(self, request, **kwargs):
        # every request and every redirect hop goes through here (Session.resolve_redirects)
        self._qbo_rule.check(request.url, "An OAuth request")
        return super().send(request, **kwargs)

    def request(self, method, url, **kwargs):
        if self._qbo_adapter is not None:
            self.mount("http://", self._qbo_adapter)
            self.mount("https://", self._qbo_adapter)
            self._qbo_adapter = None
        kwargs.setdefault("timeout", self._qbo_timeout)
        if method.upper() == "POST" and url == getattr(self, "token_endpoint", None):
            # ask for the refresh token's hard expiry (x_refresh_token_lifetime_expires_in)
            kwargs["headers"] = dict(kwargs.get("headers") or {}, **{HARD_EXPIRY_HEADER: "true"})
        return super().request(method, url, **kwargs)


def _error_from_auth_response(exc, action):
    """Map intuitlib's ``AuthClientError`` to our typed errors, without the body's secrets."""
    status = exc.status_code
    tid = exc.intuit_tid
    try:
        body = json.loads(exc.content or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = body.get("error") or ""
    description = body.get("error_description") or ""
    message = "%s failed: %s" % (action, error or "HTTP %s" % status)
    kwargs = dict(code=error or str(status), detail=description, status=status, intuit_tid=tid)
    if error == "invalid_grant":
        return RevokedError(message, **kwargs)
    if status >= 500 or status == 429:
        return TransientError(message, **kwargs)
    return AuthenticationError(message, **kwargs)  # invalid_client and other refusals


class QBOAuth:
    """OAuth for one Intuit app. ``environment``: "production", "sandbox" or a discovery URL.

    ``on_tokens(TokenSet)`` is called with every new token set (code exchange and
    each refresh) before the method returns, so the caller can persist the
    rotated refresh token at once.

    ``allowed_hosts``: hosts besides Intuit's and loopback ones that a discovery document and
    its endpoints may be on (:class:`qbo.hosts.HostRule`); any other is refused unrequested.
    """

    def __init__(self, client_id, client_secret, redirect_uri, environment, timeout=30,
                 on_tokens=None, clock=time.time, adapter=None, allowed_hosts=()):
        if not client_id or not client_secret:
            raise ConnectionConfigError("The QuickBooks app's client id and secret are required",
                                        code="config")
        env = (environment or "").strip()
        self.rule = HostRule(allowed_hosts)
        if normal_environment(env):
            self.environment = normal_environment(env)
        elif urlsplit(env).scheme in ("http", "https") and urlsplit(env).netloc:
            self.environment = self.rule.check(env, "The OAuth discovery document URL")
        else:
            raise ConnectionConfigError("Unknown QuickBooks environment %r: use production, "
                                        "sandbox or a discovery URL" % env, code="config")
        self.client_id = client_id
        self.client_secret = register_secret(client_secret)
        self.redirect_uri = redirect_uri
        self.timeout = timeout
        self.on_tokens = on_tokens
        self.clock = clock
        self.adapter = adapter
        self._client = None
        self._lock = threading.RLock()

    def __repr__(self):
        return "QBOAuth(client_id=%r, environment=%r)" % (self.client_id, self.environment)

    @property
    def api_base_url(self):
        """The accounting API's base URL without ``/v3``."""
        if self.environment in API_BASE_URLS:
            return API_BASE_URLS[self.environment]
        parts = urlsplit(self.environment)
        return "%s://%s" % (parts.scheme, parts.netloc)

    @property
    def auth_client(self):
        """The wrapped ``AuthClient``, built on first use (its constructor GETs the discovery doc)."""
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._call(
                        "Loading the OAuth discovery document",
                        lambda: _TimedAuthClient(self.client_id, self.client_secret,
                                                 self.redirect_uri, self.environment,
                                                 timeout=self.timeout, adapter=self.adapter,
                                                 rule=self.rule))
                except (AuthenticationError, KeyError) as exc:  # 4xx or not a discovery doc
                    raise ConnectionConfigError(
                        "No OAuth discovery document at %s (%s)" % (self.environment, exc),
                        code="config") from None
            return self._client

    def _call(self, action, func):
        try:
            return func()
        except AuthClientError as exc:
            raise _error_from_auth_response(exc, action) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError("%s failed: %s" % (action, exc.__class__.__name__),
                                 code="network") from None
        except ValueError as exc:  # bad JSON from the token endpoint, missing token
            raise AuthenticationError("%s failed: %s" % (action, exc), code="invalid_response") from None

    def authorization_url(self, state):
        """The URL to send the user to; Intuit redirects back with code, state and realmId."""
        with self._lock:
            return self.auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)

    def _tokens_after(self, action, func):
        with self._lock:
            client = self.auth_client
            client.access_token = client.refresh_token = None
            client.expires_in = client.x_refresh_token_expires_in = None
            client.x_refresh_token_lifetime_expires_in = client.x_refresh_token_hard_expires_in = None
            self._call(action, func)
            if not client.access_token or not client.refresh_token:
                raise AuthenticationError("%s failed: no tokens in the answer" % action,
                                          code="invalid_response")
            tokens = TokenSet.from_response({
                "access_token": client.access_token,
                "refresh_token": client.refresh_token,
                "expires_in": client.expires_in,
                "x_refresh_token_expires_in": client.x_refresh_token_expires_in,
                "x_refresh_token_lifetime_expires_in": client.x_refresh_token_lifetime_expires_in,
                "x_refresh_token_hard_expires_in": client.x_refresh_token_hard_expires_in,
            }, now=self.clock())
            # do not keep tokens on the shared client longer than needed
            client.access_token = client.refresh_token = None
        if self.on_tokens:
            self.on_tokens(tokens)
        return tokens

    def exchange_code(self, code, realm_id):
        """Exchange the authorization ``code`` from the redirect for a :class:`TokenSet`."""
        register_secret(code)
        return self._tokens_after("Exchanging the authorization code",
                                  lambda: self.auth_client.get_bearer_token(code, realm_id=realm_id))

    def refresh(self, refresh_token):
        """A new :class:`TokenSet` (with a possibly NEW refresh token: persist it)."""
        if not refresh_token:
            raise ConnectionConfigError("No refresh token: connect to QuickBooks Online first",
                                        code="config")
        register_secret(refresh_token)
        return self._tokens_after("Refreshing the access token",
                                  lambda: self.auth_client.refresh(refresh_token=refresh_token))

    def revoke(self, token):
        """Revoke a refresh (or access) token: disconnects the app from the company."""
        if not token:
            raise ConnectionConfigError("No token to revoke", code="config")
        register_secret(token)
        with self._lock:
            self._call("Revoking the token", lambda: self.auth_client.revoke(token=token))
