#!/usr/bin/env bash
# make test-valgrind: part of the regression suite against a server running
# under valgrind memcheck.
#
#   scripts/valgrind.sh TEST...      (pg_regress test names, from sql/)
#   scripts/valgrind.sh --check DIR  only read the logs of an earlier run
#
# A throwaway cluster (scripts/pgcluster.sh) is started under
#   valgrind --tool=memcheck --trace-children=yes --track-origins=yes
#            --suppressions=test/valgrind/postgres.supp
# (every backend is a fork of the postmaster, so each is checked), the
# tests run with "make installcheck" against it, and the server is stopped.
# Then every valgrind error report is read: the run fails if any report's
# stack passes through vecrec.so (errors of the server alone are counted and
# printed, not failed: Debian's server is built without valgrind
# annotations, see test/valgrind/postgres.supp).  The logs stay in
# VALGRIND_LOGDIR (default: a directory under /tmp, printed at the end).
set -uo pipefail
cd "$(dirname "$0")/.."

# Read the valgrind logs in $1: print the reports whose stack passes
# through vecrec.so, count the others; exit 3 if there is any of ours.  A
# frame of vecrec.so names the library, or, with debug information, one of
# our source files (vecrec is built with -g)
check_logs() {
	local ours
	ours=$(find src -name '*.c' -printf '%f\n' | sed 's/\./\\./' | paste -sd'|')
	OURS="($ours):[0-9]+\)|vecrec\.so" perl -e '
		my ($ours, $theirs, %kinds) = (0, 0);
		for my $f (@ARGV) {
			open(my $fh, "<", $f) or next;
			local $/ = undef;
			my $log = <$fh>;
			# a report starts with a line naming the error, ends before the next blank report line
			for my $rep (split /\n==\d+== \n/, $log) {
				next unless $rep =~ /==\d+== (Invalid (?:read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Mismatched free|Argument .* of function)/;
				my $kind = $1;
				next if $rep =~ /^\s*\{\s*$/m && $rep !~ /at 0x/;    # a suppression only
				if ($rep =~ /$ENV{OURS}/) { $ours++; print "---- $f\n$rep\n"; }
				else { $theirs++; $kinds{$kind}++; }
			}
		}
		print "valgrind.sh: $ours error reports in vecrec.so, $theirs in the server alone"
		  . (%kinds ? " (" . join(", ", map { "$kinds{$_} $_" } sort keys %kinds) . ")" : "") . "\n";
		exit($ours ? 3 : 0);
	' "$1"/*.log
}

if [ "${1:-}" = --check ]; then
	[ $# -eq 2 ] || { echo "usage: $0 --check LOGDIR" >&2; exit 2; }
	check_logs "$2"
	exit
fi
[ $# -gt 0 ] || { echo "usage: $0 TEST... | --check LOGDIR" >&2; exit 2; }
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind not installed (scripts/deps.sh valgrind)" >&2; exit 1; }
PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)
export PG_BINDIR PG_CONFIG

dir=$(mktemp -d /tmp/vecrec-valgrind.XXXXXX)
port=$(bash scripts/pgcluster.sh freeport) || exit 1
bash scripts/pgcluster.sh start "$dir" "$port" >/dev/null || exit 1
bash scripts/pgcluster.sh stop "$dir" >/dev/null || exit 1
logdir=${VALGRIND_LOGDIR:-$dir/valgrind}
mkdir -p "$logdir"
supp=$(pwd -P)/test/valgrind/postgres.supp
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$logdir"
	as_pg=(runuser -u postgres --)
fi

# autovacuum, parallel workers and JIT off: fewer processes, less time (and
# no false reports from the dynamic loader opening llvmjit.so)
"${as_pg[@]}" valgrind --tool=memcheck --trace-children=yes --track-origins=yes \
	--read-var-info=no --num-callers=40 --error-limit=no --leak-check=no \
	--suppressions="$supp" --gen-suppressions=all --log-file="$logdir/%p.log" \
	"$PG_BINDIR/postgres" -D "$dir/data" -p "$port" -c autovacuum=off -c jit=off \
	-c max_parallel_workers_per_gather=0 -c max_parallel_maintenance_workers=0 \
	>"$dir/server.log" 2>&1 &
for _ in $(seq 1 300); do
	"$PG_BINDIR/pg_isready" -q -h "$dir" -p "$port" && break
	sleep 1
done
"$PG_BINDIR/pg_isready" -q -h "$dir" -p "$port" || { tail -n 30 "$dir/server.log" >&2; exit 1; }

rc=0
start=$(date +%s)
PGHOST=$dir PGPORT=$port PGUSER=postgres make --no-print-directory installcheck \
	PG_CONFIG="$PG_CONFIG" REGRESS="$*" || rc=1
echo "valgrind.sh: regression tests took $(($(date +%s) - start)) s under valgrind"
"${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 600 stop >/dev/null || rc=1

check_logs "$logdir" || rc=1
echo "valgrind.sh: logs in $logdir"
[ -n "${VALGRIND_KEEP:-}" ] || [ $rc -ne 0 ] || rm -rf "$dir/data"
exit $rc
