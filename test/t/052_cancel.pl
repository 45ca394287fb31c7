# Resource limits: statement_timeout and pg_cancel_backend() stop long
# index builds and long scans promptly, and the server stays healthy.
#
#   - hnsw CREATE INDEX (serial and with a parallel worker) and ivfflat
#     CREATE INDEX (k-means with many lists), each of which takes far longer
#     than the timeout, fail with "canceling statement due to statement
#     timeout" (57014) within 20 s of the timeout;
#   - the same builds started in a background session are cancelled with
#     pg_cancel_backend() once pg_stat_progress_create_index shows them
#     building, and end within 20 s;
#   - hnsw iterative scans whose filter matches nothing (each walks the
#     whole graph at ef_search 1000) are cut by a 200 ms timeout and by
#     pg_cancel_backend();
#   - afterwards no index is left behind, the table works, a normal build
#     succeeds and vecrec.verify_index passes.
# (A build with maintenance_work_mem far below the graph is in 010.)
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

# seconds: far less than the builds and scans would run uncancelled
# (minutes), with room for a stall on a busy machine
my $PROMPT = 20;

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', "max_parallel_maintenance_workers = 1\nmax_worker_processes = 8\n");
$node->start;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION vecrec;
	CREATE TABLE t (id int PRIMARY KEY, cat int, v vector(64));
	SELECT setseed(0.5);
	INSERT INTO t SELECT i, i % 100, (SELECT array_agg(random()) FROM generate_series(1, 64) WHERE i > 0)::vector
	  FROM generate_series(1, 20000) i;
	ANALYZE t;
});

my %builds = (
	'hnsw' => q{SET max_parallel_maintenance_workers = 0;
		CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 400)},
	'hnsw parallel' => q{SET max_parallel_maintenance_workers = 1; SET maintenance_work_mem = '256MB';
		CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 400)},
	'ivfflat' => q{CREATE INDEX t_ivf ON t USING ivfflat (v vector_l2_ops) WITH (lists = 2000)});

# statement_timeout
for my $b (sort keys %builds)
{
	my $t0 = time();
	my ($rc, $out, $err) = $node->psql('postgres', "SET statement_timeout = '1s'; $builds{$b}");
	my $elapsed = time() - $t0;
	like($err, qr/canceling statement due to statement timeout/, "$b build: statement_timeout cancels it");
	cmp_ok($elapsed, '<', 1 + $PROMPT, sprintf('%s build: cancelled %.2f s after a 1 s timeout', $b, $elapsed));
}

# Start SQL in a background psql: (harness, pid, \stdout, \stderr)
sub background
{
	my ($sql) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$in .= "SELECT pg_backend_pid();\n";
	$h->pump until $out =~ /^(\d+)\n/;
	my $pid = $1;
	$in .= "$sql;\n\\q\n";
	$h->pump_nb;
	return ($h, $pid, \$out, \$err);
}

# pg_cancel_backend once the build is under way
for my $b (sort keys %builds)
{
	my ($h, $pid, $out, $err) = background($builds{$b});
	$node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM pg_stat_progress_create_index WHERE pid = $pid)")
	  or die "$b build never showed up in pg_stat_progress_create_index";
	usleep(300_000);
	my $phase = $node->safe_psql('postgres', "SELECT phase FROM pg_stat_progress_create_index WHERE pid = $pid");
	my $t0 = time();
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$h->finish;
	my $elapsed = time() - $t0;
	like($$err, qr/canceling statement due to user request/, "$b build: pg_cancel_backend cancels it (phase: $phase)");
	cmp_ok($elapsed, '<', $PROMPT, sprintf('%s build: ended %.2f s after pg_cancel_backend', $b, $elapsed));
}

is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_indexes WHERE tablename = 't' AND indexname <> 't_pkey'}),
	'0', 'no index left behind by the cancelled builds');

# a long scan: an iterative scan whose filter matches nothing
$node->safe_psql('postgres', q{CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)});
# (200 of them, one after the other: each rescan walks the graph again)
my $scan_n = q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; SET hnsw.ef_search = 1000;
	SET hnsw.max_scan_tuples = 1000000;
	SELECT sum(n) FROM generate_series(1, %d) g, LATERAL (SELECT count(*) AS n FROM (SELECT id FROM t
	  WHERE cat = -g ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 10) s) x};
my $t0 = time();
is($node->safe_psql('postgres', sprintf($scan_n, 10)), '0', 'the scans walk the whole graph and find nothing');
my $walk = (time() - $t0) / 10;
my $scan = sprintf($scan_n, 200);
note(sprintf('one graph walk: %.3f s at most, so 200 take about %.1f s', $walk, 200 * $walk));

$t0 = time();
my ($rc, $out, $err) = $node->psql('postgres', "SET statement_timeout = '200ms'; $scan");
my $elapsed = time() - $t0;
like($err, qr/canceling statement due to statement timeout/, 'scan: statement_timeout cancels it');
cmp_ok($elapsed, '<', 0.2 + $PROMPT, sprintf('scan: cancelled %.2f s after a 0.2 s timeout', $elapsed));

my ($h, $pid, $bout, $berr) = background($scan);
$node->poll_query_until('postgres', "SELECT wait_event IS NULL AND state = 'active' FROM pg_stat_activity WHERE pid = $pid");
usleep(200_000);
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$h->finish;
$elapsed = time() - $t0;
like($$berr, qr/canceling statement due to user request/, 'scan: pg_cancel_backend cancels it');
cmp_ok($elapsed, '<', $PROMPT, sprintf('scan: ended %.2f s after pg_cancel_backend', $elapsed));

# healthy afterwards: new rows reach both indexes.  Each new row must be its
# own nearest neighbour through ivfflat with every list probed (exact), and
# through the hnsw index in at least 95 of 100 cases: the graph (m = 8,
# ef_construction = 32, 64 uniform random dimensions) is approximate, and
# pgvector's finds itself for 97-100 of such rows too.
$node->safe_psql('postgres', q{
	SELECT setseed(0.25);
	INSERT INTO t SELECT i, i % 100, (SELECT array_agg(random()) FROM generate_series(1, 64) WHERE i > 0)::vector
	  FROM generate_series(20001, 20100) i;
});
my $self_found = q{SET enable_seqscan = off; SET hnsw.ef_search = 200; SET ivfflat.probes = 20;
	SELECT count(*) FROM t a WHERE a.id > 20000
	   AND a.id = (SELECT id FROM t ORDER BY v <-> a.v LIMIT 1)};
cmp_ok($node->safe_psql('postgres', $self_found), '>=', 95, 'new rows found through the hnsw index');
$node->safe_psql('postgres', q{CREATE INDEX t_ivf ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20)});
is($node->safe_psql('postgres', "BEGIN; DROP INDEX t_hnsw; $self_found; ROLLBACK"),
	'100', 'new rows found through the ivfflat index');
for my $idx ('t_hnsw', 't_ivf')
{
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
	my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
	is(scalar(@bad), 0, "verify_index('$idx') passes") or diag($out);
}
unlike(slurp_file($node->logfile), qr/terminated by signal|was terminated|PANIC/, 'no backend crashed');
$node->stop;
done_testing();
