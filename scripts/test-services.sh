#!/usr/bin/env bash
# Make sure the database servers the tests use are installed, running on loopback and usable,
# and that the venv has their Python drivers. Idempotent: when everything is up it only checks
# (well under a second). Called by `make test` (target `services`). See docs/test-servers.md.
#
#   bash scripts/test-services.sh            install/start/repair what is missing, then check
#   bash scripts/test-services.sh --smoke    also create a throwaway database in each engine and
#                                            round-trip a non-ASCII VARCHAR through SQLAlchemy
#
# Progress goes to stderr; stdout gets only KEY=VALUE lines (the URLs), so
#   set -a; eval "$(bash scripts/test-services.sh)"; set +a    exports them into a shell.
#
# Also installs Chromium (Debian's package), which the tests run headless to render the extract's
# HTML documentation.
#
# Servers: PostgreSQL 127.0.0.1:5432 (user postgres, trust), MariaDB 127.0.0.1:3306 (root, no
# password), Firebird 3.0 127.0.0.1:3050 (SYSDBA, password $UTTREKK_FIREBIRD_PASSWORD, default
# masterkey, kept in /etc/firebird/3.0/SYSDBA.password). Installing and starting needs root and
# Debian's apt-get; no systemd is used. An engine whose UTTREKK_TEST_<ENGINE>_URL is already set in
# the environment is not managed, only checked.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
SMOKE=${UTTREKK_TEST_SERVICES_SMOKE:-0}
for arg in "$@"; do
    case $arg in
        --smoke) SMOKE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-.venv}
