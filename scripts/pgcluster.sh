#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests and demos.
#
#   scripts/pgcluster.sh start DIR PORT      initdb DIR/data (if needed) and start it
#   scripts/pgcluster.sh stop DIR [--remove] fast shutdown; --remove deletes DIR
#   scripts/pgcluster.sh psql DIR PORT [ARGS...]
#   scripts/pgcluster.sh freeport [FROM [TO]] print a free port (default 5440-5499)
#   scripts/pgcluster.sh tap [TEST...]       run the TAP tests (default test/t/*.pl)
#                                            from the repository root
#
# Layout of DIR: DIR/data (PGDATA), DIR/server.log, and the Unix socket in DIR
# itself. The server listens on the socket only (listen_addresses = ''; set
# PGCLUSTER_LISTEN=localhost for TCP too), with trust auth and superuser
# "postgres": connect with  psql -h DIR -p PORT -U postgres.
#
# As root, the server and the TAP tests run as the postgres user (PostgreSQL
# refuses to run as root); otherwise as the current user.
#
# Binaries: $PG_BINDIR, else `$PG_CONFIG --bindir`, else pg_config on PATH,
# else Debian's PostgreSQL 15.
set -euo pipefail

die() { echo "pgcluster.sh: $*" >&2; exit 1; }

pg_config_bin() {
	local c
	for c in "${PG_CONFIG:-}" pg_config /usr/lib/postgresql/15/bin/pg_config; do
		[ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { echo "$c"; return; }
	done
	return 1
}

bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
	elif c=$(pg_config_bin); then
		"$c" --bindir
	else
		echo /usr/lib/postgresql/15/bin
	fi
}

PG_BINDIR=$(bindir)
[ -x "$PG_BINDIR/pg_ctl" ] || die "no pg_ctl in $PG_BINDIR (set PG_BINDIR or PG_CONFIG)"

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
PGOWNER=$(id -un)
if [ $IS_ROOT -eq 1 ]; then
	PGOWNER=postgres
	id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user"
fi

# Run a command as the user owning the clusters, in directory $1.
as_pg_in() {
	local dir=$1
	shift
	if [ $IS_ROOT -eq 1 ]; then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}
as_pg() { as_pg_in / "$@"; }

abspath() { (mkdir -p "$1" && cd "$1" && pwd -P); }

cmd_start() {
	[ $# -eq 2 ] || die "usage: start DIR PORT"
	local dir port data
	dir=$(abspath "$1") || die "cannot create $1"
	port=$2
	data=$dir/data
	# Marks DIR as ours, so that `stop --remove` never deletes anything else.
	touch "$dir/.pgcluster"
	chmod 755 "$dir"
	if [ $IS_ROOT -eq 1 ]; then chown postgres: "$dir" "$dir/.pgcluster"; fi
	as_pg test -w "$dir" || die "$PGOWNER cannot write $dir (choose a directory under /tmp)"

	if [ -f "$data/postmaster.pid" ] && as_pg "$PG_BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "pgcluster.sh: already running in $data"
	else
		if [ ! -f "$data/PG_VERSION" ]; then
			as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C -N >"$dir/initdb.log" 2>&1 ||
				{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
			cat >>"$data/postgresql.conf" <<-CONF

				# Throwaway test cluster (scripts/pgcluster.sh)
				port = $port
				listen_addresses = '${PGCLUSTER_LISTEN:-}'
				unix_socket_directories = '$dir'
				fsync = off
				synchronous_commit = off
				full_page_writes = off
				lc_messages = 'C'
				max_connections = 50
			CONF
		fi
		if ! as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null; then
			tail -n 50 "$dir/server.log" >&2 || true
			die "server failed to start (log: $dir/server.log)"
		fi
	fi
	echo "pgcluster.sh: PostgreSQL running, data $data, port $port, log $dir/server.log"
	echo "  connect: $PG_BINDIR/psql -h $dir -p $port -U postgres"
	echo "  stop:    scripts/pgcluster.sh stop $dir --remove"
}

cmd_stop() {
	local dir="" remove=0 a
	for a in "$@"; do
		case $a in
			--remove) remove=1 ;;
			-*) die "usage: stop DIR [--remove]" ;;
			*) [ -z "$dir" ] || die "usage: stop DIR [--remove]"; dir=$a ;;
		esac
	done
	[ -n "$dir" ] || die "usage: stop DIR [--remove]"
	[ -d "$dir" ] || { echo "pgcluster.sh: $dir does not exist"; return 0; }
	dir=$(cd "$dir" && pwd -P)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
			as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ||
			echo "pgcluster.sh: could not stop the server in $dir/data" >&2
	fi
	if [ $remove -eq 1 ]; then
		if [ -f "$dir/.pgcluster" ]; then
			rm -rf "$dir"
		else
			echo "pgcluster.sh: not removing $dir: not created by pgcluster.sh start" >&2
			return 1
		fi
	fi
}

