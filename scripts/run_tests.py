"""Runs every test suite and ends with one summary line per suite:

    unit: N passed, N failed, N skipped
    odoo: N passed, N failed, N skipped
    tours: N passed, N failed, N skipped

`unit` is pytest over tests_unit/ (the QBO client, the simulator, python-quickbooks against
the simulator). `odoo` installs the addon in a database made fresh for the run and runs its
tests with Odoo's own runner (HttpCase and tours need Odoo's HTTP server, which pytest-odoo
does not start). `tours` runs the browser tours (tag qbo_tour) in the same database.
Exit status is non-zero when any test failed or a suite could not run.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

ROOT = odoo_env.ROOT
TOUR_TAG = "qbo_tour"


def line(suite, passed, failed, skipped):
    return f"{suite}: {passed} passed, {failed} failed, {skipped} skipped"


def run_unit():
    report = odoo_env.RUN_DIR / "unit.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "tests_unit", "-q", "-p", "no:odoo", "-p", "no:cacheprovider",
           f"--junitxml={report}"]
    proc = subprocess.run(cmd, cwd=ROOT)
    if not report.exists():
        return 0, 1, 0, f"pytest produced no report (exit {proc.returncode})"
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    failed = failures + errors
    if proc.returncode not in (0, 1, 5) and not failed:
        failed = 1  # pytest itself broke (usage error, internal error)
    return tests - failed - skipped, failed, skipped, None


def count_odoo_tests(tour):
    """Tests the Odoo suites hold, counted from the sources, for the report when Odoo is absent."""
    total = 0
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        is_tour = TOUR_TAG in text
        if is_tour == tour:
            total += len(re.findall(r"^\s+def test_", text, re.M))
    return total


def parse_odoo_log(log_text):
    """Odoo's runner logs '<f> failed, <e> error(s) of <n> tests when loading database'."""
    matches = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", log_text)
    skipped = len(re.findall(r"odoo\.tests\.(?:result|stats)?[^\n]*: skipped ", log_text)) or \
        len(re.findall(r"\bskipped [\w.]+ : ", log_text))
    if not matches:
        return None
    failed, errors, ran = (int(x) for x in matches[-1])
    return ran - failed - errors - skipped, failed + errors, skipped


def ensure_chromium():
    """Odoo's tours drive Debian's `chromium`; install it when missing and we are root.
    Returns None when it is there, else why the tours cannot run."""
    import shutil
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    if any(shutil.which(n) for n in names):
        return None
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        print("tours: installing chromium (apt-get install -y chromium)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if any(shutil.which(n) for n in names):
            return None
    return "no chromium on this machine (apt-get install chromium as root): the browser tours were skipped"


def run_odoo(suite, db, install, tags=None, update=False):
    log_path = odoo_env.RUN_DIR / f"{suite}.log"
    if not tags:
        tags = f"{TOUR_TAG}/{odoo_env.ADDON}" if suite == "tours" else f"/{odoo_env.ADDON},-{TOUR_TAG}"
    extra = ["--test-enable", "--test-tags", tags, "--stop-after-init", "--log-level", "info",
             "--logfile", str(log_path)]
    if install:
        extra[:0] = ["-i", odoo_env.ADDON]
    elif update:
        extra[:0] = ["-u", odoo_env.ADDON]
    cmd = odoo_env.odoo_command(db, *extra)
    log_path.unlink(missing_ok=True)
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT)
    log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    interesting, in_failure = [], False
    for ln in log_text.splitlines():
        if re.search(r"FAIL:|ERROR:| CRITICAL ", ln):
            in_failure = True       # print the failure with its traceback
        elif re.match(r"\d{4}-\d\d-\d\d ", ln):
            in_failure = False
        if in_failure or re.search(r" ERROR | tests when loading| post-tests in ", ln):
            interesting.append(ln)
    print(f"--- {suite}: odoo log {log_path} ({time.time() - started:.0f}s), notable lines:")
    for ln in interesting[-200:]:
        print("   ", ln[:2000])
    result = parse_odoo_log(log_text)
    if result is None:
        return 0, 1, 0, f"Odoo ran no test suite (exit {proc.returncode}); see {log_path}"
    passed, failed, skipped = result
    if proc.returncode and not failed:
        failed = 1
        return passed, failed, skipped, f"Odoo exited {proc.returncode} after the tests; see {log_path}"
    return passed, failed, skipped, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", choices=["unit", "odoo", "tours", "all"], default="all")
    parser.add_argument("--keep-db", action="store_true", default=bool(os.environ.get("KEEP_DB")))
    parser.add_argument("--db", help="reuse (or create and keep) this database: the addon is updated, not "
                        "installed afresh, so a run of one class takes seconds (development only)")
    parser.add_argument("--tags", help="Odoo --test-tags, e.g. /qbo_financial_hub:TestSyncCustomers "
                        "(development only; with --suite odoo or tours)")
    args = parser.parse_args()
    summary, notes = [], []

    if args.suite in ("unit", "all"):
        passed, failed, skipped, note = run_unit()
        summary.append(line("unit", passed, failed, skipped))
        if note:
            notes.append(f"unit: {note}")

    odoo_suites = [s for s in ("odoo", "tours") if args.suite in (s, "all")]
    if odoo_suites and not odoo_env.odoo_bin():
        notes.append(f"no Odoo 18 source tree found at {odoo_env.odoo_src()} (set ODOO_SRC): "
                     f"the Odoo suites were skipped")
        for suite in odoo_suites:
            summary.append(line(suite, 0, 0, count_odoo_tests(tour=suite == "tours")))
    elif odoo_suites:
        odoo_env.ensure_postgres()
        db = args.db or f"qbo_test_{int(time.time())}_{os.getpid()}"
        if args.db:
            args.keep_db = True
        try:
            installed = bool(args.db) and odoo_env.db_has_addon(args.db)
            for suite in odoo_suites:
                if suite == "tours" and not count_odoo_tests(tour=True):
                    summary.append(line("tours", 0, 0, 0))
                    notes.append("tours: the addon has no browser tour yet")
                    continue
                no_browser = ensure_chromium() if suite == "tours" else None
                if no_browser:
                    summary.append(line("tours", 0, 0, count_odoo_tests(tour=True)))
                    notes.append(f"tours: {no_browser}")
                    continue
                passed, failed, skipped, note = run_odoo(suite, db, install=not installed, tags=args.tags,
                                                         update=bool(args.db))
                installed = True
                summary.append(line(suite, passed, failed, skipped))
                if note:
                    notes.append(f"{suite}: {note}")
        finally:
            if not args.keep_db:
                odoo_env.drop_db(db)
            else:
                notes.append(f"database kept: {db}")

    print()
    for note in notes:
        print(note)
    for entry in summary:
        print(entry)
    failed_any = any(not re.search(r" 0 failed,", s) for s in summary)
    sys.exit(1 if failed_any else 0)


if __name__ == "__main__":
    main()
