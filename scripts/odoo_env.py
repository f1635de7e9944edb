"""Shared plumbing for the scripts that run Odoo with this addon: where Odoo is (which series), an
addons directory in which the repository appears under the addon's name, PostgreSQL, free ports.

The addon is tested on two Odoo series, each tree with its own virtual environment (Makefile:
SERIES, VENV_18, VENV_19). One run of a script uses one tree: ODOO_SRC, else ../shared/odoo-18.
The runs of a tree other than 18.0 keep their logs apart, in .run/<series>/ (e.g. .run/19.0/odoo.log)."""
import ast
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ADDON = "qbo_financial_hub"
ROOT = Path(__file__).resolve().parent.parent
# The Odoo series the addon supports, each with the Python its virtual environment uses (Makefile).
SUPPORTED_SERIES = ("18.0", "19.0")


def odoo_src():
    return Path(os.environ.get("ODOO_SRC") or (ROOT.parent / "shared" / "odoo-18"))


def _release_value(name):
    """A name of the tree's odoo/release.py (e.g. 'version', 'MIN_PY_VERSION'), or None."""
    release = odoo_src() / "odoo" / "release.py"
    if not release.is_file():
        return None
    scope = {}
    try:
        exec(compile(release.read_text(), str(release), "exec"), scope)  # noqa: S102 - Odoo's own file
    except Exception:  # noqa: BLE001 - an unreadable release.py is an unusable tree
        return None
    return scope.get(name)


def odoo_version():
    """Odoo's version string from the tree's odoo/release.py (e.g. '18.0'), or None."""
    return _release_value("version") or _release_value("serie")


def odoo_series():
    """The series of the tree at ODOO_SRC ('18.0', '19.0'), or None."""
    version = odoo_version()
    return next((s for s in SUPPORTED_SERIES if version and version.startswith(s)), None)


def odoo_problem():
    """Why the tree at ODOO_SRC cannot run this addon's Odoo suites with this Python, or None."""
    src = odoo_src()
    if not (src / "odoo-bin").is_file():
        return f"no Odoo source tree at {src} (no odoo-bin): set ODOO_SRC to an Odoo {' or '.join(SUPPORTED_SERIES)} tree"
    version = odoo_version()
    if not version:
        return f"{src} has no readable odoo/release.py: not an Odoo source tree"
    if not odoo_series():
        return f"{src} is Odoo {version}; the addon supports {', '.join(SUPPORTED_SERIES)}"
    low, high = _release_value("MIN_PY_VERSION"), _release_value("MAX_PY_VERSION")
    if low and high and not tuple(low) <= sys.version_info[:2] <= tuple(high):
        return (f"Odoo {version} runs on Python {'.'.join(map(str, low))} to {'.'.join(map(str, high))}, "
                f"not {sys.version.split()[0]} ({sys.executable}): use that series' virtual environment (Makefile)")
    return None


def run_dir():
    """Where a run on the tree at ODOO_SRC writes its logs and reports: .run for 18.0 (as before
    there were two series), .run/<series> for the others."""
    series = odoo_series()
    return ROOT / ".run" if series in (None, "18.0") else ROOT / ".run" / series


RUN_DIR = run_dir()


def describe_odoo():
    """One line: which Odoo tree and version the scripts use."""
    origin = "ODOO_SRC" if os.environ.get("ODOO_SRC") else "default ../shared/odoo-18"
    return (f"odoo: {odoo_src()} ({origin}), version {odoo_version() or 'unknown'}, "
            f"Python {sys.version.split()[0]} ({sys.executable})")


def odoo_bin():
    """The odoo-bin of the Odoo source tree at ODOO_SRC, or None when it cannot be used."""
    return None if odoo_problem() else odoo_src() / "odoo-bin"


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def addons_path(*extra):
    """Odoo wants the addon directory to carry the addon's name: the clone may not."""
    link_dir = ROOT / ".run" / "addons"   # one link for every series
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / ADDON
    if link.is_symlink() and link.resolve() != ROOT:
        link.unlink()
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    paths = [str(odoo_src() / "addons"), str(odoo_src() / "odoo" / "addons"), str(link_dir), *map(str, extra)]
    return ",".join(p for p in paths if Path(p).is_dir())


def ensure_postgres():
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_pg.sh")], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def odoo_command(db, *extra, http_port=None, subcommand=None, extra_addons=()):
    # No demo data: 18 installs it unless told `--without-demo all`; 19 installs none unless told
    # `--with-demo` (its --without-demo is a boolean, and warns about "all").
    no_demo = ["--without-demo", "all"] if odoo_series() == "18.0" else []
    cmd = [sys.executable, str(odoo_bin())] + ([subcommand] if subcommand else []) + [
           "--addons-path", addons_path(*extra_addons), "-d", db,
           "--db_host", "", *no_demo, "--http-interface", "127.0.0.1",
           "--http-port", str(http_port or free_port()), "--no-database-list"]
    return cmd + list(extra)


def db_has_addon(db):
    """True when database `db` exists and has this addon installed."""
    proc = subprocess.run(["psql", "-d", db, "-tAc",
                           f"SELECT 1 FROM ir_module_module WHERE name = '{ADDON}' AND state = 'installed'"],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "1"


def filestore(db):
    """Odoo's default filestore of database `db` (attachments: asset bundles, icons)."""
    return Path(os.path.expanduser("~/.local/share/Odoo/filestore")) / db


def db_exists(db):
    proc = subprocess.run(["psql", "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() == "1"


def base_template():
    """A database with the addon's dependencies installed (the addon itself not), made once per
    Odoo tree and list of dependencies. Test databases are copied from it (`createdb -T`), so a
    run installs only the addon: the dependencies' install (account, sale and the ~60 modules
    below them) is the longest part of a fresh database and is the same every time."""
    depends = sorted(ast.literal_eval((ROOT / "__manifest__.py").read_text())["depends"])
    key = hashlib.sha1(f"{odoo_src().resolve()}|{odoo_version()}|{','.join(depends)}".encode()).hexdigest()[:12]
    name = f"qbo_tpl_{key}"
    if db_exists(name):
        return name
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with open(Path("/tmp") / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait and reuse its result
        if db_exists(name):
            return name
        building = f"{name}_building"
        drop_db(building)
        log = RUN_DIR / "template-install.log"
        started = time.monotonic()
        print(f"building the template database {name} ({', '.join(depends)}) ...", flush=True)
        cmd = odoo_command(building, "-i", ",".join(depends), "--stop-after-init", "--log-level", "warn",
                           "--logfile", str(log))
        if subprocess.run(cmd, cwd=ROOT, check=False).returncode:
            drop_db(building)
            raise RuntimeError(f"installing {', '.join(depends)} failed; see {log}")
        subprocess.run(["psql", "-d", "postgres", "-qc", f'ALTER DATABASE "{building}" RENAME TO "{name}"'],
                       check=True)
        if filestore(building).exists():
            filestore(building).rename(filestore(name))
        print(f"template built in {time.monotonic() - started:.0f}s", flush=True)
    return name


def create_db_from_template(db):
    """A new database `db` holding the addon's dependencies, copied from base_template()."""
    template = base_template()
    drop_db(db)
    subprocess.run(["createdb", "-T", template, db], check=True)
    if filestore(template).exists():
        shutil.copytree(filestore(template), filestore(db), dirs_exist_ok=True)


def drop_db(db):
    subprocess.run(["dropdb", "--if-exists", db], check=False, stderr=subprocess.DEVNULL)
    shutil.rmtree(filestore(db), ignore_errors=True)