cmd_psql() {
	[ $# -ge 2 ] || die "usage: psql DIR PORT [PSQL ARGS...]"
	local dir=$1 port=$2
	shift 2
	exec "$PG_BINDIR/psql" -h "$dir" -p "$port" -U postgres -X "$@"
}

port_in_use() {
	local p=$1 d
	for d in /tmp /var/run/postgresql; do
		[ -e "$d/.s.PGSQL.$p" ] || [ -e "$d/.s.PGSQL.$p.lock" ] && return 0
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
	return 1
}

cmd_freeport() {
	local from=${1:-5440} to=${2:-5499} n i p
	n=$((to - from + 1))
	[ $n -gt 0 ] || die "usage: freeport [FROM [TO]]"
	# Random starting point, so that concurrent runs rarely pick the same port.
	for ((i = 0; i < n; i++)); do
		p=$((from + (RANDOM + i) % n))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	die "no free port in $from-$to"
}

# TAP tests with PostgreSQL::Test::Cluster, mirroring PGXS's prove_installcheck:
# PATH with bindir first, PG_REGRESS, PGPORT, TESTDIR. TESTDIR (and so
# tmp_check/) is a fresh directory under /tmp owned by the cluster user; as
# root, the tests are copied there when that user cannot read the source tree.
# Optional environment: PROVE, PROVE_FLAGS, PG_REGRESS, PG_PERL_LIB; PG_TEST_*
# and VECREC_* variables are passed on to the tests.
cmd_tap() {
	local srcroot pgxs prove perllib regress tests tmp rundir rc t
	srcroot=$(pwd -P)
	[ -d "$srcroot/test" ] || die "run tap from the repository root"
	if [ $# -gt 0 ]; then
		tests=("$@")
	else
		tests=()
		for t in test/t/*.pl; do [ -e "$t" ] && tests+=("$t"); done
	fi
	if [ ${#tests[@]} -eq 0 ]; then
		echo "pgcluster.sh: no TAP tests in test/t"
		return 0
	fi

	pgxs=""
	if c=$(pg_config_bin); then pgxs=$(dirname "$("$c" --pgxs)")/../..; fi
	perllib=${PG_PERL_LIB:-$pgxs/src/test/perl}
	regress=${PG_REGRESS:-$pgxs/src/test/regress/pg_regress}
	prove=${PROVE:-prove}
	[ -f "$perllib/PostgreSQL/Test/Cluster.pm" ] || die "PostgreSQL::Test::Cluster not found in $perllib"
	[ -x "$regress" ] || die "pg_regress not found at $regress"
	command -v "$prove" >/dev/null 2>&1 || die "prove not found (install perl)"

	tmp=$(mktemp -d /tmp/vecrec-tap.XXXXXX)
	TAP_TMP=$tmp
	trap '[ -n "${PG_TEST_NOCLEAN:-}" ] || rm -rf "$TAP_TMP"' EXIT
	trap 'exit 130' INT TERM HUP
	chmod 755 "$tmp"
	rundir=$srcroot
	if [ $IS_ROOT -eq 1 ]; then
		chown postgres: "$tmp"
		# Can postgres enter the tree and read every test file?
		# shellcheck disable=SC2016
		if ! as_pg sh -c 'cd "$1" && test -z "$(find test \( -type d ! -executable \) -o ! -readable 2>&1 | head -n 1)"' sh "$srcroot" 2>/dev/null ||
			[ -n "${PGCLUSTER_COPY_TESTS:-}" ]; then
			mkdir -p "$tmp/src"
			cp -R "$srcroot/test" "$tmp/src/test"
			chown -R postgres: "$tmp/src"
			rundir=$tmp/src
			echo "pgcluster.sh: $PGOWNER cannot read $srcroot/test; running a copy in $rundir"
		fi
	fi

	# Fixed, minimal environment: no PG*/LC_* leaking in from the caller.
	local envv=(
		PATH="$PG_BINDIR:$PATH"
		HOME="$tmp"
		LANG=C.UTF-8
		TESTDIR="$tmp"
		TMPDIR="$tmp"
		PGPORT="6${DEF_PGPORT:-5432}"
		PG_REGRESS="$regress"
	)
	for v in $(compgen -e | grep -E '^(PG_TEST_[A-Z_]+|VECREC_[A-Z0-9_]+|PERL5LIB)$' || true); do
		envv+=("$v=${!v}")
	done

	set +e
	# shellcheck disable=SC2086 # PROVE_FLAGS is a list of options
	as_pg_in "$rundir" env -i "${envv[@]}" "$prove" -I "$perllib" -I test ${PROVE_FLAGS:-} "${tests[@]}" 2>&1 |
		tee "$tmp/prove.out"
	rc=${PIPESTATUS[0]}
	set -e

	if [ "$rc" -ne 0 ]; then
		local logdir=$tmp/tmp_check/log failed f name shown=0
		# "test/t/NAME.pl (Wstat: ...)" lines of prove's summary name the failures.
		failed=$(sed -n 's|^\(.*\)\.pl *(Wstat:.*|\1|p' "$tmp/prove.out" | xargs -r -n1 basename)
		if [ -d "$logdir" ]; then
			# Server logs first, the test's own log last: whoever reads only
			# the end of the output sees the failed checks.
			for name in $failed; do
				for f in "$logdir/${name}"_*.log "$logdir/regress_log_$name"; do
					[ -f "$f" ] || continue
					echo "======== tail of $f"
					tail -n 80 "$f"
					shown=1
				done
			done
			if [ $shown -eq 0 ]; then
				for f in "$logdir"/*; do
					[ -f "$f" ] || continue
					echo "======== tail of $f"
					tail -n 40 "$f"
				done
			fi
			# Keep the logs in the source tree for inspection.
			rm -rf "$srcroot/tmp_check/log"
			mkdir -p "$srcroot/tmp_check" && cp -R "$logdir" "$srcroot/tmp_check/log" 2>/dev/null &&
				echo "pgcluster.sh: TAP logs copied to $srcroot/tmp_check/log"
		fi
		# A summary of the failures, each failed check with prove's diagnostics.
		echo "======== failed TAP checks"
		# each "#   Failed test" with the diagnostic lines that follow it
		awk '/^#   Failed test/ { n = 6 } n > 0 && /^#/ { print; n--; next } { n = 0 }' \
			"$tmp/prove.out" | head -n 80
		grep -E '(Wstat|Failed tests?:)' "$tmp/prove.out" || true
		echo "pgcluster.sh: TAP tests FAILED" >&2
	fi
	if [ -n "${PG_TEST_NOCLEAN:-}" ]; then
		echo "pgcluster.sh: PG_TEST_NOCLEAN set, keeping $tmp"
	fi
	return "$rc"
}

[ $# -ge 1 ] || die "usage: $0 start|stop|psql|freeport|tap ..."
sub=$1
shift
case $sub in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	psql) cmd_psql "$@" ;;
	freeport) cmd_freeport "$@" ;;
	tap) cmd_tap "$@" ;;
	*) die "unknown command $sub (start|stop|psql|freeport|tap)" ;;
esac
