#!/bin/bash
# A real Keystone on loopback, for tests and demos (not for production).
#
#   tools/keystone-setup.sh start DIR   set up and start a Keystone in DIR
#   tools/keystone-setup.sh stop DIR    stop it (the data stays in DIR)
#   tools/keystone-setup.sh url DIR     print its URL if it is running
#
# `start` prints the identity URL (http://127.0.0.1:PORT/v3) on stdout and
# writes DIR/env, a shell file with KEYSTONE_URL, KEYSTONE_PORT,
# KEYSTONE_PID_FILE and KEYSTONE_LOG, and DIR/admin-openrc (OS_* variables
# for the admin user). It is idempotent: on a DIR whose Keystone is running
# it only prints the URL; on a DIR that was set up and stopped it restarts
# Keystone on the same port; anything else in DIR is set up from scratch.
#
# What it sets up (shared/REAL-SERVICES.md sections 2 and 3):
#   * keystone.conf: SQLite, fernet tokens and receipts, credential keys,
#     [cache] dogpile.cache.memory (ONE gunicorn worker: an in-memory cache
#     per worker would make token revocation inconsistent), bcrypt cost 4
#     (test-only: token issue is about 20 ms instead of 300 ms);
#   * keystone-manage db_sync, fernet_setup, credential_setup, bootstrap
#     (user admin / adminpass in project admin, region RegionOne, identity
#     endpoints on the chosen port);
#   * gunicorn, 1 worker, on 127.0.0.1:$KEYSTONE_PORT (default: a free
#     port), without gunicorn's shared control socket, through a wrapper
#     module that hides gunicorn's argv from keystone's option parser;
#   * projects reseller (parent), demo and other (its children), service;
#     a role "unrelated"; users, each with password <user>-pass and email
#     <user>@example.com:
#         demo-reader   reader on demo        demo-member  member on demo
#         demo-admin    admin on demo         other-member member on other
#         unrelated     unrelated on demo     notifier     service on service
#
# Env:
#   PYTHON          the interpreter whose venv has keystone and gunicorn
#                   (default: the active venv, else <repo>/.venv, else
#                   python3 on PATH); keystone-manage and gunicorn are
#                   taken from next to it
#   KEYSTONE_PORT   port to listen on (default: a free one)
#   KEYSTONE_WAIT   seconds to wait for Keystone to answer (default 60)
#   KEYSTONE_WATCH_PID  stop Keystone when this process exits (the tests
#                   pass their own pid, so that a killed test run does not
#                   leave Keystone running)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WAIT=${KEYSTONE_WAIT:-60}
STOP_WAIT=15

say() { echo "keystone-setup: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

usage() {
    sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        command -v "$PYTHON" || die "PYTHON=$PYTHON not found"
    elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
        echo "$VIRTUAL_ENV/bin/python"
    elif [ -x "$TOP/.venv/bin/python" ]; then
        echo "$TOP/.venv/bin/python"
    else
        command -v python3 || command -v python || die "no python found; set PYTHON"
    fi
}

# running PID: PID is a live process (an exited one not yet reaped, a
# zombie, does not count).
running() {
    local stat
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $stat != Z* ]]
}

# pid_alive PIDFILE: the pid in PIDFILE names a running process.
pid_alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && running "$pid"
}

# kill_group PID: SIGTERM to gunicorn (a graceful stop), SIGKILL to its
# whole process group (its session: setsid) if it is not gone in time.
kill_group() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_WAIT * 10; i++)); do
        running "$pid" || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

answers() { curl -sf -m 2 -o /dev/null "$1"; }

# ---------------------------------------------------------------- stop
stop() {
    local dir=$1 pid
    pid=$(cat "$dir/keystone.pid" 2>/dev/null) || { say "no Keystone pid file in $dir"; return 0; }
    if running "$pid"; then
        kill_group "$pid"
        say "stopped Keystone (pid $pid) in $dir"
    fi
    rm -f "$dir/keystone.pid"
}

