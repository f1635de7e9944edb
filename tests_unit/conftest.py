"""Shared fixtures: one in-process QBO simulator per session, reset before each test."""
import pytest

from simulator import CA_REALM, US_REALM, Simulator
from simulator.client import SimClient


@pytest.fixture(scope="session")
def sim_server():
    server = Simulator(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server):
    """The running simulator, back in its seeded state (tokens, faults, limits, counters cleared)."""
    sim_server.reset()
    yield sim_server
    sim_server.reset()


@pytest.fixture
def us_api(sim):
    """A standard-library API client on the US company, with a fresh access token."""
    return SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM)["access_token"])


@pytest.fixture
def ca_api(sim):
    """A standard-library API client on the Canadian company."""
    return SimClient(sim.url, CA_REALM, sim.issue_tokens(CA_REALM)["access_token"])
