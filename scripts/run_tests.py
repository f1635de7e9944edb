"""Runs every test suite on one Odoo tree and ends with one summary line per suite, each with the
tree's series:

    lint 18.0: N messages
    unit 18.0: N passed, N failed, N skipped
    odoo 18.0: N passed, N failed, N skipped
    tours 18.0: N passed, N failed, N skipped
    pytest-odoo 18.0: N passed, N failed, N skipped
    regression 18.0: N passed, N failed, N skipped

`unit` is pytest over tests_unit/ (the QBO client, the simulator, python-quickbooks against
the simulator). `odoo` installs the addon in a database made fresh for the run and runs its
tests with Odoo's own runner. `tours` runs the browser tours (tag qbo_tour) in the same
database. `pytest-odoo` runs the addon's TransactionCase tests again through pytest-odoo in that
database (run_pytest_odoo says why HttpCase stays on Odoo's runner). `regression` runs a selection of Odoo's own tests (REGRESSION below) in a database
where every company is connected to the simulator with the Financial Hub's hooks switched on.
`lint` is pylint-odoo with the repository's .pylintrc.

Odoo comes from ODOO_SRC, else ../shared/odoo-18 (odoo_env.py), run by this Python: each series
has its own virtual environment, and `make test` runs this script once per series
(scripts/run_series.py), then repeats every series' lines. With CI=true, an Odoo tree
that is missing or unusable, a registry that does not load, a suite that ran no test and a tour
suite without Chromium are failures; elsewhere they are skips, said on a line of their own.
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
REGRESSION_ADDONS = ROOT / "scripts" / "regression"
REGRESSION_HARNESS = "qbo_regression_harness"

# Odoo's own tests run with the addon installed and every company connected (suite `regression`),
# per series: (module, test class, why this class). The classes of both series bear the same names
# but for sale's down-payment tests, which 19.0 moved onto its tax engine's shared tests.
_REGRESSION_BOTH = [
    ("account", "TestAccountMoveOutInvoiceOnchanges",
     "customer invoices: create, onchanges, post, reset to draft, cancel, delete: the addon hooks _post, "
     "write, button_draft, button_cancel and unlink of account.move"),
    ("account", "TestAccountMoveOutRefundOnchanges",
     "credit notes, pushed as QuickBooks CreditMemos through the same hooks"),
    ("account", "TestAccountMoveReconcile",
     "reconciliation of invoices, credit notes and payments: what payment sync listens to"),
    ("account", "TestAccountPaymentRegister",
     "the register-payment wizard on customer invoices (partial, grouped, write-off, foreign currency)"),
    ("account", "TestAccountPayment",
     "account.payment create, post, cancel, draft: the payment hooks"),
    ("sale", "TestSaleOrder",
     "quotations and orders: create, confirm, cancel, lines added and removed (estimate pushes)"),
    ("sale", "TestSaleOrderInvoicing",
     "invoices made from orders"),
    ("sale", "TestSalesTeam",
     "sales teams on orders (mapped to QuickBooks locations)"),
    ("sale", "TestSaleToInvoice",
     "order to invoice flows, down payments, invoicing policies"),
    ("sale", "TestSaleRefund",
     "credit notes made from orders"),
    ("account_payment", "TestAccountPayment",
     "payments made through payment transactions, reconciled with invoices"),
    ("account_payment", "TestFlows",
     "invoice payment through the portal's payment flow"),
]
REGRESSION = {
    "18.0": _REGRESSION_BOTH + [
        ("sale", "TestSaleOrderDownPayment", "down-payment invoices: negative lines and their taxes"),
    ],
    "19.0": _REGRESSION_BOTH + [
        ("sale", "TestTaxesDownPaymentSale",
         "down-payment invoices: negative lines and their taxes (sale/tests/test_taxes_downpayment.py: 19.0's "
         "TestSaleOrderDownPayment, on the tax engine's shared TestTaxesDownPayment)"),
    ],
}

# Tests of the selection left out, per series, each with the reason (checked without the addon installed).
REGRESSION_EXCLUDED = {
    "18.0": [
        ("account", "TestAccountPayment.test_resequence_change_payment_name",
         "depends on the year: it renames a payment dated today to PBNK1/2025/00002 and fails in any "
         "year but 2025, with or without this addon (seen on 2026-11-22 in a database with `account` only)"),
    ],
    "19.0": [],
}


def series_label():
    """The series the summary lines carry: the tree's ('18.0', '19.0'), else what there is."""
    return odoo_env.odoo_series() or odoo_env.odoo_version() or "unknown"


