#!/bin/bash
# Make sure the real services the functional tests use are up, and that the
# oslo.db opportunistic-test account exists on both SQL servers:
#   PostgreSQL 127.0.0.1:5432, MariaDB 127.0.0.1:3306, RabbitMQ 127.0.0.1:5672;
#   user/password/database openstack_citest on PostgreSQL and MariaDB.
# Idempotent and quiet: prints nothing when everything is already in place.
# A service that does not answer is started (and its server installed with
# apt-get first if it is missing entirely); needs root for that.
# Env: NOTIFIER_SERVICE_WAIT seconds to wait for a started service (default 90).
set -euo pipefail

WAIT=${NOTIFIER_SERVICE_WAIT:-90}
LOG=${TMPDIR:-/tmp}/notifier-test-setup.log
APT_UPDATED=

say() { echo "test-setup: $*" >&2; }
die() {
    say "ERROR: $*"
    [ -s "$LOG" ] && { say "last lines of $LOG:"; tail -n 20 "$LOG" >&2; }
    exit 1
}

# One run at a time (two test runs starting together must not race).
exec 9>"${TMPDIR:-/tmp}/notifier-test-setup.lock"
flock -w 600 9 || die "could not get the lock ${TMPDIR:-/tmp}/notifier-test-setup.lock"
: >"$LOG"

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# apt_install PKG...: only called when something is missing.
apt_install() {
    [ "$(id -u)" = 0 ] || die "need root to apt-get install $*"
    say "installing $* with apt-get"
    if [ -z "$APT_UPDATED" ]; then
        apt-get update >>"$LOG" 2>&1 || die "apt-get update failed"
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
        >>"$LOG" 2>&1 || die "apt-get install $* failed"
}

# ensure NAME PORT INSTALLED-TEST PACKAGE START-FUNCTION
# If nothing answers on PORT: install PACKAGE if INSTALLED-TEST fails, run
# START-FUNCTION, then wait up to $WAIT seconds for the port.
ensure() {
    local name=$1 port=$2 installed=$3 pkg=$4 start=$5 i
    port_open "$port" && return 0
    eval "$installed" >/dev/null 2>&1 || apt_install "$pkg"
    say "$name does not answer on 127.0.0.1:$port, starting it"
    # Daemons must not inherit our lock (fd 9) or the caller's stdout.
    "$start" </dev/null >>"$LOG" 2>&1 9>&- || die "could not start $name"
    for ((i = 0; i < WAIT * 2; i++)); do
        port_open "$port" && return 0
        sleep 0.5
    done
    die "$name did not come up on 127.0.0.1:$port within ${WAIT}s"
}

# Start recipes (shared/REAL-SERVICES.md section 8). No systemd here.
start_pg() {
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
}
start_mariadb() {
    install -d -o mysql -g mysql /run/mysqld /var/log/mysql
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}
start_rabbit() { rabbitmq-server -detached; }

# Clients we need to create the accounts.
command -v psql >/dev/null || apt_install postgresql-client
command -v mysql >/dev/null || command -v mariadb >/dev/null || apt_install mariadb-client

ensure PostgreSQL 5432 'ls /usr/lib/postgresql/*/bin/postgres' postgresql start_pg
ensure MariaDB 3306 'test -x /usr/sbin/mariadbd' mariadb-server start_mariadb
ensure RabbitMQ 5672 'command -v rabbitmq-server' rabbitmq-server start_rabbit

# PostgreSQL may still be starting up after the port opens.
for ((i = 0; ; i++)); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    ((i < WAIT * 2)) || die "PostgreSQL is not accepting connections after ${WAIT}s"
    sleep 0.5
done

# --- PostgreSQL: role openstack_citest (CREATEDB) and its database ---------
# Trust auth over TCP on the project machines; a fresh apt install only
# allows peer auth on the socket, so fall back to the postgres OS user.
PSQL=(psql -h 127.0.0.1 -U postgres -w -qAtX -v ON_ERROR_STOP=1 -d postgres)
if ! "${PSQL[@]}" -c 'select 1' >/dev/null 2>&1; then
    PSQL=(runuser -u postgres -- psql -qAtX -v ON_ERROR_STOP=1 -d postgres)
fi
"${PSQL[@]}" >>"$LOG" 2>&1 <<'SQL' || die "PostgreSQL: could not create the openstack_citest role/database"
SELECT 'CREATE ROLE openstack_citest'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'openstack_citest')\gexec
ALTER ROLE openstack_citest WITH LOGIN CREATEDB PASSWORD 'openstack_citest';
SELECT 'CREATE DATABASE openstack_citest OWNER openstack_citest'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'openstack_citest')\gexec
ALTER DATABASE openstack_citest OWNER TO openstack_citest;
SQL

# --- MariaDB: openstack_citest@'%' and @'localhost', ALL PRIVILEGES --------
MYSQL=$(command -v mysql || command -v mariadb)
MY=("$MYSQL" -uroot)                       # unix socket (root, no password)
"${MY[@]}" -e 'select 1' >/dev/null 2>&1 || MY=("$MYSQL" -uroot -h 127.0.0.1)
"${MY[@]}" >>"$LOG" 2>&1 <<'SQL' || die "MariaDB: could not create the openstack_citest user/database"
CREATE USER IF NOT EXISTS 'openstack_citest'@'%' IDENTIFIED BY 'openstack_citest';
CREATE USER IF NOT EXISTS 'openstack_citest'@'localhost' IDENTIFIED BY 'openstack_citest';
ALTER USER 'openstack_citest'@'%' IDENTIFIED BY 'openstack_citest';
ALTER USER 'openstack_citest'@'localhost' IDENTIFIED BY 'openstack_citest';
GRANT ALL PRIVILEGES ON *.* TO 'openstack_citest'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'openstack_citest'@'localhost';
CREATE DATABASE IF NOT EXISTS openstack_citest;
FLUSH PRIVILEGES;
SQL
