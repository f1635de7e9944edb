"""The simulator's OAuth 2.0: consent page, code exchange, rotating refresh tokens, revoke."""
import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from simulator import CA_REALM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM
from simulator.client import SimClient

REDIRECT = "http://localhost:8069/qbo/oauth/callback"
BASIC = "Basic " + base64.b64encode(("%s:%s" % (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)).encode()).decode()


def authorize(sim, **overrides):
    params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT,
              "scope": "com.intuit.quickbooks.accounting", "state": "xyz"}
    params.update(overrides)
    return params


def consent(sim, realm=US_REALM, action="connect", **overrides):
    form = dict(authorize(sim, **overrides), realmId=realm, action=action)
    answer = requests.post(sim.url + "/connect/oauth2", data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)


def token(sim, auth=BASIC, **form):
    return requests.post(sim.url + "/oauth2/v1/tokens/bearer", data=form, timeout=5,
                         headers={"Authorization": auth, "Accept": "application/json"})


def exchange(sim, realm=US_REALM):
    code = consent(sim, realm)["code"][0]
    answer = token(sim, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert answer.status_code == 200
    return answer.json()


def test_discovery_document(sim):
    doc = requests.get(sim.discovery_url, timeout=5).json()
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "issuer", "jwks_uri",
                "userinfo_endpoint"):
        assert doc[key].startswith(sim.url)


def test_consent_page_lists_companies_and_redirects(sim):
    page = requests.get(sim.url + "/connect/oauth2?" + urlencode(authorize(sim)), timeout=5)
    assert page.status_code == 200
    assert "Sim US Company (Demo Co.)" in page.text and "Sim Canada Company" in page.text
    query = consent(sim, CA_REALM)
    assert query["state"] == ["xyz"] and query["realmId"] == [CA_REALM] and query["code"][0]
    cancelled = consent(sim, action="cancel")
    assert cancelled["error"] == ["access_denied"] and cancelled["state"] == ["xyz"]


def test_unknown_client_or_redirect_gets_an_error_page(sim):
    for bad in ({"client_id": "nobody"}, {"redirect_uri": "http://evil.example/cb"}):
        page = requests.get(sim.url + "/connect/oauth2?" + urlencode(authorize(sim, **bad)),
                            allow_redirects=False, timeout=5)
        assert page.status_code == 400 and "Location" not in page.headers
        assert page.headers["Content-Type"].startswith("text/html")


def test_code_exchange_single_use_and_expiry(sim):
    code = consent(sim)["code"][0]
    first = token(sim, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    again = token(sim, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    late = consent(sim)["code"][0]
    sim.advance(601)
    assert token(sim, grant_type="authorization_code", code=late, redirect_uri=REDIRECT).status_code == 400


def test_wrong_client_credentials(sim):
    bad = "Basic " + base64.b64encode(b"qbo-sim-client:wrong").decode()
    answer = token(sim, auth=bad, grant_type="refresh_token", refresh_token="x")
    assert answer.status_code == 401 and answer.json() == {"error": "invalid_client"}


def test_access_token_expires_after_an_hour(sim):
    tokens = exchange(sim)
    api = SimClient(sim.url, US_REALM, tokens["access_token"])
    assert api.read("Customer", "1").status == 200
    sim.advance(3599)
    assert api.read("Customer", "1").status == 200
    sim.advance(2)
    expired = api.read("Customer", "1")
    assert expired.status == 401 and expired.json["fault"]["error"][0]["code"] == "3200"


def test_refresh_rotation_and_24h_grace(sim):
    tokens = exchange(sim)
    old = tokens["refresh_token"]
    first = token(sim, grant_type="refresh_token", refresh_token=old).json()
    assert first["refresh_token"] != old
    sim.advance(23 * 3600)
    within = token(sim, grant_type="refresh_token", refresh_token=old)
    assert within.status_code == 200 and within.json()["refresh_token"] == first["refresh_token"]
    sim.advance(2 * 3600)
    late = token(sim, grant_type="refresh_token", refresh_token=old)
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
    newest = token(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert newest.status_code == 200
    api = SimClient(sim.url, US_REALM, newest.json()["access_token"])
    assert api.read("Customer", "1").status == 200


def test_refresh_token_expires_after_100_days(sim):
    tokens = exchange(sim)
    sim.advance(8726400 + 1)
    assert token(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


def test_revoke_kills_the_grant(sim):
    tokens = exchange(sim)
    answer = requests.post(sim.url + "/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]},
                           headers={"Authorization": BASIC}, timeout=5)
    assert answer.status_code == 200
    assert SimClient(sim.url, US_REALM, tokens["access_token"]).read("Customer", "1").status == 401
    refused = token(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"


def test_revoke_all_and_admin_endpoints(sim):
    tokens = requests.post(sim.url + "/admin/tokens", json={"realm_id": CA_REALM}, timeout=5).json()
    api = SimClient(sim.url, CA_REALM, tokens["access_token"])
    assert api.read("Customer", "1").status == 200
    requests.post(sim.url + "/admin/revoke", json={"realm_id": CA_REALM}, timeout=5)
    assert api.read("Customer", "1").status == 401
    requests.post(sim.url + "/admin/apps", json={"client_id": "other", "client_secret": "s",
                                                 "redirect_uris": ["http://x/cb"]}, timeout=5)
    page = requests.get(sim.url + "/connect/oauth2?" + urlencode(authorize(
        sim, client_id="other", redirect_uri="http://x/cb")), timeout=5)
    assert page.status_code == 200
    counters = requests.get(sim.url + "/admin/counters", params={"realm_id": CA_REALM}, timeout=5).json()
    assert counters["unauthorized"] == 1
    rows = requests.get(sim.url + "/admin/entities", params={"realm_id": CA_REALM, "entity": "Item"},
                        timeout=5).json()
    assert "Design" in [r["Name"] for r in rows]
    requests.post(sim.url + "/admin/advance", json={"seconds": 3601}, timeout=5)
    fresh = SimClient(sim.url, CA_REALM, sim.issue_tokens(CA_REALM)["access_token"])
    assert fresh.read("Customer", "1").status == 200