def line(suite, passed, failed, skipped):
    return f"{suite} {series_label()}: {passed} passed, {failed} failed, {skipped} skipped"


def run_unit():
    report = odoo_env.RUN_DIR / "unit.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "tests_unit", "-q", "-p", "no:odoo", "-p", "no:cacheprovider",
           f"--junitxml={report}"]
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
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
    return "no chromium on this machine (apt-get install chromium as root)"


def report_log(suite, log_path, started):
    """Print the failures (with their tracebacks) of an Odoo log; return its text."""
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
    return log_text


def run_odoo_tests(suite, cmd, log_path, env=None):
    log_path.unlink(missing_ok=True)
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    log_text = report_log(suite, log_path, started)
    result = parse_odoo_log(log_text)
    if result is None:
        return 0, 1, 0, f"Odoo ran no test suite (exit {proc.returncode}): the registry did not load; see {log_path}"
    passed, failed, skipped = result
    if not passed + failed + skipped:
        return 0, 1, 0, f"Odoo ran 0 tests; see {log_path}"
    if proc.returncode and not failed:
        return passed, 1, skipped, f"Odoo exited {proc.returncode} after the tests; see {log_path}"
    return passed, failed, skipped, None


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
    return run_odoo_tests(suite, odoo_env.odoo_command(db, *extra), log_path)


def run_pytest_odoo(db):
    """The addon's TransactionCase tests through pytest-odoo, in the `odoo` suite's database, as an
    Odoo developer who uses pytest runs them. pytest-odoo imports a test file as
    odoo.addons.<directory name>...: the tests are given through the addons-path link that carries
    the addon's name (`cd` into it would not do: the working directory resolves the link).
    HttpCase classes (the OAuth routes, the tours) stay on Odoo's runner (suites `odoo` and
    `tours`): they need Odoo's HTTP server and its test browser. Odoo logs at `critical` only:
    pytest-odoo imports odoo.tests before it sets test_enable, which Odoo logs as an error with a
    stack trace that is not one; pytest still reports every failure with its traceback."""
    report = odoo_env.RUN_DIR / "pytest-odoo.xml"
    report.unlink(missing_ok=True)
    tests = Path(odoo_env.addons_path().split(",")[2]) / odoo_env.ADDON / "tests"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(odoo_env.odoo_src()),
                                                                      os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
           f"--odoo-database={db}", f"--odoo-addons-path={odoo_env.addons_path()}", "--odoo-log-level=critical",
           str(tests), "--ignore", str(tests / "test_tours.py"), "-k", "not TestOAuthFlow"]
    proc = subprocess.run(cmd, cwd=odoo_env.RUN_DIR, env=env, check=False)
    if not report.exists():
        return 0, 1, 0, f"pytest-odoo produced no report (exit {proc.returncode})"
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests_run, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    if not tests_run:
        return 0, 1, 0, "pytest-odoo collected no test"
    return tests_run - failures - errors - skipped, failures + errors, skipped, None


