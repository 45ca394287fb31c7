# Crash recovery under a concurrent mix, hnsw and ivfflat together.
#
# Two copies of a catalog, th (hnsw) and ti (ivfflat, lists = 10), and a
# truth table written in the same transactions: pgbench with 4 clients
# inserts, updates embeddings and deletes rows while another session
# runs VACUUM in a loop; the server is stopped in immediate mode (no
# shutdown checkpoint: a crash) after a few seconds, mid-flight.  Three
# rounds, each on top of the previous one, then a fourth crash in the
# middle of a VACUUM that cleans up a large delete.  After each restart:
#   - th and ti hold exactly the rows of truth, with its vectors (every
#     committed change is there, no aborted one is);
#   - every row is found by an exact index search for its own vector,
#     through both indexes; a search never returns a row truth does not have;
#   - vecrec.verify_index passes on both, heapallindexed too;
#   - the round really was cut short (pgbench did not finish), and the
#     tables keep working.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $node = PostgreSQL::Test::Cluster->new('crash_mix');
$node->init;
$node->append_conf('postgresql.conf', "wal_level = replica\nmax_connections = 30\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql(
	'postgres', q{
	CREATE FUNCTION vecv(id bigint, ver int) RETURNS vector IMMUTABLE LANGUAGE sql
		AS $$ SELECT vec(id + 1000000 * ver) $$;
	CREATE SEQUENCE ids START 2001;
	CREATE TABLE truth (id bigint PRIMARY KEY, ver int);
	CREATE TABLE th (id bigint PRIMARY KEY, ver int, v vector(32));
	CREATE TABLE ti (id bigint PRIMARY KEY, ver int, v vector(32));
	INSERT INTO truth SELECT i, 0 FROM generate_series(1, 2000) i;
	INSERT INTO th SELECT id, ver, vecv(id, ver) FROM truth;
	INSERT INTO ti SELECT * FROM th;
	CREATE INDEX th_idx ON th USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX ti_idx ON ti USING ivfflat (v vector_l2_ops) WITH (lists = 10);
});

my $dir = PostgreSQL::Test::Utils::tempdir();
my %scripts = (
	'insert.sql' => q{
SELECT nextval('ids') AS id \gset
BEGIN;
INSERT INTO th VALUES (:id, 0, vecv(:id, 0));
INSERT INTO ti VALUES (:id, 0, vecv(:id, 0));
INSERT INTO truth VALUES (:id, 0);
COMMIT;
},
	'update.sql' => q{
\set r random(1, 4000)
WITH t AS (UPDATE truth SET ver = ver + 1 WHERE id = :r RETURNING id, ver),
     h AS (UPDATE th SET ver = t.ver, v = vecv(t.id, t.ver) FROM t WHERE th.id = t.id)
UPDATE ti SET ver = t.ver, v = vecv(t.id, t.ver) FROM t WHERE ti.id = t.id;
},
	'delete.sql' => q{
\set r random(1, 4000)
WITH t AS (DELETE FROM truth WHERE id = :r RETURNING id),
     h AS (DELETE FROM th WHERE id IN (SELECT id FROM t))
DELETE FROM ti WHERE id IN (SELECT id FROM t);
});
# Each change of existing rows is one statement, so one snapshot: as
# separate READ COMMITTED statements, an update racing with the insert of
# its id could miss the truth row and then see the th or ti row committed
# meanwhile (it happened: ti one version ahead of truth).  truth's row
# lock orders concurrent changes of one id, and th and ti follow it.
my @script_args;
for my $s (sort keys %scripts)
{
	open(my $fh, '>', "$dir/$s") or die $!;
	print $fh $scripts{$s};
	close($fh);
	push @script_args, '-f', "$dir/$s\@" . ($s eq 'delete.sql' ? 1 : 3);
}
open(my $fh, '>', "$dir/vacuum.sql") or die $!;
print $fh "VACUUM th; VACUUM ti; SELECT pg_sleep(0.05);\n" x 2000;
close($fh);

