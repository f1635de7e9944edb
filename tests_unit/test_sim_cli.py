"""`python3 -m simulator` from the repository root: flags, faults, --data saved on shutdown."""
import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from simulator import US_REALM
from simulator.limits import parse_fault_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_fault_spec_parsing():
    assert parse_fault_spec("9130350000000001:error_rate=0.1,lost_rate=0.05,seed=3") == (
        "9130350000000001", {"error_rate": 0.1, "lost_rate": 0.05, "seed": 3})
    with pytest.raises(ValueError):
        parse_fault_spec("1:nonsense=1")


def test_cli_serves_and_saves_data_on_sigterm(tmp_path):
    data = tmp_path / "qbo.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--data", str(data), "--client-id", "cli-app",
         "--client-secret", "cli-secret", "--redirect-uri", "http://example.test/cb", "--no-limits",
         "--faults", US_REALM + ":latency_ms=1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        url = banner.split(" on ")[1].split(" ")[0]
        assert requests.get(url + "/.well-known/openid_configuration", timeout=5).status_code == 200
        tokens = requests.post(url + "/admin/tokens", json={"realm_id": US_REALM, "client_id": "cli-app"},
                               timeout=5).json()
        answer = requests.post(url + "/v3/company/%s/customer" % US_REALM, json={"DisplayName": "From CLI"},
                               headers={"Authorization": "Bearer " + tokens["access_token"]}, timeout=5)
        assert answer.status_code == 200
        assert requests.get(url + "/admin/faults", timeout=5).json()[US_REALM]["latency_ms"] == 1
        assert requests.get(url + "/admin/limits", timeout=5).json()["enabled"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    state = json.loads(data.read_text())
    names = [c["DisplayName"] for c in state["companies"][US_REALM]["data"]["Customer"].values()]
    assert "From CLI" in names and "cli-app" in state["oauth"]["apps"]
