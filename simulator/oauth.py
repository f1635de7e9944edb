"""Intuit-style OAuth 2.0: apps, authorization codes, grants, rotating refresh tokens."""
import base64
import secrets
import threading

DEFAULT_CLIENT_ID = "qbo-sim-client"
DEFAULT_CLIENT_SECRET = "qbo-sim-secret"
DEFAULT_REDIRECT_URIS = ["http://localhost:8069/qbo/oauth/callback",
                         "http://127.0.0.1:8069/qbo/oauth/callback"]
ACCESS_TTL = 3600
REFRESH_TTL = 8726400
REFRESH_GRACE = 24 * 3600
HARD_TTL = 5 * 365 * 86400   # since late 2025 a grant's refresh tokens expire for good 5 years after consent
CODE_TTL = 600

INVALID_GRANT = {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
HARD_EXPIRED = {"error": "invalid_grant",
                "error_description": "The refresh token has reached its hard expiry: the user must connect again"}
INVALID_CODE = {"error": "invalid_grant", "error_description": "Invalid or expired authorization code"}


class OAuthError(Exception):
    def __init__(self, status, body):
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


class OAuth:
    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.Lock()
        self.apps = {}
        self.reset()

    def reset(self, keep_apps=False):
        with self.lock:
            if not keep_apps:
                self.apps = {DEFAULT_CLIENT_ID: {"client_secret": DEFAULT_CLIENT_SECRET,
                                                 "redirect_uris": list(DEFAULT_REDIRECT_URIS)}}
            self.codes = {}     # code -> {client_id, redirect_uri, realm, expires}
            self.grants = {}    # grant id -> {client_id, realm, revoked, latest}
            self.access = {}    # access token -> {grant, expires}
            self.refresh = {}   # refresh token -> {grant, expires, superseded}

    def dump(self):
        with self.lock:
            return {"apps": self.apps, "grants": self.grants, "access": self.access, "refresh": self.refresh}

    def load(self, state):
        with self.lock:
            self.apps = state.get("apps") or self.apps
            self.grants = state.get("grants", {})
            self.access = state.get("access", {})
            self.refresh = state.get("refresh", {})

    def register_app(self, client_id, client_secret, redirect_uris):
        with self.lock:
            self.apps[client_id] = {"client_secret": client_secret, "redirect_uris": list(redirect_uris)}

    # ----- authorize -----------------------------------------------------------------------------
    def check_client(self, client_id, redirect_uri):
        """An error text for the consent page, or None when the app and redirect are registered."""
        app = self.apps.get(client_id or "")
        if app is None:
            return "Unknown client_id %r: no app with this client id is registered." % client_id
        if redirect_uri not in app["redirect_uris"]:
            return ("The redirect_uri %r is not registered for this app. Registered: %s"
                    % (redirect_uri, ", ".join(app["redirect_uris"])))
        return None

    def new_code(self, client_id, redirect_uri, realm):
        code = "AB11" + secrets.token_urlsafe(30)
        with self.lock:
            self.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri, "realm": realm,
                                "expires": self.clock.now() + CODE_TTL}
        return code

    # ----- token endpoint ------------------------------------------------------------------------------
    def authenticate(self, header):
        try:
            scheme, value = (header or "").split(" ", 1)
            client_id, secret = base64.b64decode(value.strip()).decode("utf-8").split(":", 1)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError(401, {"error": "invalid_client"}) from None
        app = self.apps.get(client_id)
        if scheme.lower() != "basic" or app is None or not secrets.compare_digest(app["client_secret"], secret):
            raise OAuthError(401, {"error": "invalid_client"})
        return client_id

    def token(self, auth_header, form, include_hard_expiry=False):
        """The token endpoint; with include_hard_expiry (header x-include-refresh-token-hard-expires-in: true)
        the answer also carries x_refresh_token_hard_expires_in: the seconds left of the grant's five years (the
        field Intuit's SDKs read as RefreshTokenHardExpiresIn)."""
        client_id = self.authenticate(auth_header)
        grant_type = form.get("grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                answer = self._exchange(client_id, form)
            elif grant_type == "refresh_token":
                answer = self._refresh(client_id, form.get("refresh_token"))
            else:
                raise OAuthError(400, {"error": "unsupported_grant_type"})
            hard = answer.pop("_hard_expires")
            if include_hard_expiry:
                answer["x_refresh_token_hard_expires_in"] = max(0, int(round(hard - self.clock.now())))
            return answer

    def _exchange(self, client_id, form):
        code = self.codes.pop(form.get("code") or "", None)
        if (code is None or code["expires"] < self.clock.now() or code["client_id"] != client_id
                or code["redirect_uri"] != form.get("redirect_uri")):
            raise OAuthError(400, INVALID_CODE)
        return self._new_grant(client_id, code["realm"])

    def _new_grant(self, client_id, realm):
        grant_id = secrets.token_hex(8)
        self.grants[grant_id] = {"client_id": client_id, "realm": realm, "revoked": False, "latest": None,
                                 "hard_expires": self.clock.now() + HARD_TTL}
        return self._answer(grant_id, self._new_refresh(grant_id))

    def _new_refresh(self, grant_id):
        token = "RT1-" + secrets.token_urlsafe(36)
        self.refresh[token] = {"grant": grant_id, "expires": self.clock.now() + REFRESH_TTL, "superseded": None}
        self.grants[grant_id]["latest"] = token
        return token

    def _answer(self, grant_id, refresh_token):
        access = "eyJsim." + secrets.token_urlsafe(48)
        now = self.clock.now()
        self.access[access] = {"grant": grant_id, "expires": now + ACCESS_TTL}
        self._prune(now)
        rt = self.refresh[refresh_token]
        hard = self._hard_expires(self.grants[grant_id])
        return {"token_type": "bearer", "access_token": access, "expires_in": ACCESS_TTL,
                "refresh_token": refresh_token,
                "x_refresh_token_expires_in": max(0, int(round(min(rt["expires"], hard) - now))),
                "_hard_expires": hard}

    def _hard_expires(self, grant):
        return grant.get("hard_expires") or self.clock.now() + HARD_TTL

    def set_hard_expiry(self, realm, when):
        """The refresh tokens of the realm's grants expire for good at `when` (simulator epoch seconds)."""
        with self.lock:
            for grant in self.grants.values():
                if grant["realm"] == realm:
                    grant["hard_expires"] = when

    def _prune(self, now):
        if len(self.access) > 5000:
            for token in [t for t, a in self.access.items() if a["expires"] < now]:
                del self.access[token]

    def _refresh(self, client_id, token):
        rt = self.refresh.get(token or "")
        now = self.clock.now()
        if rt is None or rt["expires"] < now:
            raise OAuthError(400, INVALID_GRANT)
        grant = self.grants[rt["grant"]]
        if grant["revoked"] or grant["client_id"] != client_id:
            raise OAuthError(400, INVALID_GRANT)
        if self._hard_expires(grant) <= now:
            raise OAuthError(400, HARD_EXPIRED)
        if rt["superseded"] is not None:
            if now > rt["superseded"] + REFRESH_GRACE:
                raise OAuthError(400, INVALID_GRANT)
            return self._answer(rt["grant"], grant["latest"])
        rt["superseded"] = now
        return self._answer(rt["grant"], self._new_refresh(rt["grant"]))

    def issue(self, realm, client_id=DEFAULT_CLIENT_ID):
        with self.lock:
            answer = self._new_grant(client_id, realm)
            answer.pop("_hard_expires")
            return answer

    # ----- revoke and bearer check -----------------------------------------------------------------------
    def revoke(self, auth_header, token):
        self.authenticate(auth_header)
        with self.lock:
            entry = self.refresh.get(token or "") or self.access.get(token or "")
            if entry is None:
                raise OAuthError(400, {"error": "invalid_request", "error_description": "Token not found"})
            self.grants[entry["grant"]]["revoked"] = True

    def revoke_realm(self, realm):
        with self.lock:
            for grant in self.grants.values():
                if grant["realm"] == realm:
                    grant["revoked"] = True

    def bearer(self, header):
        """Return (realm, None) for a valid bearer token, or (None, detail) for a 401."""
        realm, detail, _client = self.bearer_app(header)
        return realm, detail

    def bearer_app(self, header):
        """(realm, None, client id) for a valid bearer token, or (None, detail, None) for a 401."""
        if not header or not header.lower().startswith("bearer "):
            return None, "Authorization header missing or not Bearer", None
        token = header[7:].strip()
        with self.lock:
            entry = self.access.get(token)
            if entry is None:
                return None, "Token invalid: unknown access token", None
            grant = self.grants[entry["grant"]]
            if grant["revoked"]:
                return None, "Token revoked: the app was disconnected from this company", None
            if entry["expires"] < self.clock.now():
                return None, "Token expired: %s..." % token[:12], None
            return grant["realm"], None, grant["client_id"]
