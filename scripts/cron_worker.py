"""One Odoo cron worker for the benchmarks: what a cron thread of `odoo-bin` does, in a process
of its own (as `odoo-bin --workers N --max-cron-threads M` forks them).

    python scripts/cron_worker.py --db qbo_bench --stop-file PATH [--stats PATH]

It loads the database's registry, then runs Odoo's own `ir.cron._process_jobs(db)` (the call
of `odoo.service.server`'s cron thread: acquire a ready cron job with `FOR NO KEY UPDATE SKIP
LOCKED`, run it, reschedule it) whenever a cron is woken up (Odoo's `cron_trigger` NOTIFY) or
every second, until PATH exists. At exit it writes {"cpu": seconds, "sql": queries, "runs": n}
(measured from its first call) as JSON to --stats.
"""
import argparse
import json
import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--stop-file", required=True, type=Path)
    parser.add_argument("--stats", type=Path)
    parser.add_argument("--log-level", default="warn")
    args = parser.parse_args()
    sys.path[:0] = [str(odoo_env.odoo_src()), str(odoo_env.ROOT)]
    import odoo
    from odoo import sql_db
    from odoo.addons.base.models.ir_cron import ir_cron
    from odoo.modules.registry import Registry
    odoo.tools.config.parse_config(["--addons-path", odoo_env.addons_path(), "-d", args.db, "--db_host", "",
                                    "--log-level", args.log_level, "--no-http"])
    Registry(args.db)
    listen = sql_db.db_connect("postgres").cursor()
    listen.execute("LISTEN cron_trigger")
    listen.commit()
    cpu0, sql0, runs = time.process_time(), sql_db.sql_counter, 0
    while not args.stop_file.exists():
        ir_cron._process_jobs(args.db)
        runs += 1
        if select.select([listen._cnx], [], [], 1.0)[0]:
            listen._cnx.poll()
            listen._cnx.notifies.clear()
    stats = {"cpu": time.process_time() - cpu0, "sql": sql_db.sql_counter - sql0, "runs": runs}
    listen.close()
    if args.stats:
        args.stats.write_text(json.dumps(stats))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
