"""`--realms N`: N seeded companies, copies of the US and Canadian ones with their own ids and names,
each with its own data, tokens and Intuit limits."""
import os
import subprocess
import sys

import pytest
import requests

from simulator import CA_REALM, US_REALM, Simulator
from simulator.client import SimClient
from simulator.seed import realm_ids

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_realm_ids_keep_the_two_originals_first():
    assert realm_ids() == [US_REALM, CA_REALM]
    assert realm_ids(0) == [US_REALM, CA_REALM]
    assert realm_ids(4) == [US_REALM, CA_REALM, "9130350000000003", "9130350000000004"]


def test_copies_have_their_own_ids_names_and_data():
    sim = Simulator(port=0, realms=5, limits=False).start()
    try:
        names = dict(sim.company_names())
        assert list(names) == realm_ids(5)
        assert names[US_REALM] == "Sim US Company (Demo Co.)" and names[CA_REALM] == "Sim Canada Company"
        assert names["9130350000000003"] == "Sim US Company 3"
        assert names["9130350000000004"] == "Sim Canada Company 4"
        assert len(set(names.values())) == 5
        us3 = SimClient(sim.url, "9130350000000003", sim.issue_tokens("9130350000000003")["access_token"])
        ca4 = SimClient(sim.url, "9130350000000004", sim.issue_tokens("9130350000000004")["access_token"])
        info = us3.get("companyinfo/1").json["CompanyInfo"]
        assert info["Country"] == "US" and info["CompanyName"] == "Sim US Company 3"
        assert ca4.get("companyinfo/1").json["CompanyInfo"]["Country"] == "CA"
        # the Canadian copy has the Canadian tax codes, the US copy the US ones
        assert {c["Id"] for c in ca4.query("SELECT * FROM TaxCode").json["QueryResponse"]["TaxCode"]} >= {"3", "4", "7"}
        assert {c["Id"] for c in us3.query("SELECT * FROM TaxCode").json["QueryResponse"]["TaxCode"]} >= {"TAX", "NON"}
        # data is per realm: a customer created in one copy is not in another
        assert us3.create("Customer", {"DisplayName": "Only in 3"}).status == 200
        assert [c["DisplayName"] for c in sim.entities("9130350000000003", "Customer")].count("Only in 3") == 1
        assert "Only in 3" not in [c["DisplayName"] for c in sim.entities("9130350000000005", "Customer")]
        assert "Only in 3" not in [c["DisplayName"] for c in sim.entities(US_REALM, "Customer")]
        # a token of one realm does not open another
        assert SimClient(sim.url, "9130350000000005", us3.token).get("companyinfo/1").status == 403
    finally:
        sim.stop()


def test_limits_are_per_realm():
    sim = Simulator(port=0, realms=3).start()
    try:
        sim.set_limits(per_minute=2)
        us3 = SimClient(sim.url, "9130350000000003", sim.issue_tokens("9130350000000003")["access_token"])
        us1 = SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM)["access_token"])
        assert [us3.get("companyinfo/1").status for _ in range(3)] == [200, 200, 429]
        assert us1.get("companyinfo/1").status == 200
        assert sim.counters("9130350000000003")["throttled"] == 1
    finally:
        sim.stop()


def test_unknown_realm_is_refused_and_saved_copies_come_back(tmp_path):
    sim = Simulator(port=0, realms=2)
    with pytest.raises(KeyError):  # realm 3 does not exist without --realms 3
        sim.issue_tokens("9130350000000003")
    bigger = Simulator(port=0, realms=3)
    tokens = bigger.issue_tokens("9130350000000003")
    assert tokens["access_token"]
    path = str(tmp_path / "state.json")
    bigger.save(path)
    again = Simulator(port=0, data_file=path)   # started without --realms: the saved copy is served
    assert "9130350000000003" in again.companies
    assert dict(again.company_names())["9130350000000003"] == "Sim US Company 3"


def test_cli_realms_flag_and_admin_listing():
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--realms", "12"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split(" on ")[1].split(" ")[0]
        realms = requests.get(url + "/admin/realms", timeout=5).json()
        assert [r["realm_id"] for r in realms] == realm_ids(12)
        assert realms[11] == {"realm_id": "9130350000000012", "name": "Sim Canada Company 12"}
        assert "Sim US Company 11" in requests.get(url + "/connect/oauth2?client_id=qbo-sim-client&response_type=code"
                                                   "&redirect_uri=http://localhost:8069/qbo/oauth/callback"
                                                   "&scope=com.intuit.quickbooks.accounting&state=x",
                                                   timeout=5).text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
