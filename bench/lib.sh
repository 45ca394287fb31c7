# shellcheck shell=bash disable=SC2034
# bench/lib.sh - shell functions for bench/bench.sh (sourced, not run).
#
# A throwaway PostgreSQL cluster under /tmp, the way bench_distance.sh starts
# one: the socket in its own directory, no TCP, and, when run as root, the
# server (and initdb/pg_ctl) as the postgres user.
#
#   LIB_NAME=name                 prefix of messages (say/die)
#   find_pg                       sets BINDIR from PG_CONFIG (default: Debian's PostgreSQL 15)
#   start_cluster "CONF LINES"    initdb + start; sets CLUSTER, PORT, PSQL=(psql ... args)
#   stop_cluster                  stop and remove (installed as the EXIT trap by start_cluster)
#   as_pg CMD...                  runs CMD as postgres when we are root
#   median V...                   median of numbers
#
# Needs bash >= 5 (EPOCHREALTIME).

LIB_NAME="${LIB_NAME:-bench}"
CLUSTER=""
PORT=5432
PSQL=()
BINDIR=""
SHAREDIR=""

say() { echo "$LIB_NAME: $*"; }
warn() { echo "$LIB_NAME: warning: $*" >&2; }
# die also works inside $(...): it signals the main shell, which then exits
# through its EXIT trap (cluster stopped and removed)
LIB_MAIN_PID=$$
trap 'exit 1' USR1
die() {
    echo "$LIB_NAME: error: $*" >&2
    [[ "$BASHPID" != "$LIB_MAIN_PID" ]] && kill -USR1 "$LIB_MAIN_PID" 2>/dev/null
    exit 1
}

as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg() {
    PG_CONFIG="${PG_CONFIG:-}"
    if [[ -z "$PG_CONFIG" ]]; then
        if [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
        else PG_CONFIG=pg_config; fi
    fi
    command -v "$PG_CONFIG" >/dev/null || die "pg_config not found (apt-get install postgresql-server-dev-15 or set PG_CONFIG)"
    BINDIR="$("$PG_CONFIG" --bindir)"
    SHAREDIR="$("$PG_CONFIG" --sharedir)"
    local b
    for b in initdb pg_ctl psql pgbench postgres; do
        [[ -x "$BINDIR/$b" ]] || die "no $BINDIR/$b (apt-get install postgresql-15 postgresql-client-15)"
    done
    if [[ "$(id -u)" -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user"
    fi
}

stop_cluster() {
    local rc=$?
    [[ -n "$CLUSTER" && -d "$CLUSTER" ]] || return 0
    if [[ $rc -ne 0 && -f "$CLUSTER/server.log" ]]; then
        cp "$CLUSTER/server.log" "${TMPDIR:-/tmp}/vecrec-bench-server.log" 2>/dev/null &&
            echo "$LIB_NAME: server log kept in ${TMPDIR:-/tmp}/vecrec-bench-server.log" >&2
    fi
    if [[ -f "$CLUSTER/data/postmaster.pid" ]]; then
        as_pg "$BINDIR/pg_ctl" -D "$CLUSTER/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_pg "$BINDIR/pg_ctl" -D "$CLUSTER/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ -n "${KEEP_CLUSTER:-}" ]]; then
        say "kept $CLUSTER (KEEP_CLUSTER set)"
    else
        rm -rf "$CLUSTER"
    fi
    CLUSTER=""
}

start_cluster() {   # start_cluster "extra postgresql.conf lines"
    local conf="$1"
    CLUSTER="$(mktemp -d /tmp/vecrec-bench.XXXXXX)"
    trap stop_cluster EXIT
    trap 'exit 130' INT TERM HUP
    chmod 755 "$CLUSTER"
    [[ "$(id -u)" -eq 0 ]] && chown postgres: "$CLUSTER"
    as_pg "$BINDIR/initdb" -D "$CLUSTER/data" -U postgres -A trust -E UTF8 --locale=C -N \
        >"$CLUSTER/initdb.log" 2>&1 || { cat "$CLUSTER/initdb.log" >&2; die "initdb failed"; }
    as_pg tee -a "$CLUSTER/data/postgresql.conf" >/dev/null <<CONF

# throwaway benchmark cluster ($LIB_NAME)
port = $PORT
listen_addresses = ''
unix_socket_directories = '$CLUSTER'
lc_messages = 'C'
$conf
CONF
    as_pg "$BINDIR/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w -t 120 start >/dev/null \
        || { tail -n 30 "$CLUSTER/server.log" >&2 || true; die "the server did not start (log above)"; }
    PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$CLUSTER" -p "$PORT" -U postgres)
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2];
              else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
