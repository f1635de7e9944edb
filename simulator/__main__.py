"""python3 -m simulator --port 8080 [--host 127.0.0.1] [--data FILE] [--latency-ms N] [--time-scale X] ..."""
import argparse
import logging
import signal
import sys

from .limits import parse_fault_spec
from .oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS
from .server import Simulator


def build_parser():
    parser = argparse.ArgumentParser(prog="python3 -m simulator", description="Local QuickBooks Online simulator")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", help="JSON file: loaded at start if present, saved on shutdown")
    parser.add_argument("--latency-ms", type=float, default=0, help="latency added to every API request")
    parser.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--redirect-uri", action="append", help="registered redirect URI (repeatable)")
    parser.add_argument("--realms", type=int, default=2,
                        help="seeded companies: the US and Canadian ones, then copies of them with their own "
                             "realm ids (9130350000000003, ...) and names")
    parser.add_argument("--no-limits", action="store_true", help="switch Intuit's throttling limits off")
    parser.add_argument("--per-minute", type=int, default=500)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--batch-per-minute", type=int, default=40)
    parser.add_argument("--batch-items", type=int, default=30)
    parser.add_argument("--realm-batch-per-minute", type=int, default=120,
                        help="/batch requests a minute per realm, every app together")
    parser.add_argument("--faults", action="append", default=[],
                        help="REALM:error_rate=0.1,lost_rate=0.05,latency_ms=50,throttle_rate=0,"
                             "timeout_rate=0,timeout_s=5,seed=1 (repeatable)")
    parser.add_argument("--coreplus-allowance", type=int, default=None,
                        help="monthly CorePlus (read/query/CDC) calls per realm; past it they answer 429 "
                             "(Intuit's Builder tier: 500000)")
    parser.add_argument("--webhook-url", help="POST webhooks of every change to this URL")
    parser.add_argument("--webhook-verifier", default="qbo-sim-verifier",
                        help="the app's verifier token (intuit-signature key)")
    parser.add_argument("--webhook-format", choices=("cloudevents", "legacy"), default="cloudevents")
    parser.add_argument("--webhook-window", type=float, default=1.0, help="seconds events are batched for")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sim = Simulator(host=args.host, port=args.port, data_file=args.data, latency_ms=args.latency_ms,
                    time_scale=args.time_scale, limits=not args.no_limits, realms=args.realms,
                    coreplus_allowance=args.coreplus_allowance)
    sim.register_app(args.client_id, args.client_secret, args.redirect_uri or DEFAULT_REDIRECT_URIS)
    if not args.no_limits:
        sim.set_limits(args.per_minute, args.concurrent, args.batch_per_minute, args.batch_items,
                       realm_batch_per_minute=args.realm_batch_per_minute)
    for spec in args.faults:
        realm, values = parse_fault_spec(spec)
        sim.set_faults(realm, **values)
    sim.start()
    if args.webhook_url:
        sim.webhooks.configure(args.webhook_url, args.webhook_verifier, args.webhook_format, args.webhook_window)
    signal.signal(signal.SIGTERM, _interrupt)
    print("QBO simulator on %s (discovery %s, client_id %s)" % (sim.url, sim.discovery_url, args.client_id),
          flush=True)
    sim.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
