# WAL-logging of ivfflat indexes, checked on a streaming standby.
#
# A primary (wal_consistency_checking = 'generic': the standby compares
# every replayed page with the primary's image and stops on a mismatch) and
# a hot standby built from its backup.  The primary creates a table and an
# ivfflat index, then goes through rounds of changes: inserts (filling
# pages and chaining new ones), deletes + VACUUM (pages compacted, insert
# pages moved back), more inserts (into the room VACUUM made), REINDEX.
# After each round, once the standby has replayed everything:
#   - the same kNN queries (plain, and an iterative scan behind a filter)
#     return exactly the same ids on both nodes;
#   - every page of the index is byte for byte the same on both nodes;
#   - vecrec.verify_index passes on both and says the same thing.
# Then the standby is promoted and takes inserts, and is stopped in
# immediate mode after more: crash recovery must give a sound index.
# Table tq gets the same rows and changes as t, under an index with
# quantized lists (quantizer = 'sq8': parameter pages, code entries), and
# goes through the same comparisons.
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

$primary->safe_psql(
	'postgres', qq{
	CREATE EXTENSION vecrec;
	CREATE EXTENSION pageinspect;
	CREATE TABLE t (id int PRIMARY KEY, v vector($DIMS));
	CREATE TABLE tq (id int PRIMARY KEY, v vector($DIMS));
	CREATE TABLE q (qid int PRIMARY KEY, v vector($DIMS));
});

# Indexes checked: flat lists on t, sq8 lists on tq (verify_index rows)
my %CHECKS = (t_idx => 4, tq_idx => 5);
my %TABLE = (t_idx => 't', tq_idx => 'tq');

sub fill
{
	my ($node, $t, $first, $n, $seed) = @_;
	fill_random_vectors($node, $t, $first, $n, $seed, undef, $DIMS);
	$node->safe_psql('postgres', "INSERT INTO tq SELECT * FROM t WHERE id BETWEEN $first AND $first + $n - 1")
	  if $t eq 't';
}

# The same statement on t and on tq (%T stands for the table)
sub both
{
	my ($node, $sql) = @_;
	for my $t ('t', 'tq')
	{
		(my $s = $sql) =~ s/%T/$t/g;
		$node->safe_psql('postgres', $s);
	}
}

sub knn_sql
{
	my ($t) = @_;
	return qq{
	SET enable_seqscan = off;
	SET enable_bitmapscan = off;
	SET ivfflat.probes = 3;
	SET ivfflat.iterative_scan = relaxed_order;
	SELECT q.qid || ' ' ||
		(SELECT array_agg(id)::text FROM (SELECT id FROM $t ORDER BY $t.v <-> q.v LIMIT 10) s) || ' ' ||
		(SELECT coalesce(array_agg(id)::text, '{}') FROM
			(SELECT id FROM $t WHERE id % 10 = 3 ORDER BY $t.v <-> q.v LIMIT 5) s)
	FROM q ORDER BY q.qid;
};
}

sub verify
{
	my ($node, $what, $idx) = @_;
	$idx //= 't_idx';
	my ($out) = verify_index_rows($node, $idx, what => "$what: $idx");
	is(scalar(split /\n/, $out), $CHECKS{$idx}, "$what: $idx: verify_index reports $CHECKS{$idx} checks");
	return $out;
}

sub compare
{
	my ($what, $expect_rows) = @_;
	$primary->wait_for_catchup($standby);
	for my $idx ('t_idx', 'tq_idx')
	{
		compare_index("$what ($idx)", $expect_rows, $idx);
	}
}

sub compare_index
{
	my ($what, $expect_rows, $idx) = @_;
	my $t = $TABLE{$idx};

	is($standby->safe_psql('postgres', "SELECT count(*) FROM $t"),
		$expect_rows, "$what: standby has $expect_rows rows");
	my $plan = $standby->safe_psql('postgres',
		"SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM $t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 10");
	like($plan, qr/Index Scan using $idx on $t/, "$what: standby query uses the ivfflat index");

	compare_knn_results($primary, $standby, knn_sql($t), $what, $NQ, 10, 5);
	compare_index_pages($primary, $standby, $idx, $what);

	my $vp = verify($primary, "$what, primary", $idx);
	my $vs = verify($standby, "$what, standby", $idx);
	is($vs, $vp, "$what: verify_index says the same on both");
}

# On the standby, for t and tq: a scan of every list (probes = lists)
# returns all $rows rows, and verify_index passes
sub check_all_lists
{
	my ($what, $rows) = @_;
	for my $t ('t', 'tq')
	{
		is( $standby->safe_psql(
				'postgres', qq{SET enable_seqscan = off; SET ivfflat.probes = 20;
			SELECT count(*) FROM (SELECT id FROM $t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 100000) s}),
			$rows, "$what: a scan of every list of ${t}_idx returns every row");
		verify($standby, $what, "${t}_idx");
	}
	return;
}

# Round 1: the build
fill($primary, 't', 1, 3000, 0.21);
fill($primary, 'q', 1, $NQ, 0.71);
$primary->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20)');
$primary->safe_psql('postgres',
	q{CREATE INDEX tq_idx ON tq USING ivfflat (v vector_l2_ops) WITH (lists = 20, quantizer = 'sq8')});
compare('after CREATE INDEX', 3000);

# Round 2: inserts, enough to chain new pages to every list
fill($primary, 't', 3001, 2000, 0.22);
compare('after inserts', 5000);

# Round 3: deletes, then VACUUM
both($primary, 'DELETE FROM %T WHERE id % 3 = 0');
compare('after DELETE', 3334);
both($primary, 'VACUUM %T');
compare('after VACUUM', 3334);
for my $idx ('t_idx', 'tq_idx')
{
	like($primary->safe_psql('postgres', qq{SELECT detail FROM vecrec.verify_index('$idx') WHERE "check" = 'entries'}),
		qr/^3334 entries$/, "$idx: VACUUM removed the entries of the 1666 deleted rows");
}

# Round 4: inserts into the room VACUUM made
my $pages_before = $primary->safe_psql('postgres', "SELECT pg_relation_size('t_idx')");
fill($primary, 't', 5001, 1000, 0.23);
compare('after more inserts', 4334);
is($primary->safe_psql('postgres', "SELECT pg_relation_size('t_idx')"), $pages_before,
	'inserts after VACUUM reuse the room it made (the index did not grow)');

# Round 5: REINDEX
both($primary, 'REINDEX INDEX %T_idx');
compare('after REINDEX', 4334);

ok(!$standby->log_contains('inconsistent page found'), 'standby found no inconsistent page during replay');

# Promotion
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby did not leave recovery';
fill($standby, 't', 6001, 500, 0.24);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'), 4834, 'promoted standby takes inserts');
check_all_lists('promoted standby', 4834);

# Crash recovery: inserts that chain new pages, then an immediate stop
# (no checkpoint): recovery replays them from the WAL
fill($standby, 't', 6501, 1500, 0.25);
$standby->stop('immediate');
$standby->start;
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'), 6334, 'after crash recovery: every committed row');
check_all_lists('after crash recovery', 6334);

$primary->stop;
$standby->stop;

done_testing();
