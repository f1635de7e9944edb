"""Where a token may go: the one rule for every URL this package sends a request to.

A request of this package carries a secret of some kind: the API's ``Authorization: Bearer``
header, the app's client id and secret (``Basic``) and the refresh token or authorization code
on the token endpoint, a token on the revocation endpoint. So every URL it sends to, whoever
chose it, passes :class:`HostRule` first:

* Intuit's own hosts (``intuit.com`` and its subdomains) over HTTPS: production and sandbox
  use Intuit's fixed API hosts and Intuit's discovery document (the one ``intuit-oauth`` knows);
* a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``): the local simulator, over HTTP or
  HTTPS;
* a host the caller lists (Odoo: the system parameter ``qbo_financial_hub.allowed_hosts``),
  e.g. a simulator on another machine of a test network.

Nothing else, whatever a setting, a discovery document or a redirect names. A host name is
compared as written, never resolved: a name that happens to resolve to 127.0.0.1 is not
loopback (a DNS answer is not the administrator's choice). :func:`endpoints` turns the
company's environment and custom URL into the API base, the app base (links that open a record
in QuickBooks) and the discovery document, each checked by the rule; the OAuth code checks the
endpoints the discovery document names (``DISCOVERY_KEYS``) and every request, redirects
included, with the same rule.
"""
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConnectionConfigError

PRODUCTION, SANDBOX, CUSTOM = "production", "sandbox", "custom"
INTUIT_DOMAIN = "intuit.com"
API_BASE_URLS = {
    PRODUCTION: "https://quickbooks.api.intuit.com",
    SANDBOX: "https://sandbox-quickbooks.api.intuit.com",
}
APP_BASE_URLS = {
    PRODUCTION: "https://app.qbo.intuit.com",
    SANDBOX: "https://app.sandbox.qbo.intuit.com",
}
DISCOVERY_PATH = "/.well-known/openid_configuration"
# what intuit-oauth reads from a discovery document (and then sends to, or fetches)
DISCOVERY_KEYS = ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "issuer", "jwks_uri",
                  "userinfo_endpoint")
_ENV_ALIASES = {"production": PRODUCTION, "prod": PRODUCTION, "sandbox": SANDBOX, "sand": SANDBOX}


def normal_environment(environment):
    """"production" or "sandbox" for Intuit's names (and intuit-oauth's aliases), else None."""
    return _ENV_ALIASES.get((environment or "").strip().lower())


def parse_hosts(text):
    """The hosts of a list written as text ("sim.lan, 10.0.0.5:8899"): lower-cased entries,
    each a host name or IP address, optionally with a port."""
    if not text:
        return ()
    items = text.replace(";", ",").replace("\n", ",").split(",") if isinstance(text, str) else text
    return tuple(sorted({item.strip().lower().rstrip(".") for item in items if item and item.strip()}))


def is_loopback(host):
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1, ::ffff:127.x.y.z)."""
    host = (host or "").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass(frozen=True)
class HostRule:
    """Which URLs may receive a request of this package (see the module docstring).
    ``extra_hosts``: hosts allowed besides Intuit's and loopback ones ("host" or "host:port")."""
    extra_hosts: tuple = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "extra_hosts", parse_hosts(self.extra_hosts))

    def refusal(self, url):
        """None when `url` may receive a request, else why it may not (a sentence)."""
        try:
            parts = urlsplit(str(url or ""))
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port
        except ValueError:
            return "%r is not a valid URL" % (url,)
        if parts.scheme not in ("http", "https") or not host:
            return "%r is not an http or https URL" % (url,)
        if parts.username is not None or parts.password is not None:
            return "%r carries a user name or password" % (url,)
        if host == INTUIT_DOMAIN or host.endswith("." + INTUIT_DOMAIN):
            return None if parts.scheme == "https" else "Intuit's host %s is reached over https only" % host
        if is_loopback(host):
            return None
        listed = {host, "%s:%s" % (host, port or (443 if parts.scheme == "https" else 80))}
        if "[" in (parts.netloc or ""):
            listed.add("[%s]:%s" % (host, port or (443 if parts.scheme == "https" else 80)))
        if listed & set(self.extra_hosts):
            return None
        return ("the host %s is neither Intuit's, nor loopback, nor listed in the allowed hosts "
                "(system parameter qbo_financial_hub.allowed_hosts)" % (parts.netloc or host))

    def allows(self, url):
        return self.refusal(url) is None

    def check(self, url, what="URL"):
        """`url` itself, or ConnectionConfigError naming `what` and why it is refused."""
        reason = self.refusal(url)
        if reason:
            raise ConnectionConfigError("%s refused: %s. No request was sent there." % (what, reason),
                                        code="host")
        return url

    def check_discovery(self, document, where):
        """Every endpoint a discovery document names passes the rule (intuit-oauth posts the
        client secret and the refresh token to its token endpoint, whatever host it names)."""
        if not isinstance(document, dict):
            raise ConnectionConfigError("The OAuth discovery document at %s is not a JSON object" % where,
                                        code="config")
        for key in DISCOVERY_KEYS:
            value = document.get(key)
            if not isinstance(value, str) or not value:
                raise ConnectionConfigError("The OAuth discovery document at %s has no %s" % (where, key),
                                            code="config")
            self.check(value, "The %s named by the OAuth discovery document at %s" % (key, where))
        return document


@dataclass(frozen=True)
class Endpoints:
    """Where one QuickBooks connection sends its requests, decided by :func:`endpoints`.
    ``discovery``: what intuit-oauth takes as its environment ("production", "sandbox", or the
    URL of the discovery document)."""
    environment: str
    api_base: str
    app_base: str
    discovery: str
    rule: HostRule


def endpoints(environment, custom_url=None, extra_hosts=()):
    """The :class:`Endpoints` of a connection: Intuit's fixed hosts for "production" and
    "sandbox"; for "custom", the custom URL (the root of a QuickBooks compatible service: its
    API under /v3, its discovery document at DISCOVERY_PATH) if the rule allows its host.
    Raises ConnectionConfigError otherwise."""
    rule = HostRule(extra_hosts)
    name = normal_environment(environment)
    if name:
        return Endpoints(name, API_BASE_URLS[name], APP_BASE_URLS[name], name, rule)
    if (environment or "").strip().lower() != CUSTOM:
        raise ConnectionConfigError("Unknown QuickBooks environment %r: use production, sandbox or custom"
                                    % (environment,), code="config")
    root = (custom_url or "").strip().rstrip("/")
    if root.endswith("/v3"):
        root = root[:-3]
    if not root:
        raise ConnectionConfigError("Enter the custom QuickBooks URL, or choose Production or Intuit sandbox.",
                                    code="config")
    rule.check(root, "The custom QuickBooks URL")
    parts = urlsplit(root)
    if parts.query or parts.fragment:
        raise ConnectionConfigError("The custom QuickBooks URL %r has a query or fragment" % (root,), code="config")
    return Endpoints(CUSTOM, root, root, root + DISCOVERY_PATH, rule)