# ---------------------------------------------------------------- start
write_conf() {
    local dir=$1
    mkdir -p "$dir/etc" "$dir/log"
    cat >"$dir/etc/keystone.conf" <<EOF
# Written by tools/keystone-setup.sh: a test Keystone, not for production.
[DEFAULT]
log_file = $dir/log/keystone.log

[database]
connection = sqlite:///$dir/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-keys

[credential]
key_repository = $dir/credential-keys

[cache]
# Without the cache a token validation runs ~400 SQL queries (570 ms).
# dogpile.cache.memory is per process: keep gunicorn at ONE worker.
enabled = true
backend = dogpile.cache.memory

[identity]
# Test-only bcrypt cost (default 12): ~20 ms per token instead of ~300 ms.
password_hash_rounds = 4
EOF
    # keystone parses sys.argv when it loads its config, and under
    # gunicorn sys.argv holds gunicorn's own options: hide them.
    cat >"$dir/keystone_wsgi.py" <<'EOF'
import sys
sys.argv = sys.argv[:1]  # keystone's CONF() parses sys.argv; hide gunicorn's
from keystone.wsgi.api import application  # noqa: E402,F401
EOF
}

bootstrap() {
    local dir=$1 port=$2 url="http://127.0.0.1:$2/v3"
    local km=("$BIN/keystone-manage" --config-file "$dir/etc/keystone.conf")
    local owner=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
    local log=$dir/log/keystone-manage.log
    # Each call is ~2.5 s of start-up: the key repositories do not need
    # the database, so they are made while db_sync runs.
    timeout 120 "${km[@]}" fernet_setup "${owner[@]}" >>"$log.fernet" 2>&1 &
    local fernet=$!
    timeout 120 "${km[@]}" credential_setup "${owner[@]}" >>"$log.credential" 2>&1 &
    local credential=$!
    timeout 120 "${km[@]}" db_sync >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "keystone-manage db_sync failed (see $log)"; }
    wait "$fernet" || { tail -n 20 "$log.fernet" >&2; die "keystone-manage fernet_setup failed"; }
    wait "$credential" || { tail -n 20 "$log.credential" >&2; die "keystone-manage credential_setup failed"; }
    timeout 120 "${km[@]}" bootstrap --bootstrap-password adminpass \
        --bootstrap-region-id RegionOne \
        --bootstrap-public-url "$url" --bootstrap-internal-url "$url" \
        --bootstrap-admin-url "$url" >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "keystone-manage bootstrap failed (see $log)"; }
}

serve() {
    local dir=$1 port=$2 url="http://127.0.0.1:$2/v3" pid i
    rm -f "$dir/keystone.pid"
    # setsid: its own session, so that `stop` can signal the whole group and
    # the caller's terminal signals do not reach it. No fd of ours is kept
    # (a caller reading our output would otherwise wait for gunicorn).
    OS_KEYSTONE_CONFIG_DIR=$dir/etc PYTHONWARNINGS=ignore \
        setsid "$BIN/gunicorn" --workers 1 --bind "127.0.0.1:$port" \
        --no-control-socket --chdir "$dir" --pid "$dir/keystone.pid" \
        --error-logfile "$dir/log/gunicorn.log" --timeout 120 \
        keystone_wsgi:application \
        </dev/null >>"$dir/log/gunicorn.out" 2>&1 9>&- &
    pid=$!
    for ((i = 0; i < WAIT * 10; i++)); do
        answers "$url" && break
        running "$pid" || {
            tail -n 30 "$dir/log/gunicorn.out" "$dir/log/gunicorn.log" >&2 || true
            die "gunicorn exited before Keystone answered on $url"
        }
        sleep 0.1
    done
    answers "$url" || {
        kill -KILL -- "-$pid" 2>/dev/null || true
        tail -n 30 "$dir/log/gunicorn.log" "$dir/log/keystone.log" >&2 || true
        die "Keystone did not answer on $url within ${WAIT}s"
    }
    # gunicorn writes its pid file itself; make sure it is there.
    [ -s "$dir/keystone.pid" ] || echo "$pid" >"$dir/keystone.pid"
}

create_users() {
    local dir=$1 url=$2
    "$PY" - "$url" >>"$dir/log/users.log" 2>&1 <<'EOF' || { tail -n 30 "$dir/log/users.log" >&2; die "could not create the projects and users"; }
import sys

from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

url = sys.argv[1]
ks = client.Client(session=session.Session(auth=v3.Password(
    auth_url=url, username='admin', password='adminpass',
    project_name='admin', user_domain_id='default',
    project_domain_id='default')))
roles = {r.name: r for r in ks.roles.list()}
if 'unrelated' not in roles:
    roles['unrelated'] = ks.roles.create(name='unrelated')


def project(name, parent=None):
    found = ks.projects.list(name=name, domain='default')
    return found[0] if found else ks.projects.create(
        name=name, domain='default', parent=parent,
        description='keystone-setup.sh test project')


reseller = project('reseller')
projects = {'reseller': reseller,
            'demo': project('demo', parent=reseller),
            'other': project('other', parent=reseller),
            'service': project('service')}

# user: (role, project)
USERS = {
    'demo-reader': ('reader', 'demo'),
    'demo-member': ('member', 'demo'),
    'demo-admin': ('admin', 'demo'),
    'other-member': ('member', 'other'),
    'unrelated': ('unrelated', 'demo'),
    'notifier': ('service', 'service'),
}
for name, (role, project_name) in USERS.items():
    found = ks.users.list(name=name, domain='default')
    user = found[0] if found else ks.users.create(
        name=name, domain='default', password=name + '-pass',
        email=name + '@example.com',
        default_project=projects[project_name])
    ks.roles.grant(roles[role], user=user, project=projects[project_name])
    print('%s: %s on %s' % (name, role, project_name))
EOF
}