def run_regression(db):
    """Install the addon and the harness with a simulator running, then run REGRESSION."""
    from run_odoo_script import SimulatorProcess
    sys.path.insert(0, str(ROOT))
    from simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM

    sim = SimulatorProcess(["--no-limits"], odoo_env.RUN_DIR / "regression-simulator.log").start()
    try:
        tokens = sim.issue_tokens(US_REALM)
        env = dict(os.environ, QBO_REGRESSION_URL=sim.url, QBO_REGRESSION_REALM=US_REALM,
                   QBO_REGRESSION_ACCESS_TOKEN=tokens["access_token"],
                   QBO_REGRESSION_REFRESH_TOKEN=tokens["refresh_token"],
                   QBO_REGRESSION_CLIENT_ID=DEFAULT_CLIENT_ID, QBO_REGRESSION_CLIENT_SECRET=DEFAULT_CLIENT_SECRET)
        install_log = odoo_env.RUN_DIR / "regression-install.log"
        install = odoo_env.odoo_command(db, "-i", REGRESSION_HARNESS, "--stop-after-init", "--log-level", "warn",
                                        "--logfile", str(install_log), extra_addons=[REGRESSION_ADDONS])
        started = time.time()
        proc = subprocess.run(install, cwd=ROOT, env=env, check=False)
        if proc.returncode:
            report_log("regression install", install_log, started)
            return 0, 1, 0, f"installing the addon with the regression harness failed; see {install_log}"
        series = odoo_env.odoo_series()
        tags = ",".join([f"/{module}:{cls}" for module, cls, _why in REGRESSION[series]] +
                        [f"-/{module}:{test}" for module, test, _why in REGRESSION_EXCLUDED[series]])
        log_path = odoo_env.RUN_DIR / "regression.log"
        cmd = odoo_env.odoo_command(db, "--test-enable", "--test-tags", tags, "--stop-after-init",
                                    "--log-level", "info", "--logfile", str(log_path),
                                    extra_addons=[REGRESSION_ADDONS])
        return run_odoo_tests("regression", cmd, log_path, env=env)
    finally:
        sim.stop()