# Rows of th and ti that differ from truth, and self-search misses
sub check_round
{
	my ($what) = @_;
	is($node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM truth FULL JOIN th USING (id)
		         WHERE th.id IS NULL OR truth.id IS NULL OR th.ver <> truth.ver OR th.v <> vecv(th.id, th.ver))
		    || '|' ||
		       (SELECT count(*) FROM truth FULL JOIN ti USING (id)
		         WHERE ti.id IS NULL OR truth.id IS NULL OR ti.ver <> truth.ver OR ti.v <> vecv(ti.id, ti.ver))}),
		'0|0', "$what: th and ti hold exactly the committed rows of truth");
	is($node->safe_psql(
			'postgres', qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off;
		SET hnsw.ef_search = 200; SET ivfflat.probes = 10;
		SELECT @{[ self_search_misses_sql('th') ]} || '|' || @{[ self_search_misses_sql('ti') ]} || '|' ||
		       (SELECT count(*) FROM generate_series(1, 50) q, LATERAL
		          (SELECT id FROM th ORDER BY v <-> vec(q + 900000) LIMIT 20) s
		         WHERE s.id NOT IN (SELECT id FROM truth))}),
		'0|0|0', "$what: every row found through both indexes, no search returns a row truth lacks");
	for my $idx ('th_idx', 'ti_idx')
	{
		my $out = $node->safe_psql('postgres',
			qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
		my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
		is(scalar(@bad), 0, "$what: verify_index('$idx') passes") or diag($out);
	}
	return;
}

my $committed = 0;
for my $round (1 .. 3)
{
	my ($out, $err) = ('', '');
	my $bench = IPC::Run::start(
		[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=60', @script_args,
		  '-d', $node->connstr('postgres') ], '>', \$out, '2>', \$err);
	my ($vout, $verr) = ('', '');
	my $vacuum = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', "$dir/vacuum.sql" ],
		'>', \$vout, '2>', \$verr);
	my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM truth');
	usleep(2_500_000 + int(rand(1_500_000)));
	$node->stop('immediate');
	$bench->finish;
	$vacuum->finish;
	like($err, qr/aborted|terminating connection|server closed the connection/,
		"round $round: pgbench (4 clients, 60 s) was cut short by the crash");
	$node->start;
	my $xacts = $node->safe_psql('postgres', q{SELECT count(*) FROM truth});
	note("round $round: truth has $xacts rows after recovery, $before at the start of the round");
	check_round("round $round");
}

# a crash in the middle of a VACUUM cleaning up a large delete
$node->safe_psql('postgres', q{
	BEGIN;
	DELETE FROM truth WHERE id % 3 = 0;
	DELETE FROM th WHERE id % 3 = 0;
	DELETE FROM ti WHERE id % 3 = 0;
	COMMIT;
});
# (slowed down by the cost delay, so that the crash hits the index phase)
my ($vout, $verr) = ('', '');
my $vacuum = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', "SET vacuum_cost_delay = '2ms'",
	  '-c', 'SET vacuum_cost_limit = 20', '-c', 'VACUUM (INDEX_CLEANUP ON) th, ti' ],
	'>', \$vout, '2>', \$verr);
$node->poll_query_until('postgres',
	q{SELECT EXISTS (SELECT FROM pg_stat_progress_vacuum WHERE phase = 'vacuuming indexes')})
  or die 'VACUUM never reached its index phase';
usleep(200_000);
my $phase = $node->safe_psql('postgres',
	q{SELECT p.phase || ' of ' || c.relname FROM pg_stat_progress_vacuum p JOIN pg_class c ON c.oid = p.relid});
$node->stop('immediate');
$vacuum->finish;
like($phase, qr/vacuuming indexes/, "crashed while VACUUM was in its index phase ($phase)");
$node->start;
check_round('crash during VACUUM');
$node->safe_psql('postgres', 'VACUUM th; VACUUM ti');
check_round('after a new VACUUM');

# still writable
$node->safe_psql('postgres', q{
	INSERT INTO truth SELECT i, 0 FROM generate_series(100001, 100100) i;
	INSERT INTO th SELECT id, ver, vecv(id, ver) FROM truth WHERE id > 100000;
	INSERT INTO ti SELECT * FROM th WHERE id > 100000;
});
check_round('new rows after the crashes');
$node->stop;
done_testing();