write_env() {
    local dir=$1 port=$2 url="http://127.0.0.1:$2/v3"
    cat >"$dir/env.tmp" <<EOF
# Written by tools/keystone-setup.sh; source it.
KEYSTONE_URL=$url
KEYSTONE_PORT=$port
KEYSTONE_DIR=$dir
KEYSTONE_PID_FILE=$dir/keystone.pid
KEYSTONE_LOG=$dir/log/keystone.log
EOF
    mv "$dir/env.tmp" "$dir/env"
    cat >"$dir/admin-openrc" <<EOF
# Written by tools/keystone-setup.sh; source it to use the openstack client.
export OS_AUTH_URL=$url
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=adminpass
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
EOF
}

# A background watcher: stop Keystone once process $2 is gone (even if DIR
# was removed meanwhile: it remembers gunicorn's pid).
watch_pid() {
    local dir=$1 watched=$2 pid
    pid=$(cat "$dir/keystone.pid")
    ( while running "$watched"; do sleep 2; done
      running "$pid" && kill_group "$pid"
      rm -f "$dir/keystone.pid" ) </dev/null >/dev/null 2>&1 9>&- &
    disown
}

start() {
    local dir=$1 port url
    command -v curl >/dev/null || die "curl is needed"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # One start at a time per DIR.
    exec 9>"$dir/.lock"
    flock -w 300 9 || die "could not lock $dir/.lock"

    if [ -f "$dir/env" ]; then
        url=$(sed -n 's/^KEYSTONE_URL=//p' "$dir/env")
        port=$(sed -n 's/^KEYSTONE_PORT=//p' "$dir/env")
        if pid_alive "$dir/keystone.pid" && answers "$url"; then
            echo "$url"
            return 0
        fi
    fi

    PY=$(find_python)
    BIN=$(dirname "$PY")
    [ -x "$BIN/keystone-manage" ] || die "no keystone-manage next to $PY (pip install keystone, or set PYTHON)"
    [ -x "$BIN/gunicorn" ] || die "no gunicorn next to $PY (pip install gunicorn, or set PYTHON)"
    export PYTHONWARNINGS=ignore OS_KEYSTONE_CONFIG_DIR=$dir/etc

    if [ -f "$dir/.setup-done" ] && [ -n "${port:-}" ]; then
        say "restarting the Keystone of $dir on port $port"
        pid_alive "$dir/keystone.pid" && stop "$dir"
        serve "$dir" "$port"
    else
        [ -e "$dir/keystone.db" ] && say "discarding the unfinished set-up in $dir"
        rm -rf "$dir/etc" "$dir/log" "$dir/fernet-keys" "$dir/credential-keys" \
            "$dir/keystone.db" "$dir/env" "$dir/keystone.pid"
        port=${KEYSTONE_PORT:-$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
        url="http://127.0.0.1:$port/v3"
        write_conf "$dir"
        bootstrap "$dir" "$port"
        serve "$dir" "$port"
        create_users "$dir" "$url"
        touch "$dir/.setup-done"
    fi
    write_env "$dir" "$port"
    if [ -n "${KEYSTONE_WATCH_PID:-}" ]; then
        watch_pid "$dir" "$KEYSTONE_WATCH_PID"
    fi
    exec 9>&-
    echo "http://127.0.0.1:$port/v3"
}

[ $# = 2 ] || usage
case $1 in
start) start "$2" ;;
stop) [ -d "$2" ] || die "no such directory: $2"; stop "$(cd "$2" && pwd)" ;;
url)
    url=$(sed -n 's/^KEYSTONE_URL=//p' "$2/env" 2>/dev/null) || true
    [ -n "$url" ] && pid_alive "$2/keystone.pid" && answers "$url" || die "no Keystone running in $2"
    echo "$url"
    ;;
*) usage ;;
esac
