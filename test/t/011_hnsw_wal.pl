# WAL-logging of hnsw indexes, checked on a streaming standby.
#
# A primary and a hot standby built from its backup (the pattern of
# contrib/bloom/t/001_wal.pl).  The primary creates a table and an hnsw
# index, then goes through rounds of changes: inserts, deletes + VACUUM
# (which frees the deleted elements), more inserts (which take the free
# items), updates + VACUUM + updates (the same, as a catalog whose vectors
# change), REINDEX (in memory, then with maintenance_work_mem = 1MB so
# that the build switches to the on-disk insert path half way).  After each
# round, once the standby has replayed everything:
#   - a set of kNN queries (ORDER BY v <-> q LIMIT 10 through the index,
#     plain and with an iterative scan behind a filter) returns exactly the
#     same ids on both nodes, and the same ids as a good approximate answer
#     should (recall against the exact answer, on the primary);
#   - every page of the index is byte for byte the same on both nodes
#     (pageinspect): nothing is changed without being WAL-logged;
#   - vecrec.verify_index passes on both and reports the same thing.
# (The low-memory REINDEX is also watched for memory use: see 010.)
# The primary also runs with wal_consistency_checking = 'generic', so the
# standby itself compares each replayed hnsw page with the primary's image
# and stops with FATAL on a mismatch.
# Finally the standby is promoted and takes more inserts: queries work
# there, and verify_index passes on both nodes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $DIMS = 32;
my $NQ = 20;

my ($primary, $standby) = start_primary_standby("'generic'");

# Everything below is created after the backup: the standby gets it all by
# replaying WAL, the index build included.
$primary->safe_psql(
	'postgres', qq{
	CREATE EXTENSION vecrec;
	CREATE EXTENSION pageinspect;
	CREATE TABLE t (id int PRIMARY KEY, v vector($DIMS));
	CREATE TABLE q (qid int PRIMARY KEY, v vector($DIMS));
});

# Deterministic rows first..first+n-1 of a table
sub fill
{
	my ($t, $first, $n, $seed) = @_;
	fill_random_vectors($primary, $t, $first, $n, $seed, undef, $DIMS);
}

# The ids the index returns for every query vector, as text: a plain kNN
# query, and an iterative scan behind a filter that rejects 9 rows in 10
my $KNN = qq{
	SET enable_seqscan = off;
	SET enable_bitmapscan = off;
	SELECT q.qid || ' ' ||
		(SELECT array_agg(id)::text FROM (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s) || ' ' ||
		(SELECT coalesce(array_agg(id)::text, '{}') FROM
			(SELECT id FROM t WHERE id % 10 = 3 ORDER BY t.v <-> q.v LIMIT 5) s)
	FROM q ORDER BY q.qid;
};

sub knn
{
	my ($node) = @_;
	return $node->safe_psql('postgres', "SET hnsw.iterative_scan = strict_order; $KNN");
}

# recall@10 of the plain kNN query on a node, against a sequential scan
sub recall
{
	my ($node) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		CREATE TEMP TABLE approx AS
			SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
				(SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) x;
		SET enable_seqscan = on;
		SET enable_indexscan = off;
		SELECT count(*) / ($NQ * 10.0) FROM approx JOIN
			(SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
				(SELECT id FROM t ORDER BY t.v <-> q.v, t.id LIMIT 10) x) e USING (qid, id);
	});
}

# verify_index on a node: every row ok; returns the rows as text.  No
# concurrent inserts ever run here: see verify_hnsw_index.
sub verify
{
	my ($node, $what) = @_;
	my ($out) = verify_hnsw_index($node, 't_idx', 't', $what);
	return $out;
}

my $round = 0;

# The pages row of verify_index on the primary: (live elements, deleted
# elements + free items, index pages)
sub counts
{
	my $pages = $primary->safe_psql('postgres',
		q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'pages'});
	my ($p, $e, $d, $f) = $pages =~ /^(\d+) pages, (\d+) elements, (\d+) deleted, (\d+) free/;
	return defined $f ? ($e - $d, $d + $f, $p) : (-1, -1, -1);
}

# The standby must match the primary exactly
sub compare
{
	my ($what, $expect_rows) = @_;
	$round++;
	$primary->wait_for_catchup($standby);

	is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
		$expect_rows, "$what: standby has $expect_rows rows");

	my $plan = $standby->safe_psql('postgres',
		"SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 10");
	like($plan, qr/Index Scan using t_idx on t/, "$what: standby query uses the hnsw index");

	compare_knn_results($primary, $standby, "SET hnsw.iterative_scan = strict_order; $KNN", $what, $NQ, 10, 5);

	my $r = recall($primary);
	cmp_ok($r, '>=', 0.95, "$what: recall\@10 on the primary ($r)");

	compare_index_pages($primary, $standby, 't_idx', $what);

	my $vp = verify($primary, "$what, primary");
	my $vs = verify($standby, "$what, standby");
	is($vs, $vp, "$what: verify_index says the same on both");
}

