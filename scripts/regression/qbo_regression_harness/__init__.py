from . import models


def post_init_hook(env):
    """Connect every existing company (the runner passes the simulator through the environment)."""
    env["res.company"].search([])._qbo_regression_connect()
