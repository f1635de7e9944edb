"""Regenerate i18n/qbo_financial_hub.pot the Odoo way (Odoo's trans_export, what
``odoo-bin --i18n-export`` runs), with clean ``#: code:addons/qbo_financial_hub/...`` references:

    python scripts/export_pot.py [--db DB] [--po]

The addon is installed in a fresh database (``qbo_export_pot``, dropped afterwards) or, with
``--db``, updated in that database (kept). ``--po`` then merges the new .pot into every
``i18n/*.po`` with ``msgmerge --no-fuzzy-matching`` (translations kept, new strings empty, none
fuzzy, strings gone from the code dropped): translate the empty ones, and check with ``msgfmt --check -c`` and
``msgattrib --untranslated``. tests/test_i18n.py fails when the committed .pot is stale.
"""
import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402
from run_odoo_script import install  # noqa: E402

ROOT = odoo_env.ROOT
POT = ROOT / "i18n" / f"{odoo_env.ADDON}.pot"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--db", help="update the addon in this database (kept) instead of a fresh one")
    parser.add_argument("--po", action="store_true", help="merge the new .pot into i18n/*.po (msgmerge)")
    args = parser.parse_args()
    if odoo_env.odoo_problem():
        raise SystemExit(odoo_env.odoo_problem())
    odoo_env.ensure_postgres()
    db = args.db or "qbo_export_pot"
    if args.db and odoo_env.db_has_addon(db):
        log = odoo_env.RUN_DIR / f"{db}-update.log"
        cmd = odoo_env.odoo_command(db, "-u", odoo_env.ADDON, "--stop-after-init", "--log-level", "warn",
                                    "--logfile", str(log))
        if subprocess.run(cmd, cwd=ROOT, check=False).returncode:
            raise SystemExit(f"updating the addon failed; see {log}")
    else:
        install(db)
    try:
        sys.path[:0] = [str(odoo_env.odoo_src())]
        import odoo
        from odoo.modules.registry import Registry
        odoo.tools.config.parse_config(["--addons-path", odoo_env.addons_path(), "-d", db, "--db_host", "",
                                        "--log-level", "warn", "--no-http"])
        # by its path: importing the addon's tests package would import Odoo's test framework
        spec = importlib.util.spec_from_file_location("qbo_i18n_export", ROOT / "tests" / "i18n_export.py")
        i18n_export = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(i18n_export)
        with Registry(db).cursor() as cr:
            POT.write_bytes(i18n_export.export_pot(cr))
    finally:
        if not args.db:
            odoo_env.drop_db(db)
    print(f"{POT.relative_to(ROOT)} written", flush=True)
    if args.po:
        for po in sorted(POT.parent.glob("*.po")):
            subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none", "--no-fuzzy-matching",
                            str(po), str(POT)],
                           check=True)
            subprocess.run(["msgattrib", "--no-obsolete", "--output-file", str(po), str(po)], check=True)
            print(f"{po.relative_to(ROOT)} merged", flush=True)


if __name__ == "__main__":
    main()