# Round 1: the build
fill('t', 1, 3000, 0.21);
fill('q', 1, $NQ, 0.71);
$primary->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops)');
compare('after CREATE INDEX', 3000);

# Round 2: inserts
fill('t', 3001, 1000, 0.22);
compare('after inserts', 4000);

# Round 3: deletes (before and after VACUUM)
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0');
compare('after DELETE', 2667);
$primary->safe_psql('postgres', 'VACUUM t');
compare('after VACUUM', 2667);
my ($live, $dead, $pages) = counts();
is($live, 2667, 'VACUUM: 2667 live elements');
is($dead, 1333, 'VACUUM marked and freed the 1333 deleted rows (but maybe the entry point)');

# Round 4: more inserts, into the free items of the deleted elements
fill('t', 4001, 1000, 0.23);
compare('after more inserts', 3667);
my ($live2, $dead2, $pages2) = counts();
is($live2, 3667, 'more inserts: 3667 live elements');
cmp_ok($dead2, '<=', $dead - 900, "more inserts: they took free items ($dead -> $dead2 deleted or free)");
# (an element whose level no free item fits is appended: a few may be)
cmp_ok($pages2, '<=', $pages + 2, "more inserts: the index did not grow ($pages -> $pages2 pages)");

# Round 5: a third of the vectors change, VACUUM frees their old elements,
# another third changes into those free items
sub update_third
{
	my ($rem, $seed) = @_;
	$primary->safe_psql(
		'postgres', qq{
		SELECT setseed($seed);
		UPDATE t SET v = n.v FROM
			(SELECT i, array_agg(((random() - 0.5) * exp(-d / 10.0))::real ORDER BY d)::vector AS v
			 FROM generate_series(1, 5000) i, generate_series(1, $DIMS) d GROUP BY i) n
		WHERE t.id = n.i AND t.id % 3 = $rem;
	});
}
update_third(1, 0.25);
$primary->safe_psql('postgres', 'VACUUM t');
my ($live3, $dead3, $pages3) = counts();
update_third(2, 0.26);
compare('after updates into free items', 3667);
my ($live4, $dead4, $pages4) = counts();
# the old versions of the rows just updated wait for the next VACUUM
my $n2 = $primary->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id % 3 = 2');
is($live4, 3667 + $n2, "updates: 3667 live elements and the $n2 old versions not vacuumed yet");
cmp_ok($dead4, '<=', $dead3 - 1100, "updates: the second ones took free items ($dead3 -> $dead4 deleted or free)");
cmp_ok($pages4, '<=', $pages3 * 1.05, "updates: the second ones grew the index by less than 5% ($pages3 -> $pages4 pages)");

# Round 6: REINDEX, in memory
$primary->safe_psql('postgres', 'REINDEX INDEX t_idx');
compare('after REINDEX', 3667);

# Round 7: REINDEX with too little memory for the vectors: they move to a
# temporary file, the lists stay in memory (its memory must stay bounded
# meanwhile).  The build's on-disk fallback uses the insert path of rounds
# 2 and 4.
my ($done, $err, $peak) = run_watching_memory($primary,
	"SET client_min_messages = debug1; SET maintenance_work_mem = '1MB'; REINDEX INDEX t_idx;", 256);
note("low-memory REINDEX: peak private memory of the backend ${peak}MB");
cmp_ok($peak, '<', 256, 'low-memory REINDEX: backend memory stays under 256MB');
ok($done, 'low-memory REINDEX succeeds') or diag($err);
like($err, qr/hnsw build: vectors moved to a temporary file/, 'low-memory REINDEX moved the vectors to a temporary file');
compare('after low-memory REINDEX', 3667);

# The standby must not have complained while replaying (wal_consistency_checking)
ok(!$standby->log_contains('inconsistent page found'), 'standby found no inconsistent page during replay');

# Promotion: the standby becomes a primary of its own and takes inserts
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby did not leave recovery';
fill_random_vectors($standby, 't', 5001, 500, 0.24, undef, $DIMS);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'), 4167, 'promoted standby took 500 more rows');
my @lines = split /\n/, knn($standby);
is(scalar(@lines), $NQ, "promoted: $NQ query results");
ok(!grep({ !/^\d+ \{\d+(,\d+){9}\} \{\d+(,\d+){4}\}$/ } @lines),
	'promoted: every query returns 10 rows, and 5 with the filter');
my $r = recall($standby);
cmp_ok($r, '>=', 0.95, "promoted: recall\@10 ($r)");
# The new rows are in the index: each is the nearest to its own vector
is( $standby->safe_psql(
		'postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT count(*) FROM t a WHERE a.id > 5000 AND a.id IS DISTINCT FROM
			(SELECT b.id FROM t b ORDER BY b.v <-> a.v LIMIT 1)}),
	'0',
	'promoted: every new row is found by a search for its own vector');
like($standby->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'pages'}),
	qr/ 4167 elements/, 'promoted: index holds the 4167 rows');

verify($standby, 'promoted standby, final');
verify($primary, 'old primary, final');

$standby->stop;
$primary->stop;

done_testing();
