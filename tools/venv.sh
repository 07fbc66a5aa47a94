#!/bin/bash
# Create or refresh the project's virtualenv, .venv at the repo top.
#   tools/venv.sh       make sure .venv is up to date
#   . tools/venv.sh     the same, then activate it in the current shell
# It installs -c upper-constraints.txt -r requirements.txt
# -r test-requirements.txt -e . and records a hash of those inputs in
# .venv/.notifier-stamp, so a second call with nothing changed does nothing.
# mysqlclient (test-requirements) builds against libmariadb-dev: when its
# headers are missing, root gets them from apt-get (bindep.txt lists them);
# anyone else gets a warning and a venv without it (the MySQL tests skip).
# Env: PYTHON (default python3), NOTIFIER_VENV (default <top>/.venv).
# pip's output goes to .venv/pip.log and is shown only when pip fails.

# The C headers mysqlclient builds against (bindep.txt): true if present,
# or installed now with apt-get as root.
_notifier_have_mariadb_headers() {
    pkg-config --exists libmariadb 2>/dev/null && return 0
    pkg-config --exists mysqlclient 2>/dev/null && return 0
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
    echo "venv: installing libmariadb-dev and pkg-config with apt-get (mysqlclient builds against them)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libmariadb-dev pkg-config gcc; } >>"$1" 2>&1 || {
        tail -n 20 "$1" >&2
        echo "venv: apt-get install libmariadb-dev pkg-config failed, see $1" >&2
        return 1
    }
}

# A hash of everything that changes what gets installed.
_notifier_inputs_hash() {
    (cd "$1" && {
        "$2" -VV
        pkg-config --exists libmariadb 2>/dev/null && echo "MariaDB headers"
        for f in upper-constraints.txt requirements.txt test-requirements.txt doc/requirements.txt \
            setup.cfg setup.py pyproject.toml; do
            echo "== $f"
            cat "$f" 2>/dev/null
        done
    } | sha256sum | cut -d' ' -f1)
}

_notifier_venv() {
    local top venv py stamp want log f
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
    venv=${NOTIFIER_VENV:-$top/.venv}
    py=${PYTHON:-python3}
    stamp=$venv/.notifier-stamp
    log=$venv/pip.log

    command -v "$py" >/dev/null || { echo "venv: $py not found" >&2; return 1; }
    want=$(_notifier_inputs_hash "$top" "$py")

    # A .venv *file* is a PEP 832 redirect (newer tox writes one): replace it.
    if [ -f "$venv" ]; then
        echo "venv: replacing the redirect file $venv (from $(cat "$venv")) by a venv"
        rm -f "$venv"
    fi
    # A missing or broken venv, or one made by another Python, is remade.
    if [ "$("$venv/bin/python" -VV 2>/dev/null)" != "$("$py" -VV)" ]; then
        echo "venv: creating $venv"
        "$py" -m venv --clear "$venv" || {
            echo "venv: '$py -m venv' failed (Debian: apt-get install python3-venv)" >&2
            return 1
        }
    elif [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "venv: $venv is up to date"
        return 0
    fi

    rm -f "$stamp"
    : >"$log"

    echo "venv: upgrading pip"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -U pip \
        >>"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "venv: pip upgrade failed, see $log" >&2; return 1; }

    local testreqs=test-requirements.txt
    if ! _notifier_have_mariadb_headers "$log"; then
        echo "venv: WARNING: no MariaDB client headers, so no mysqlclient: the MySQL" \
            "tests will be skipped. Install them (Debian/Ubuntu: apt-get install" \
            "libmariadb-dev pkg-config; Fedora/RHEL: dnf install" \
            "mariadb-connector-c-devel pkgconf; see bindep.txt) and run this again." >&2
        testreqs=$venv/test-requirements-without-mysqlclient.txt
        grep -v '^mysqlclient' "$top/test-requirements.txt" >"$testreqs"
    fi

    echo "venv: installing requirements, test requirements and notifier (-e .) with upper-constraints.txt"
    (cd "$top" && PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install \
        -c upper-constraints.txt -r requirements.txt -r "$testreqs" -r doc/requirements.txt -e . \
        >>"$log" 2>&1) || { tail -n 30 "$log" >&2; echo "venv: install failed, see $log" >&2; return 1; }

    # Again: the headers may have been installed meanwhile.
    _notifier_inputs_hash "$top" "$py" >"$stamp"
    echo "venv: $venv is ready"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _notifier_venv || exit 1          # run as a command
else
    _notifier_venv && . "${NOTIFIER_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv}/bin/activate"
fi
