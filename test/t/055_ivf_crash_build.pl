# Crash recovery of ivfflat builds.
#
# CREATE INDEX ... USING ivfflat (flat and sq8 lists) and CREATE INDEX
# CONCURRENTLY are killed mid-build (stop 'immediate' once the build has
# assigned rows to lists); after restart and crash recovery:
#   - the table is intact and takes inserts;
#   - a plain CREATE INDEX left no index behind, and a new one builds;
#   - CREATE INDEX CONCURRENTLY left an invalid index that queries do not
#     use, and REINDEX makes it valid;
#   - the index finally in place is used, passes vecrec.verify_index with
#     the heapallindexed pass, and finds every row (1 in 10 checked) by an
#     exact search for its own vector with every list probed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('ivfcrash');
$node->init;
$node->append_conf('postgresql.conf', "wal_level = replica\nmax_parallel_maintenance_workers = 0\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
# Enough rows that the build lasts a while: 150,000 x 64 dimensions
$node->safe_psql(
	'postgres', q{
	CREATE TABLE big (id int PRIMARY KEY, v vector(64));
	INSERT INTO big SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.7) + cos(i * 0.011 * j))::vector
	                           FROM generate_series(1, 64) j)
	  FROM generate_series(1, 150000) i;
	VACUUM ANALYZE big;
});

sub finish_bg
{
	my ($bg) = @_;
	eval { $bg->quit; };
	eval { $bg->{run}->kill_kill; };
	return;
}

sub verify
{
	my ($idx, $what) = @_;
	my $bad = $node->safe_psql('postgres',
		qq{SELECT count(*) FROM vecrec.verify_index('$idx', heapallindexed => true) WHERE NOT ok});
	is($bad, '0', "$what: verify_index with heapallindexed finds no problem");
	return;
}

sub self_search_misses
{
	return $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET vecrec.enable_exact_scan = off;
		SET ivfflat.probes = 100;
		SELECT count(*) FROM (SELECT * FROM big WHERE id % 10 = 0 AND id <= 20000) a LEFT JOIN LATERAL
			(SELECT b.id, b.v <-> a.v AS dist FROM big b ORDER BY b.v <-> a.v LIMIT 1) x ON true
		WHERE x.dist <> 0;
	});
}

my $next = 150001;
for my $case (['CREATE INDEX', ''], ['CREATE INDEX', ", quantizer = 'sq8'"],
	['CREATE INDEX CONCURRENTLY', ''])
{
	my ($cmd, $opt) = @$case;
	my $what = "$cmd" . ($opt ? ' (sq8)' : '');
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_until(
		qr/start/, qq{
		\\echo start
		$cmd big_idx ON big USING ivfflat (v vector_l2_ops) WITH (lists = 100$opt);
	});
	# Wait until rows are being assigned to lists (tuples_done > 0)
	my $done = 0;
	for (my $waited = 0; $waited < $PostgreSQL::Test::Utils::timeout_default * 100; $waited++)
	{
		$done = $node->safe_psql('postgres',
			q{SELECT coalesce(max(tuples_done), 0) FROM pg_stat_progress_create_index});
		last if $done > 0;
		usleep(10_000);
	}
	note("$what: crash after $done tuples assigned");
	cmp_ok($done, '>', 0, "$what: the build was under way at the crash");
	$node->stop('immediate');
	finish_bg($bg);
	$node->start;

	is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), $next - 1, "after a crash in $what: table intact");
	my $left = $node->safe_psql('postgres',
		q{SELECT coalesce(string_agg(c.relname || ':' || i.indisvalid, ','), '') FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'big'::regclass AND c.relname <> 'big_pkey'});
	$node->safe_psql('postgres',
		"INSERT INTO big SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.7) + cos(i * 0.011 * j))::vector
		   FROM generate_series(1, 64) j) FROM generate_series($next, $next + 99) i");
	$next += 100;
	if ($cmd =~ /CONCURRENTLY/)
	{
		is($left, 'big_idx:false', "after a crash in $what: an invalid index is left behind");
		like( $node->safe_psql(
				'postgres', q{SET enable_seqscan = off; SET vecrec.enable_exact_scan = off;
				EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY v <-> (SELECT v FROM big WHERE id = 1) LIMIT 5}),
			qr/Seq Scan on big/,
			"after a crash in $what: queries do not use the invalid index");
		$node->safe_psql('postgres', 'REINDEX INDEX big_idx');
		is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_idx'::regclass}),
			't', "after a crash in $what: REINDEX makes the index valid");
	}
	else
	{
		is($left, '', "after a crash in $what: no index left behind");
		$node->safe_psql('postgres', "CREATE INDEX big_idx ON big USING ivfflat (v vector_l2_ops) WITH (lists = 100$opt)");
	}
	like( $node->safe_psql(
			'postgres', q{SET enable_seqscan = off; SET vecrec.enable_exact_scan = off;
			EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY v <-> (SELECT v FROM big WHERE id = 1) LIMIT 5}),
		qr/Index Scan using big_idx on big/,
		"after a crash in $what: the new index is used");
	is(self_search_misses(), '0', "after a crash in $what: rows found through the new index");
	verify('big_idx', "after a crash in $what");
	$node->safe_psql('postgres', 'DROP INDEX big_idx');
}

$node->stop;

done_testing();
