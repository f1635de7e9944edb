"""`make test` on every Odoo series the Makefile names: scripts/run_tests.py once per series, each
with its own tree and virtual environment, then every series' summary lines together:

    lint 18.0: 0 messages
    unit 18.0: N passed, N failed, N skipped
    odoo 18.0: N passed, N failed, N skipped
    ...
    regression 19.0: N passed, N failed, N skipped
    total: N passed, N failed, N skipped

Usage (the Makefile's): run_series.py [--suite S] [run_tests.py options] 18=.venv 19=.venv-19

Each series runs on ODOO_SRC when it is set (the Makefile then names only the series of that tree),
else on ODOO_SRC_<series> when set (e.g. ODOO_SRC_19=~/odoo-19), else on ../shared/odoo-<series>.
Standard library only: it runs before any virtual environment is chosen. Exit status is non-zero
when any series' run failed.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the series the Makefile knows (VENV_<series>); SERIES says which of them `make test` runs
KNOWN = ("18", "19")


def tree(series):
    return Path(os.environ.get("ODOO_SRC") or os.environ.get(f"ODOO_SRC_{series}")
                or ROOT.parent / "shared" / f"odoo-{series}")


def run_dir(series):
    """odoo_env.run_dir() of that series (kept in step with it)."""
    return ROOT / ".run" if series == "18" else ROOT / ".run" / f"{series}.0"


def main(argv):
    pairs = [a for a in argv if re.fullmatch(r"\d+=\S+", a)]
    options = [a for a in argv if a not in pairs]
    if not pairs:
        sys.exit("run_series.py: name at least one SERIES=VENV (e.g. 18=.venv)")
    lines, status = [], 0
    for pair in pairs:
        series, venv = pair.split("=", 1)
        python = ROOT / venv / "bin" / "python"
        src = tree(series)
        print(f"=== Odoo {series}.0: {src}, {python}", flush=True)
        summary = run_dir(series) / "summary.txt"
        summary.unlink(missing_ok=True)
        env = dict(os.environ, ODOO_SRC=str(src))
        proc = subprocess.run([str(python), str(ROOT / "scripts" / "run_tests.py"), *options], cwd=ROOT,
                              env=env, check=False)
        status = status or proc.returncode
        if summary.exists():
            lines += summary.read_text().splitlines()
        else:
            lines.append(f"odoo {series}.0: FAILED: scripts/run_tests.py ended (exit {proc.returncode}) "
                         f"without a summary")
            status = status or 1
    if len(pairs) > 1:
        print("\n=== every series")
        for ln in lines:
            print(ln)
    ran = {pair.split("=", 1)[0] for pair in pairs}
    for series in KNOWN:
        if series not in ran and not os.environ.get("ODOO_SRC"):
            print(f"odoo {series}.0: not run: the Makefile's SERIES is \"{' '.join(sorted(ran))}\" "
                  f"(make test SERIES=\"{' '.join(sorted(ran | {series}))}\" runs it too)")
    counts = [tuple(map(int, m.groups())) for m in
              (re.search(r": (\d+) passed, (\d+) failed, (\d+) skipped$", ln) for ln in lines) if m]
    if counts:
        passed, failed, skipped = (sum(c[i] for c in counts) for i in range(3))
        print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