[[ $VENV = /* ]] || VENV=$ROOT/$VENV
PY=$VENV/bin/python

PG_PORT=5432
MY_PORT=3306
FB_PORT=3050
FB_VER=3.0
FB_PASSWORD=${UTTREKK_FIREBIRD_PASSWORD:-masterkey}
FB_PASSWORD_FILE=/etc/firebird/$FB_VER/SYSDBA.password
FB_SECURITY_DB=/var/lib/firebird/$FB_VER/system/security3.fdb
FB_RUN=/run/firebird$FB_VER
FB_DIR=${UTTREKK_TEST_FIREBIRD_DIR:-/tmp/uttrekk-firebird}

DEFAULT_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
DEFAULT_MY_URL="mysql+pymysql://root@127.0.0.1:$MY_PORT/?charset=utf8mb4"
DEFAULT_FB_URL="firebird+firebird://SYSDBA:$FB_PASSWORD@127.0.0.1:$FB_PORT/?charset=UTF8"
PG_URL=${UTTREKK_TEST_POSTGRESQL_URL:-$DEFAULT_PG_URL}
MY_URL=${UTTREKK_TEST_MARIADB_URL:-$DEFAULT_MY_URL}
FB_URL=${UTTREKK_TEST_FIREBIRD_URL:-$DEFAULT_FB_URL}
MANAGE_PG=1; [[ -z ${UTTREKK_TEST_POSTGRESQL_URL:-} ]] || MANAGE_PG=0
MANAGE_MY=1; [[ -z ${UTTREKK_TEST_MARIADB_URL:-} ]] || MANAGE_MY=0
MANAGE_FB=1; [[ -z ${UTTREKK_TEST_FIREBIRD_URL:-} ]] || MANAGE_FB=0

export DEBIAN_FRONTEND=noninteractive
START=$(date +%s%N)
CHANGED=0                 # set when anything was installed, started or repaired: then smoke-test
LOG=$(mktemp "${TMPDIR:-/tmp}/uttrekk-test-services.XXXXXX")
trap 'rm -f "$LOG"' EXIT

log() { echo "test-services: $*" >&2; }
die() { echo "test-services: ERROR: $*" >&2; exit 1; }
need_root() { [[ $EUID -eq 0 ]] || die "must run as root to $1 (or start it yourself, or set its UTTREKK_TEST_*_URL)"; }
# a live process of that name (a killed daemon can linger a while as a zombie: it does not count)
running() { ps -C "$1" -o stat= 2>/dev/null | grep -qv '^Z'; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds, or fail after SECONDS
wait_for() {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        (( $(date +%s) < deadline )) || return 1
        sleep 0.2
    done
}

# One lock for the whole run: two `make test` at once must not both install or start servers.
LOCK=${TMPDIR:-/tmp}/uttrekk-test-services.lock
[[ -e $LOCK ]] || : > "$LOCK" 2>/dev/null || true
if [[ -r $LOCK ]] && exec 9<"$LOCK"; then
    if ! flock -n 9; then
        log "waiting for another run to finish (lock $LOCK)"
        flock -w 900 9 || die "another run still holds $LOCK after 15 minutes"
    fi
fi
# Run whatever may leave a daemon behind with only fds 0-2 open: a daemon inherits every other open
# fd of this script, and would hold the lock's fd 9 for its whole life (seen with PostgreSQL's
# postmaster: the next run waited forever) or keep a CI runner's pipe open.
detached() {
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if (( fd > 2 )); then eval "exec $fd>&-"; fi
        done
        exec "$@"
    )
}

# ---------------------------------------------------------------- packages (one apt run) ----
have_pkg() { [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) = installed ]]; }
MISSING=()
if (( MANAGE_PG )) && ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    MISSING+=(postgresql)
fi
if (( MANAGE_MY )) && [[ ! -x /usr/sbin/mariadbd ]]; then
    MISSING+=(mariadb-server)
fi
FB_FRESH=0
if (( MANAGE_FB )); then
    have_pkg "firebird$FB_VER-server" || { MISSING+=("firebird$FB_VER-server"); FB_FRESH=1; }
    have_pkg "firebird$FB_VER-utils" || MISSING+=("firebird$FB_VER-utils")
fi
# the Firebird client library is needed by firebird-driver even for an unmanaged server
have_pkg libfbclient2 || MISSING+=(libfbclient2)
# headless Chromium renders documentation/oversikt.html in tests/test_documentation.py
command -v chromium >/dev/null || MISSING+=(chromium)
# zstd reads .zst dumps (dialects/kinds/wrapped.py); zip makes the encrypted and split zips the tests refuse
command -v zstd >/dev/null || MISSING+=(zstd)
command -v zip >/dev/null || MISSING+=(zip)
# mdbtools and Node.js (mdb-reader, fetched by tests/access_files.py) are the Access tests' independent readers
command -v mdb-export >/dev/null || MISSING+=(mdbtools)
command -v npm >/dev/null || MISSING+=(nodejs npm)
if (( ${#MISSING[@]} )); then
    need_root "install ${MISSING[*]}"
    command -v apt-get >/dev/null || die "no apt-get: install ${MISSING[*]} yourself"
    if (( FB_FRESH )); then
        # the package sets SYSDBA's password from this answer (else it makes a random one); the
        # config script copies first_install into new_password, so preseeding new_password does nothing
        echo "firebird$FB_VER-server shared/firebird/sysdba_password/first_install password $FB_PASSWORD" \
            | debconf-set-selections
    fi
    log "apt-get update"
    apt-get update -qq >"$LOG" 2>&1 || { cat "$LOG" >&2; die "apt-get update failed"; }
    log "apt-get install ${MISSING[*]}"
    detached apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${MISSING[@]}" >"$LOG" 2>&1 || { cat "$LOG" >&2; die "apt-get install failed"; }
    CHANGED=1
fi

# ------------------------------------------------------------------------- PostgreSQL ----
pg_sql() { psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -w -X -Atq -c "$1"; }
pg_cluster() { pg_lsclusters --no-header 2>/dev/null | awk -v p=$PG_PORT '$3 == p {print $1, $2, $4; exit}'; }
ensure_postgresql() {
    pg_sql 'select 1' >/dev/null 2>&1 && return 0
    local ver name status
    read -r ver name status <<<"$(pg_cluster)" || true
    if [[ -z ${ver:-} ]]; then
        need_root "create a PostgreSQL cluster"
        ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
        name=main
        log "creating PostgreSQL $ver cluster $name on port $PG_PORT"
        detached pg_createcluster --port $PG_PORT "$ver" $name >"$LOG" 2>&1 || { cat "$LOG" >&2; die "pg_createcluster failed"; }
        status=down
        CHANGED=1
    fi
    if [[ $status != online* ]] || ! pg_isready -q -h 127.0.0.1 -p $PG_PORT; then
        if [[ $status != online* ]]; then
            need_root "start PostgreSQL"
            log "starting PostgreSQL $ver/$name"
            detached pg_ctlcluster --skip-systemctl-redirect "$ver" $name start >"$LOG" 2>&1 \
                || { cat "$LOG" >&2; die "pg_ctlcluster $ver $name start failed"; }
            CHANGED=1
        fi
        wait_for 60 pg_isready -q -h 127.0.0.1 -p $PG_PORT \
            || die "PostgreSQL $ver/$name does not answer on 127.0.0.1:$PG_PORT (see /var/log/postgresql/)"
    fi
    if ! pg_sql 'select 1' >/dev/null 2>"$LOG"; then
        grep -qiE 'password|authentication' "$LOG" || { cat "$LOG" >&2; die "cannot connect to PostgreSQL as postgres"; }
        # a stock Debian cluster asks a password over TCP: trust loopback (test machine only)
        need_root "let postgres in over TCP without a password"
        local hba
        hba=$(runuser -u postgres -- psql -p $PG_PORT -X -Atqc 'show hba_file')
        log "PostgreSQL: trusting 127.0.0.1 and ::1 in $hba"
        sed -i '1i # uttrekk scripts/test-services.sh: tests connect as postgres over loopback without a password\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
        runuser -u postgres -- psql -p $PG_PORT -X -Atqc 'select pg_reload_conf()' >/dev/null
        wait_for 10 pg_sql 'select 1' >/dev/null 2>&1 \
            || die "still cannot connect to PostgreSQL as postgres over TCP"
        CHANGED=1
    fi
}

# ---------------------------------------------------------------------------- MariaDB ----
my_sql() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P $MY_PORT -u root -N -B -e "$1"; }
ensure_mariadb() {
    my_sql 'select 1' >/dev/null 2>&1 && return 0
    if ! port_open $MY_PORT; then
        need_root "start MariaDB"
        log "starting MariaDB"
        install -d -o mysql -g mysql -m 0755 /run/mysqld
        detached start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
            </dev/null >"$LOG" 2>&1 || { cat "$LOG" >&2; die "could not start mariadbd"; }
        CHANGED=1
        local started deadline
        started=$(date +%s); deadline=$(( started + 60 ))
        until port_open $MY_PORT; do
            # (give the forked start-stop-daemon a moment to become mariadbd before asking if it died)
            if { (( $(date +%s) > started + 1 )) && ! running mariadbd; } || (( $(date +%s) >= deadline )); then
                tail -n 20 /var/log/mysql/error.log >&2 2>/dev/null || true
                die "MariaDB did not come up on 127.0.0.1:$MY_PORT"
            fi
            sleep 0.2
        done
    fi
    # the port may open a little before the server takes logins
    local deadline=$(( $(date +%s) + 30 ))
    until my_sql 'select 1' >/dev/null 2>"$LOG" || grep -q 'Access denied' "$LOG" || (( $(date +%s) >= deadline )); do
        sleep 0.2
    done
    if ! my_sql 'select 1' >/dev/null 2>"$LOG"; then
        grep -q 'Access denied' "$LOG" || { cat "$LOG" >&2; die "cannot connect to MariaDB as root"; }
        # a stock Debian install lets root in only over the unix socket: add the empty TCP password
        need_root "let root into MariaDB over TCP without a password"
        log "MariaDB: allowing root from 127.0.0.1/localhost with an empty password"
        mariadb --protocol=socket -u root -e "
            CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
            ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
            FLUSH PRIVILEGES;" || die "could not change MariaDB root's login over the unix socket"
        my_sql 'select 1' >/dev/null || die "still cannot connect to MariaDB as root over TCP"
        CHANGED=1
    fi
}

# --------------------------------------------------------------------------- Firebird ----
fb_login() { gsec -user SYSDBA -password "$1" -database "127.0.0.1/$FB_PORT:security.db" -display >/dev/null 2>&1; }
fb_start() {
    install -d -o firebird -g firebird -m 0770 "$FB_RUN"
    # --exec makes this a no-op while an fbguard runs (its -pidfile holds the server's pid, not its own)
    detached start-stop-daemon --start --quiet --oknodo --chuid firebird --exec /usr/sbin/fbguard -- \
        -daemon -forever -pidfile "$FB_RUN/firebird.pid" </dev/null >"$LOG" 2>&1 \
        || { cat "$LOG" >&2; die "could not start fbguard"; }
    wait_for 30 port_open $FB_PORT \
        || { tail -n 20 /var/log/firebird/firebird$FB_VER.log >&2 2>/dev/null || true; die "Firebird did not come up on 127.0.0.1:$FB_PORT"; }
}
fb_stop() {
    # the guard first (else it restarts the server), then the server; a bare server may ignore TERM
    start-stop-daemon --stop --quiet --oknodo --retry TERM/10/KILL/5 --exec /usr/sbin/fbguard
    start-stop-daemon --stop --quiet --oknodo --retry TERM/10/KILL/5 --exec /usr/sbin/firebird
}
fb_write_password_file() {
    local tmp
    tmp=$(mktemp "$FB_PASSWORD_FILE.XXXXXX")
    if [[ -f $FB_PASSWORD_FILE ]]; then
        grep -v '^ *ISC_PASSWORD=' "$FB_PASSWORD_FILE" >"$tmp" || true
    else
        printf '# Password for firebird SYSDBA user\nISC_USER=sysdba\n' >"$tmp"
    fi
    echo "ISC_PASSWORD=\"$FB_PASSWORD\"" >>"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$FB_PASSWORD_FILE"
}
ensure_firebird() {
    [[ $FB_PASSWORD =~ ^[A-Za-z0-9_.-]+$ ]] || die "UTTREKK_FIREBIRD_PASSWORD: use letters, digits, _ . - only"
    if ! fb_login "$FB_PASSWORD" && ! port_open $FB_PORT; then
        need_root "start Firebird"
        if running fbguard; then
            # a guard is (re)starting its server: give it a moment before replacing it
            if ! wait_for 10 port_open $FB_PORT; then
                log "Firebird: fbguard runs but nothing answers on $FB_PORT; restarting it"
                fb_stop
            fi
        fi
        if ! port_open $FB_PORT; then
            log "starting Firebird $FB_VER"
            fb_start
            CHANGED=1
        fi
    fi
    if ! fb_login "$FB_PASSWORD"; then
        need_root "set Firebird's SYSDBA password"
        local old=""
        # shellcheck disable=SC1090
        [[ -r $FB_PASSWORD_FILE ]] && old=$(. "$FB_PASSWORD_FILE" >/dev/null 2>&1; echo "${ISC_PASSWORD:-}")
        if [[ -n $old ]] && fb_login "$old"; then
            log "Firebird: changing SYSDBA's password (from $FB_PASSWORD_FILE) to the test password"
            gsec -user SYSDBA -password "$old" -database "127.0.0.1/$FB_PORT:security.db" \
                -modify SYSDBA -pw "$FB_PASSWORD" || die "gsec could not change SYSDBA's password"
        else
            # the file is out of step with the security database: set it the way the package does,
            # with the server stopped and the embedded engine writing security3.fdb directly
            log "Firebird: $FB_PASSWORD_FILE does not work; resetting SYSDBA's password offline"
            fb_stop
            echo "create or alter user sysdba password '$FB_PASSWORD';" \
                | isql-fb -q -user sysdba "$FB_SECURITY_DB" >"$LOG" 2>&1 || { cat "$LOG" >&2; fb_start; die "isql-fb could not reset SYSDBA's password"; }
            # the embedded engine ran as root: give back what it may have created to firebird
            chown -R firebird:firebird "/var/lib/firebird/$FB_VER" /tmp/firebird 2>/dev/null || true
            fb_start
        fi
        fb_login "$FB_PASSWORD" || die "SYSDBA's password is still not the test password"
        fb_write_password_file
        CHANGED=1
    elif [[ -r $FB_PASSWORD_FILE ]] && ! grep -qx "ISC_PASSWORD=\"\\?$FB_PASSWORD\"\\?" "$FB_PASSWORD_FILE"; then
        [[ $EUID -ne 0 ]] || fb_write_password_file
    fi
    # where tests create their .fdb files: the server (user firebird) writes them
    if [[ ! -d $FB_DIR || $(stat -c '%U %a' "$FB_DIR") != "firebird 1777" ]]; then
        need_root "make $FB_DIR"
        install -d -o firebird -g firebird -m 1777 "$FB_DIR"
    fi
}

if (( MANAGE_PG )); then ensure_postgresql; else log "PostgreSQL: using UTTREKK_TEST_POSTGRESQL_URL as given"; fi
if (( MANAGE_MY )); then ensure_mariadb; else log "MariaDB: using UTTREKK_TEST_MARIADB_URL as given"; fi
if (( MANAGE_FB )); then ensure_firebird; else log "Firebird: using UTTREKK_TEST_FIREBIRD_URL as given"; fi

# ---------------------------------------------------------------------- Python drivers ----
if [[ ! -e $VENV/pyvenv.cfg ]]; then
    log "creating the venv $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
fi
[[ -x $PY ]] || die "cannot run $PY"
DRIVERS=('SQLAlchemy>=2.0,<3' 'psycopg[binary]>=3.1' 'PyMySQL>=1.1' 'firebird-driver>=1.10' 'sqlalchemy-firebird>=2.0')

# ------------------------------------------------------------------ check from Python ----
if (( CHANGED )); then SMOKE=1; fi
IFS= read -r -d '' CHECK <<'EOF' || true
"""Connect to each server as the tests will; with SMOKE=1 also round-trip a value in a new database."""
import os
import sys
import uuid

try:
    import firebird.driver  # noqa: F401
    import psycopg  # noqa: F401
    import pymysql  # noqa: F401
    import sqlalchemy_firebird  # noqa: F401
    from sqlalchemy import create_engine, make_url, text
except ImportError as exc:
    print(f"test-services: missing driver: {exc}", file=sys.stderr)
    sys.exit(3)

SAMPLE = "Åse Čuđežáš"
SMOKE = os.environ["SMOKE"] == "1"
TAG = f"uttrekk_probe_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def roundtrip(url):
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (v VARCHAR(40))"))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": SAMPLE})
        with engine.connect() as conn:
            got = conn.execute(text("SELECT v FROM probe")).scalar_one()
    finally:
        engine.dispose()
    if got != SAMPLE:
        raise AssertionError(f"wrote {SAMPLE!r}, read back {got!r}")


def postgresql(url):
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            if SMOKE:
                conn.execute(text(f"CREATE DATABASE \"{TAG}\" ENCODING 'UTF8' TEMPLATE template0"))
        if SMOKE:
            try:
                roundtrip(make_url(url).set(database=TAG))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{TAG}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return f"PostgreSQL {version}"


def mariadb(url):
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            version = conn.execute(text("SELECT VERSION()")).scalar_one()
            if SMOKE:
                conn.execute(text(f"CREATE DATABASE `{TAG}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
        if SMOKE:
            try:
                roundtrip(make_url(url).set(database=TAG))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{TAG}`"))
    finally:
        admin.dispose()
    return f"MariaDB {version}"


def firebird(url, directory):
    from firebird.driver import connect, connect_server, create_database, driver_config
    from firebird.driver.fbapi import get_api

    url = make_url(url)
    url.get_dialect()  # the dialect loads (create_engine needs a database path in the URL)
    library = get_api().client_library_name
    server = f"{url.host or '127.0.0.1'}/{url.port or 3050}"
    with connect_server(server, user=url.username, password=url.password) as srv:
        version = srv.info.version
    if SMOKE:
        path = os.path.join(directory, TAG + ".fdb")
        dsn = f"{server}:{path}"
        saved = driver_config.db_defaults.db_charset.value
        driver_config.db_defaults.db_charset.value = "UTF8"  # the new database's default charset
        try:
            create_database(dsn, user=url.username, password=url.password, charset="UTF8").close()
        finally:
            driver_config.db_defaults.db_charset.value = saved
        try:
            roundtrip(url.set(database=path))
        finally:
            con = connect(dsn, user=url.username, password=url.password)
            con.drop_database()
    return f"Firebird {version} (client {library})"


failed = False
for name, check, args in (
    ("postgresql", postgresql, (os.environ["PG_URL"],)),
    ("mariadb", mariadb, (os.environ["MY_URL"],)),
    ("firebird", firebird, (os.environ["FB_URL"], os.environ["FB_DIR"])),
):
    try:
        what = check(*args)
    except Exception as exc:  # report every engine, then fail
        failed = True
        print(f"test-services: ERROR: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    else:
        done = f"created a database, wrote and read back {SAMPLE!r}" if SMOKE else "connected"
        print(f"test-services: {what}: {done}", file=sys.stderr)
sys.exit(1 if failed else 0)
EOF
py_check() { PG_URL=$PG_URL MY_URL=$MY_URL FB_URL=$FB_URL FB_DIR=$FB_DIR SMOKE=$SMOKE "$PY" -c "$CHECK"; }
rc=0; py_check || rc=$?
if (( rc == 3 )); then
    log "installing the database drivers into $VENV"
    "$PY" -m pip install --quiet -c "$ROOT/constraints.txt" "${DRIVERS[@]}" >"$LOG" 2>&1 \
        || { cat "$LOG" >&2; die "pip install ${DRIVERS[*]} failed"; }
    SMOKE=1; rc=0; py_check || rc=$?
fi
(( rc == 0 )) || die "a server or driver does not work (above)"

for var in UTTREKK_TEST_MSSQL_URL UTTREKK_TEST_ORACLE_URL; do
    [[ -n ${!var:-} ]] || log "$var is not set (no such server on this machine)"
done
ELAPSED=$(( ($(date +%s%N) - START) / 1000000 ))
log "ready in $((ELAPSED / 1000)).$(printf '%03d' $((ELAPSED % 1000))) s"
echo "UTTREKK_TEST_POSTGRESQL_URL=$PG_URL"
echo "UTTREKK_TEST_MARIADB_URL=$MY_URL"
echo "UTTREKK_TEST_FIREBIRD_URL=$FB_URL"
echo "UTTREKK_TEST_FIREBIRD_DIR=$FB_DIR"
echo "UTTREKK_TEST_FIREBIRD_PASSWORD_FILE=$FB_PASSWORD_FILE"
