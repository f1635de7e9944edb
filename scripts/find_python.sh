#!/usr/bin/env bash
# Prints the path of a Python interpreter for the Makefile's virtual environments.
# $1: a version (3.12) or a path to an interpreter. A version is looked for as `python3.12`, then
# `python3`, on PATH (one that runs and is that version: pyenv's shims of an inactive version do
# not run), then among pyenv's versions.
set -euo pipefail
want="${1:?usage: find_python.sh 3.12 | /path/to/python}"
if [[ "$want" == */* ]]; then
    "$want" -c 'pass' && { echo "$want"; exit 0; }
    echo "find_python.sh: $want does not run" >&2; exit 1
fi
runs() { "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; }
for name in "python$want" python3; do
    if p="$(command -v "$name")" && runs "$p"; then echo "$p"; exit 0; fi
done
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for p in $(ls -d "$root"/versions/"$want".*/bin/python"$want" 2>/dev/null | sort -V -r); do
    if runs "$p"; then echo "$p"; exit 0; fi
done
echo "find_python.sh: no Python $want here: install it (pyenv install $want, or your system's python$want)," \
     "or name an interpreter: make PYTHON_XX=/path/to/python$want" >&2
exit 1
