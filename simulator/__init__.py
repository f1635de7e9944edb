"""A local QuickBooks Online server for tests and demos (plain Python, standard library only).

    from simulator import Simulator, US_REALM
    sim = Simulator(port=0).start()
    tokens = sim.issue_tokens(US_REALM)
"""
from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS
from .seed import CA_REALM, US_REALM
from .server import Simulator

__all__ = ["Simulator", "US_REALM", "CA_REALM", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET",
           "DEFAULT_REDIRECT_URIS"]
