"""QBOAuth over intuitlib's AuthClient, against a scripted fake transport."""
import logging

import pytest
import requests

from qbo import (AuthenticationError, ConnectionConfigError, QBOAuth, RevokedError, TokenSet,
                 TransientError)
from qbo.testing import FakeTransport

DISCOVERY = {"authorization_endpoint": "https://auth.test/connect/oauth2",
             "token_endpoint": "https://auth.test/tokens/bearer",
             "revocation_endpoint": "https://auth.test/tokens/revoke",
             "issuer": "https://auth.test", "jwks_uri": "https://auth.test/jwks",
             "userinfo_endpoint": "https://auth.test/userinfo"}
SECRET = "CLIENT-SECRET-VALUE-1"


def tokens(n):
    return (200, {"token_type": "bearer", "access_token": "ACCESS-TOKEN-%d" % n,
                  "refresh_token": "REFRESH-TOKEN-%d" % n, "expires_in": 3600,
                  "x_refresh_token_expires_in": 8726400})


def make_auth(*answers, **kwargs):
    transport = FakeTransport([(200, DISCOVERY)] + list(answers))
    auth = QBOAuth("client-id", SECRET, "http://localhost:8069/qbo/oauth/callback",
                   "https://auth.test/.well-known/openid_configuration", adapter=transport,
                   clock=lambda: 1000.0, allowed_hosts=("auth.test",), **kwargs)
    return auth, transport


def test_environments_and_api_base_url():
    assert QBOAuth("i", "s", "r", "production").api_base_url == "https://quickbooks.api.intuit.com"
    assert QBOAuth("i", "s", "r", "Sandbox").api_base_url == \
        "https://sandbox-quickbooks.api.intuit.com"
    assert QBOAuth("i", "s", "r", "http://127.0.0.1:8123/.well-known/openid_configuration") \
        .api_base_url == "http://127.0.0.1:8123"
    for bad in ("", "staging", "ftp://x/y"):
        with pytest.raises(ConnectionConfigError):
            QBOAuth("i", "s", "r", bad)
    with pytest.raises(ConnectionConfigError):
        QBOAuth("i", "", "r", "production")


def test_lazy_discovery_and_authorization_url():
    auth, transport = make_auth()
    assert transport.requests == []
    url = auth.authorization_url("st4te")
    assert url.startswith("https://auth.test/connect/oauth2?")
    assert "state=st4te" in url and "com.intuit.quickbooks.accounting" in url
    assert "client_id=client-id" in url and SECRET not in url
    assert transport.kwargs[0]["timeout"] == 30


def test_exchange_and_rotating_refresh_calls_back():
    seen = []
    auth, transport = make_auth(tokens(1), tokens(2), on_tokens=seen.append)
    first = auth.exchange_code("AUTH-CODE-123", "9130")
    assert first == TokenSet("ACCESS-TOKEN-1", "REFRESH-TOKEN-1", 4600.0, 8727400.0)
    body = transport.requests[1].body
    assert "grant_type=authorization_code" in body and "code=AUTH-CODE-123" in body
    assert transport.requests[1].headers["Authorization"].startswith("Basic ")
    second = auth.refresh(first.refresh_token)
    assert "refresh_token=REFRESH-TOKEN-1" in transport.requests[2].body
    assert second.refresh_token == "REFRESH-TOKEN-2"
    assert seen == [first, second]
    assert "TOKEN" not in repr(second)
    assert all(kw["timeout"] == 30 for kw in transport.kwargs)


@pytest.mark.parametrize("answer,cls,code", [
    ((400, {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}),
     RevokedError, "invalid_grant"),
    ((401, {"error": "invalid_client"}), AuthenticationError, "invalid_client"),
    ((503, "down"), TransientError, "503"),
    (requests.ConnectionError("dropped"), TransientError, "network"),
    ((200, {"token_type": "bearer"}), AuthenticationError, "invalid_response"),
])
def test_refresh_errors(answer, cls, code, caplog):
    caplog.set_level(logging.DEBUG)
    auth, _ = make_auth(answer)
    with pytest.raises(cls) as info:
        auth.refresh("OLD-REFRESH-TOKEN-9")
    assert type(info.value) is cls and info.value.code == code
    for text in (str(info.value), info.value.user_message(), caplog.text):
        assert "OLD-REFRESH-TOKEN-9" not in text and SECRET not in text
    assert info.value.__cause__ is None


def test_revoked_user_message_says_reconnect():
    auth, _ = make_auth((400, {"error": "invalid_grant"}))
    with pytest.raises(RevokedError) as info:
        auth.refresh("OLD-REFRESH-TOKEN-9")
    assert "reconnect" in info.value.user_message().lower()
    assert "invalid_grant" in info.value.user_message()


def test_revoke_and_discovery_failure():
    auth, transport = make_auth((200, ""))
    auth.revoke("REFRESH-TOKEN-5")
    assert transport.requests[1].url == "https://auth.test/tokens/revoke"
    transport = FakeTransport([(404, "nope")])
    auth = QBOAuth("i", "s", "r", "https://x.test/disc", adapter=transport, allowed_hosts=["x.test"])
    with pytest.raises(ConnectionConfigError):
        auth.authorization_url("s")
    with pytest.raises(ConnectionConfigError):
        auth.refresh("")
