"""Shared plumbing for the scripts that run Odoo with this addon: where Odoo is, an addons
directory in which the repository appears under the addon's name, PostgreSQL, free ports."""
import os
import socket
import subprocess
import sys
from pathlib import Path

ADDON = "qbo_financial_hub"
ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"


def odoo_src():
    return Path(os.environ.get("ODOO_SRC") or (ROOT.parent / "shared" / "odoo-18"))


def odoo_bin():
    """The odoo-bin of the Odoo 18 source tree at ODOO_SRC, or None when there is none."""
    path = odoo_src() / "odoo-bin"
    if not path.is_file():
        return None
    release = odoo_src() / "odoo" / "release.py"
    if release.is_file() and "version_info = (18, 0" not in release.read_text():
        print(f"warning: {odoo_src()} does not look like Odoo 18.0", flush=True)
    return path


def addons_path():
    """Odoo wants the addon directory to carry the addon's name: the clone may not."""
    link_dir = RUN_DIR / "addons"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / ADDON
    if link.is_symlink() and link.resolve() != ROOT:
        link.unlink()
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    paths = [str(odoo_src() / "addons"), str(odoo_src() / "odoo" / "addons"), str(link_dir)]
    return ",".join(p for p in paths if Path(p).is_dir())


def ensure_postgres():
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_pg.sh")], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def odoo_command(db, *extra, http_port=None, subcommand=None):
    cmd = [sys.executable, str(odoo_bin())] + ([subcommand] if subcommand else []) + [
           "--addons-path", addons_path(), "-d", db,
           "--db_host", "", "--without-demo", "all", "--http-interface", "127.0.0.1",
           "--http-port", str(http_port or free_port()), "--no-database-list"]
    return cmd + list(extra)


def db_has_addon(db):
    """True when database `db` exists and has this addon installed."""
    proc = subprocess.run(["psql", "-d", db, "-tAc",
                           f"SELECT 1 FROM ir_module_module WHERE name = '{ADDON}' AND state = 'installed'"],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "1"


def drop_db(db):
    subprocess.run(["dropdb", "--if-exists", db], check=False, stderr=subprocess.DEVNULL)
