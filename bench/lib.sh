# shellcheck shell=bash disable=SC2034
# bench/lib.sh - shell functions of the bench/ scripts (sourced, not run).
#
# Their throwaway PostgreSQL cluster lives under /tmp: the socket in its own
# directory, no TCP, and, when run as root, the server (and initdb/pg_ctl)
# as the postgres user.  bench_dbs, glove_*, GLOVE_CONF and q are the common
# part of the GloVe-100 index benchmarks, bench.sh (hnsw) and bench_ivf.sh.
#
#   LIB_NAME=name                 prefix of messages (say/warn/die)
#   usage                         prints the running script's header comment (its --help)
#   isnum V                       true when V is a whole number (digits only)
#   find_pg                       sets BINDIR and SHAREDIR from PG_CONFIG (default: Debian's PostgreSQL 15)
#   pg_version                    "PostgreSQL 15.x (...)" of the server BINDIR holds
#   git_commit                    short commit of the repository, "+dirty" when src/ or sql/ differ from it
#   bench_dbs SKIP_PGVECTOR       DBS=(bench_vecrec [bench_pgvector]) and EXTNAME[db] (vecrec, vector):
#                                 dies without vecrec installed; pgvector only when installed
#                                 and SKIP_PGVECTOR is 0 (warns when it is not installed)
#   glove_data                    DATA (default ~/.cache/vecrec-data/glove100) made complete by
#                                 get_glove100.sh (its messages on stdout), checked, made absolute
#   GLOVE_CONF                    postgresql.conf lines of the GloVe-100 index benchmarks
#                                 (bench.sh, bench_ivf.sh): no jit, no parallel query, up to 16
#                                 workers for builds, no autovacuum, no durability, rare checkpoints
#   start_cluster "CONF LINES"    initdb + start; sets CLUSTER, PORT, PSQL=(psql ... args) and
#                                 WORK (an empty folder in the cluster's directory)
#   stop_cluster                  stop and remove (installed as the EXIT trap by start_cluster)
#   server_log_tail               the last lines of the server log, on stderr
#   q DB PGOPTIONS PSQL-ARGS...   psql -At (tab-separated) in DB, NOTICEs dropped; dies with
#                                 the server log's tail when the SQL fails
#   glove_tables DB [",COLUMNS"]  in DB: pg_prewarm, items (id, embedding vector(100)[, COLUMNS]),
#                                 queries (qid, v) and bench_ids(nq), the ids that the prepared
#                                 statement bench_q(qid) returns for the queries 0 .. nq - 1
#   glove_load DB                 copies the first NBASE rows of base.tsv into items and the
#                                 first NQ of query.tsv into queries (from DATA)
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
WORK=""
LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB_REPO="$(dirname "$LIB_DIR")"

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

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
isnum() { [[ "$1" =~ ^[0-9]+$ ]]; }

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

pg_version() { "$BINDIR/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /'; }

git_commit() {
    local c
    c="$(git -C "$LIB_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    git -C "$LIB_REPO" diff --quiet HEAD -- src sql 2>/dev/null || c="$c+dirty"
    echo "$c"
}

bench_dbs() {   # bench_dbs SKIP_PGVECTOR (0 or 1)
    [[ -f "$SHAREDIR/extension/vecrec.control" ]] || die "vecrec is not installed in $SHAREDIR/extension: run 'make -C $LIB_REPO install'"
    DBS=(bench_vecrec)
    if [[ $1 -eq 0 ]]; then
        if [[ -f "$SHAREDIR/extension/vector.control" ]]; then DBS+=(bench_pgvector)
        else warn "pgvector (extension 'vector') is not installed: measuring vecrec alone"; fi
    fi
    declare -gA EXTNAME=([bench_vecrec]=vecrec [bench_pgvector]=vector)
}

glove_data() {
    [[ -n "${DATA:-}" ]] || DATA="$HOME/.cache/vecrec-data/glove100"
    bash "$LIB_DIR/get_glove100.sh" "$DATA" || die "could not obtain the GloVe-100 data (bash bench/get_glove100.sh)"
    local f
    for f in base.tsv query.tsv groundtruth.tsv; do [[ -r "$DATA/$f" ]] || die "missing $DATA/$f"; done
    DATA="$(cd "$DATA" && pwd)"
}

GLOVE_CONF="jit = off
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 0
max_worker_processes = 16
max_parallel_workers = 16
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 32GB
checkpoint_timeout = 1h
maintenance_work_mem = 1GB"

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
    WORK="$CLUSTER/work"
    mkdir -p "$WORK"
}

server_log_tail() { echo "--- last lines of the server log:" >&2; tail -n 25 "$CLUSTER/server.log" >&2 || true; }

q() {   # q DB PGOPTIONS psql-args...
    local db=$1 opts=$2; shift 2
    PGOPTIONS="$opts" "${PSQL[@]}" -At -F $'\t' -d "$db" "$@" 2>"$WORK/psql.err" || {
        cat "$WORK/psql.err" >&2; server_log_tail; die "SQL failed in $db"; }
    grep -v '^NOTICE:\|^$' "$WORK/psql.err" >&2 || true
}

glove_tables() {   # glove_tables DB "EXTRA ITEM COLUMNS" (each with a leading comma)
    q "$1" "" <<SQL
CREATE EXTENSION pg_prewarm;
CREATE TABLE items (id int NOT NULL, embedding vector(100) NOT NULL${2:-});
CREATE TABLE queries (qid int PRIMARY KEY, v vector(100) NOT NULL);

-- The ids each query returns: a loop over the prepared statement bench_q
-- (PREPAREd by the caller in the same session), untimed.
CREATE FUNCTION bench_ids(nq int, OUT qid int, OUT ids int[]) RETURNS SETOF record
LANGUAGE plpgsql AS \$\$
DECLARE r record;
BEGIN
    FOR n IN 0 .. nq - 1 LOOP
        qid := n;
        ids := '{}';
        FOR r IN EXECUTE 'EXECUTE bench_q(' || n || ')' LOOP
            ids := ids || r.id;
        END LOOP;
        RETURN NEXT;
    END LOOP;
END
\$\$;
SQL
}

glove_load() {   # glove_load DB
    head -n "$NBASE" "$DATA/base.tsv" | q "$1" "" -c '\copy items (id, embedding) FROM pstdin'
    head -n "$NQ" "$DATA/query.tsv" | q "$1" "" -c '\copy queries (qid, v) FROM pstdin'
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2];
              else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
