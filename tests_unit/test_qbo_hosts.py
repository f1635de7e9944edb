"""Where a token may go (qbo/hosts.py): the rule, the endpoints of a connection, and the OAuth
and API clients that never send a request, a redirect hop included, anywhere else."""
import pytest

from qbo import ConnectionConfigError, QBOAuth, QBOClient
from qbo.hosts import HostRule, endpoints, is_loopback
from qbo.testing import FakeTransport, fake_session

DISCOVERY = {"authorization_endpoint": "http://127.0.0.1:9/connect/oauth2",
             "token_endpoint": "http://127.0.0.1:9/oauth2/v1/tokens/bearer",
             "revocation_endpoint": "http://127.0.0.1:9/v2/oauth2/tokens/revoke",
             "issuer": "http://127.0.0.1:9", "jwks_uri": "http://127.0.0.1:9/jwks",
             "userinfo_endpoint": "http://127.0.0.1:9/userinfo"}
TOKENS = (200, {"token_type": "bearer", "access_token": "ACCESS-TOKEN-77", "refresh_token": "REFRESH-TOKEN-77",
                "expires_in": 3600, "x_refresh_token_expires_in": 8726400})


@pytest.mark.parametrize("url", [
    "https://quickbooks.api.intuit.com/v3", "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "https://intuit.com", "https://developer.intuit.com/.well-known/openid_configuration/",
    "http://127.0.0.1:8899", "http://127.9.9.9", "http://localhost:8069", "https://localhost.",
    "http://[::1]:8899/x", "http://[::ffff:127.0.0.1]:1",
])
def test_allowed(url):
    assert HostRule().allows(url), url


@pytest.mark.parametrize("url", [
    "http://quickbooks.api.intuit.com",           # Intuit over plain http
    "https://intuit.com.evil.example",            # a suffix is not a subdomain
    "https://evilintuit.com",
    "https://127.0.0.1.nip.io",                   # a name that resolves to loopback is not loopback
    "http://10.0.0.5:8899", "http://192.168.1.1", "http://0.0.0.0:80", "http://[::]:1",
    "http://127.0.0.1@evil.example/",             # the host is evil.example
    "http://user:pw@127.0.0.1/",                  # credentials in the URL
    "ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1:8899", "", None, "http://",
])
def test_refused(url):
    rule = HostRule()
    assert not rule.allows(url), url
    with pytest.raises(ConnectionConfigError) as info:
        rule.check(url, "The thing")
    assert info.value.code == "host"
    assert "The thing refused" in str(info.value)


def test_listed_hosts_with_and_without_port():
    rule = HostRule("sim.lan, 10.0.0.5:8899 ;Other.Example.")
    assert rule.extra_hosts == ("10.0.0.5:8899", "other.example", "sim.lan")
    assert rule.allows("http://sim.lan:1234/v3")
    assert rule.allows("https://SIM.LAN")
    assert rule.allows("http://10.0.0.5:8899")
    assert not rule.allows("http://10.0.0.5:8900")
    assert rule.allows("http://other.example")
    assert not rule.allows("http://sim.lan.evil.example")
    assert HostRule(["a.example"]).allows("https://a.example/x")


def test_loopback_literals_only():
    assert is_loopback("127.0.0.1") and is_loopback("LOCALHOST") and is_loopback("::1")
    assert not is_loopback("localhost.evil.example") and not is_loopback("2130706433x")


def test_endpoints_of_each_environment():
    prod = endpoints("production")
    assert (prod.api_base, prod.app_base, prod.discovery) == (
        "https://quickbooks.api.intuit.com", "https://app.qbo.intuit.com", "production")
    sand = endpoints("Sandbox", "http://ignored.example")
    assert sand.api_base == "https://sandbox-quickbooks.api.intuit.com" and sand.discovery == "sandbox"
    sim = endpoints("custom", "http://127.0.0.1:8899/v3/")
    assert (sim.api_base, sim.app_base, sim.discovery) == (
        "http://127.0.0.1:8899", "http://127.0.0.1:8899", "http://127.0.0.1:8899/.well-known/openid_configuration")
    listed = endpoints("custom", "https://sim.lan", extra_hosts="sim.lan")
    assert listed.api_base == "https://sim.lan"
    for env, url in (("custom", "http://evil.example:8899"), ("custom", ""), ("custom", "http://127.0.0.1/?x=1"),
                     ("staging", "http://127.0.0.1"), ("", None)):
        with pytest.raises(ConnectionConfigError):
            endpoints(env, url)