def run_lint():
    """pylint-odoo with .pylintrc over the addon. The plain-Python parts (qbo/, simulator/, scripts/,
    tests_unit/) are not Odoo models: there `method-required-super` (their read/create/write are
    not ORM overrides) and `print-used` (command-line programs print) do not apply."""
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True,
                           check=False).stdout.split()
    plain = ("qbo/", "simulator/", "scripts/", "tests_unit/")
    odoo_files = [f for f in files if not f.startswith(plain) or f.startswith("scripts/regression/")]
    plain_files = [f for f in files if f not in odoo_files]
    messages = []
    for group, disable in ((odoo_files, None), (plain_files, "method-required-super,print-used")):
        if not group:
            continue
        cmd = [sys.executable, "-m", "pylint", "--rcfile", str(ROOT / ".pylintrc"), "--output-format", "parseable",
               "--score", "n"] + (["--disable", disable] if disable else []) + group
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode & 1 or proc.returncode & 32:  # fatal message / usage error
            return None, f"pylint could not run (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        messages += [ln for ln in proc.stdout.splitlines() if re.match(r"\S+\.py:\d+: \[", ln)]
    for msg in messages:
        print("   ", msg)
    return len(messages), None


def skip_or_fail(suite, reason, summary, notes, count=0):
    """A suite that cannot run: a failure in CI, a loud skip elsewhere."""
    if odoo_env.in_ci():
        summary.append(line(suite, 0, 1, 0))
        notes.append(f"{suite}: FAILED: {reason}")
    else:
        summary.append(line(suite, 0, 0, count))
        notes.append(f"{suite}: SKIPPED: {reason}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", choices=["unit", "odoo", "tours", "pytest-odoo", "regression", "lint", "all"],
                        default="all")
    parser.add_argument("--keep-db", action="store_true", default=bool(os.environ.get("KEEP_DB")))
    parser.add_argument("--db", help="reuse (or create and keep) this database: the addon is updated, not "
                        "installed afresh, so a run of one class takes seconds (development only)")
    parser.add_argument("--tags", help="Odoo --test-tags, e.g. /qbo_financial_hub:TestSyncCustomers "
                        "(development only; with --suite odoo or tours)")
    args = parser.parse_args()
    summary, notes, times = [], [], {}
    print(odoo_env.describe_odoo(), flush=True)
    started = time.monotonic()

    if args.suite in ("unit", "all"):
        passed, failed, skipped, note = run_unit()
        summary.append(line("unit", passed, failed, skipped))
        if note:
            notes.append(f"unit: {note}")
        times["unit"] = time.monotonic() - started

    odoo_suites = [s for s in ("odoo", "tours", "pytest-odoo", "regression") if args.suite in (s, "all")]
    problem = odoo_env.odoo_problem() if odoo_suites else None
    if problem:
        for suite in odoo_suites:
            count = count_odoo_tests(tour=suite == "tours") if suite in ("odoo", "tours") else 0
            skip_or_fail(suite, problem, summary, notes, count)
    elif odoo_suites:
        odoo_env.ensure_postgres()
        db = args.db or f"qbo_test_{int(time.time())}_{os.getpid()}"
        if args.db:
            args.keep_db = True
        dbs = [db]
        try:
            installed = bool(args.db) and odoo_env.db_has_addon(args.db)
            if not installed:
                begin = time.monotonic()
                odoo_env.base_template()   # built once per tree (the dependencies' install), timed apart
                times["template"] = time.monotonic() - begin
            for suite in odoo_suites:
                begin = time.monotonic()
                if suite == "pytest-odoo":
                    if not installed:
                        if not odoo_env.db_exists(db):
                            odoo_env.create_db_from_template(db)
                        install_log = odoo_env.RUN_DIR / "pytest-odoo-install.log"
                        subprocess.run(odoo_env.odoo_command(db, "-i", odoo_env.ADDON, "--stop-after-init",
                                                             "--log-level", "warn", "--logfile", str(install_log)),
                                       cwd=ROOT, check=False)
                        installed = True
                    passed, failed, skipped, note = run_pytest_odoo(db)
                elif suite == "regression":
                    regression_db = f"{db}_regression"
                    dbs.append(regression_db)
                    odoo_env.create_db_from_template(regression_db)
                    passed, failed, skipped, note = run_regression(regression_db)
                else:
                    if suite == "tours":
                        if not count_odoo_tests(tour=True):
                            skip_or_fail("tours", "the addon has no browser tour", summary, notes)
                            continue
                        no_browser = ensure_chromium()
                        if no_browser:
                            skip_or_fail("tours", no_browser, summary, notes, count_odoo_tests(tour=True))
                            continue
                    if not installed and not odoo_env.db_exists(db):
                        odoo_env.create_db_from_template(db)
                    passed, failed, skipped, note = run_odoo(suite, db, install=not installed, tags=args.tags,
                                                             update=bool(args.db))
                    installed = True
                summary.append(line(suite, passed, failed, skipped))
                times[suite] = time.monotonic() - begin
                if note:
                    notes.append(f"{suite}: {note}")
        finally:
            for name in dbs:
                if not args.keep_db:
                    odoo_env.drop_db(name)
                else:
                    notes.append(f"database kept: {name}")

    lint_count = None
    if args.suite in ("lint", "all"):
        begin = time.monotonic()
        lint_count, note = run_lint()
        times["lint"] = time.monotonic() - begin
        if note:
            notes.append(f"lint: {note}")
        summary.insert(0, f"lint {series_label()}: {lint_count if lint_count is not None else 'unknown'} messages")

    times["all"] = time.monotonic() - started
    durations = f"times {series_label()}: " + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in times.items())
    print()
    for note in notes:
        print(note)
    print(durations)
    for entry in summary:
        print(entry)
    # for scripts/run_series.py, which repeats every series' lines at the end of `make test`
    odoo_env.RUN_DIR.mkdir(parents=True, exist_ok=True)
    (odoo_env.RUN_DIR / "summary.txt").write_text("\n".join(notes + [durations] + summary) + "\n")
    failed_any = any(not re.search(r" 0 failed,", s) for s in summary if " messages" not in s) or (
        args.suite in ("lint", "all") and lint_count != 0)
    sys.exit(1 if failed_any else 0)


if __name__ == "__main__":
    main()