def test_client_refuses_a_base_url_off_the_rule_before_any_request():
    session, transport = fake_session((200, {}))
    with pytest.raises(ConnectionConfigError):
        QBOClient("9130", "http://evil.example", "TOKEN-SECRET-1", session=session)
    client = QBOClient("9130", "http://sim.lan:8899", "TOKEN-SECRET-1", session=session, allowed_hosts=["sim.lan"])
    client.read("Customer", "1")
    assert transport.requests[0].url.startswith("http://sim.lan:8899/v3/company/9130/customer/1")


def test_client_never_follows_a_redirect():
    session, transport = fake_session((307, "", {"Location": "http://evil.example/v3/company/9130/customer/1"}))
    client = QBOClient("9130", "http://127.0.0.1:9", "TOKEN-SECRET-1", session=session, max_retries=3,
                       sleep=lambda s: None)
    with pytest.raises(ConnectionConfigError) as info:
        client.read("Customer", "1")
    assert info.value.code == "redirect"
    assert [r.url.split("?")[0] for r in transport.requests] == ["http://127.0.0.1:9/v3/company/9130/customer/1"]


def make_auth(document, *answers, allowed_hosts=()):
    transport = FakeTransport([(200, document)] + list(answers))
    auth = QBOAuth("client-id", "CLIENT-SECRET-9", "http://localhost:8069/qbo/oauth/callback",
                   "http://127.0.0.1:9/.well-known/openid_configuration", adapter=transport,
                   allowed_hosts=allowed_hosts)
    return auth, transport


@pytest.mark.parametrize("key", ["token_endpoint", "revocation_endpoint", "authorization_endpoint", "jwks_uri",
                                 "userinfo_endpoint", "issuer"])
def test_discovery_document_naming_another_host_is_refused(key):
    document = dict(DISCOVERY, **{key: "http://evil.example:9/steal"})
    auth, transport = make_auth(document, (200, document), TOKENS)
    with pytest.raises(ConnectionConfigError) as info:
        auth.refresh("REFRESH-TOKEN-OLD")
    assert key in str(info.value)
    with pytest.raises(ConnectionConfigError):
        auth.revoke("REFRESH-TOKEN-OLD")
    # the discovery document was read twice (once per call), and nothing else was sent anywhere
    assert [(r.method, r.url) for r in transport.requests] == [
        ("GET", "http://127.0.0.1:9/.well-known/openid_configuration")] * 2


def test_discovery_url_off_the_rule_is_never_fetched():
    transport = FakeTransport([(200, DISCOVERY)])
    with pytest.raises(ConnectionConfigError):
        QBOAuth("i", "CLIENT-SECRET-9", "r", "http://evil.example/.well-known/openid_configuration",
                adapter=transport)
    assert transport.requests == []


def test_redirect_of_the_token_endpoint_to_another_host_is_not_followed():
    redirect = (307, "", {"Location": "http://evil.example:9/oauth2/v1/tokens/bearer"})
    auth, transport = make_auth(DISCOVERY, redirect, TOKENS)
    with pytest.raises(ConnectionConfigError):
        auth.refresh("REFRESH-TOKEN-OLD")
    assert [r.url for r in transport.requests] == ["http://127.0.0.1:9/.well-known/openid_configuration",
                                                   "http://127.0.0.1:9/oauth2/v1/tokens/bearer"]


def test_listed_host_in_the_discovery_document_is_used():
    document = dict(DISCOVERY, token_endpoint="https://auth.lan/tokens")
    auth, transport = make_auth(document, TOKENS, allowed_hosts=["auth.lan"])
    assert auth.refresh("REFRESH-TOKEN-OLD").access_token == "ACCESS-TOKEN-77"
    assert transport.requests[1].url == "https://auth.lan/tokens"
