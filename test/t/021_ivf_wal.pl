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
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIMS = 32;
my $NQ = 20;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
wal_consistency_checking = 'generic'
max_wal_size = '1GB'
});
$primary->start;

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

$primary->safe_psql(
	'postgres', qq{
	CREATE EXTENSION vecrec;
	CREATE EXTENSION pageinspect;
	CREATE TABLE t (id int PRIMARY KEY, v vector($DIMS));
	CREATE TABLE q (qid int PRIMARY KEY, v vector($DIMS));
});

sub fill
{
	my ($node, $t, $first, $n, $seed) = @_;
	$node->safe_psql(
		'postgres', qq{
		SELECT setseed($seed);
		INSERT INTO $t
		SELECT i, array_agg(((random() - 0.5) * exp(-d / 10.0))::real ORDER BY d)::vector
		FROM generate_series($first, $first + $n - 1) i, generate_series(1, $DIMS) d
		GROUP BY i;
	});
}

my $KNN = qq{
	SET enable_seqscan = off;
	SET enable_bitmapscan = off;
	SET ivfflat.probes = 3;
	SET ivfflat.iterative_scan = relaxed_order;
	SELECT q.qid || ' ' ||
		(SELECT array_agg(id)::text FROM (SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) s) || ' ' ||
		(SELECT coalesce(array_agg(id)::text, '{}') FROM
			(SELECT id FROM t WHERE id % 10 = 3 ORDER BY t.v <-> q.v LIMIT 5) s)
	FROM q ORDER BY q.qid;
};

my $PAGES = q{
	SELECT string_agg(i || ' ' || md5(get_raw_page('t_idx', i)), E'\n' ORDER BY i)
	FROM generate_series(0, pg_relation_size('t_idx') / current_setting('block_size')::int - 1) i;
};

sub verify
{
	my ($node, $what) = @_;
	my $out = $node->safe_psql('postgres',
		q{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('t_idx')});
	my $n = 0;
	for my $line (split /\n/, $out)
	{
		my ($check, $ok, $detail) = split /\|/, $line, 3;
		$n++;
		is($ok, 'true', "$what: verify_index $check ok ($detail)");
	}
	is($n, 4, "$what: verify_index reports 4 checks");
	return $out;
}

sub compare
{
	my ($what, $expect_rows) = @_;
	$primary->wait_for_catchup($standby);

	is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
		$expect_rows, "$what: standby has $expect_rows rows");
	my $plan = $standby->safe_psql('postgres',
		"SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 10");
	like($plan, qr/Index Scan using t_idx on t/, "$what: standby query uses the ivfflat index");

	my $p = $primary->safe_psql('postgres', $KNN);
	my $s = $standby->safe_psql('postgres', $KNN);
	my @lines = split /\n/, $p;
	is(scalar(@lines), $NQ, "$what: $NQ query results on the primary");
	ok(!grep({ !/^\d+ \{\d+(,\d+){9}\} \{\d+(,\d+){4}\}$/ } @lines),
		"$what: every query returns 10 rows, and 5 with the filter");
	is($s, $p, "$what: standby returns the same ids as the primary");

	my $pp = $primary->safe_psql('postgres', $PAGES);
	my $sp = $standby->safe_psql('postgres', $PAGES);
	my @pl = split /\n/, $pp;
	my @sl = split /\n/, $sp;
	is(scalar(@sl), scalar(@pl), "$what: index has the same number of pages on both (" . scalar(@pl) . ")");
	my @diff = grep { ($pl[$_] // '') ne ($sl[$_] // '') } 0 .. $#pl;
	is(scalar(@diff), 0, "$what: every index page is identical on the standby")
	  or diag("pages that differ: " . join(', ', map { (split / /, $pl[$_])[0] } @diff[0 .. ($#diff < 9 ? $#diff : 9)]));

	my $vp = verify($primary, "$what, primary");
	my $vs = verify($standby, "$what, standby");
	is($vs, $vp, "$what: verify_index says the same on both");
}

# Round 1: the build
fill($primary, 't', 1, 3000, 0.21);
fill($primary, 'q', 1, $NQ, 0.71);
$primary->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20)');
compare('after CREATE INDEX', 3000);

# Round 2: inserts, enough to chain new pages to every list
fill($primary, 't', 3001, 2000, 0.22);
compare('after inserts', 5000);

# Round 3: deletes, then VACUUM
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0');
compare('after DELETE', 3334);
$primary->safe_psql('postgres', 'VACUUM t');
compare('after VACUUM', 3334);
like($primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'entries'}),
	qr/^3334 entries$/, 'VACUUM removed the entries of the 1666 deleted rows');

# Round 4: inserts into the room VACUUM made
my $pages_before = $primary->safe_psql('postgres', "SELECT pg_relation_size('t_idx')");
fill($primary, 't', 5001, 1000, 0.23);
compare('after more inserts', 4334);
is($primary->safe_psql('postgres', "SELECT pg_relation_size('t_idx')"), $pages_before,
	'inserts after VACUUM reuse the room it made (the index did not grow)');

# Round 5: REINDEX
$primary->safe_psql('postgres', 'REINDEX INDEX t_idx');
compare('after REINDEX', 4334);

ok(!$standby->log_contains('inconsistent page found'), 'standby found no inconsistent page during replay');

# Promotion
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby did not leave recovery';
fill($standby, 't', 6001, 500, 0.24);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'), 4834, 'promoted standby takes inserts');
is( $standby->safe_psql(
		'postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 20;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 100000) s}),
	'4834', 'promoted standby: a scan of every list returns every row');
verify($standby, 'promoted standby');

# Crash recovery: inserts that chain new pages, then an immediate stop
# (no checkpoint): recovery replays them from the WAL
fill($standby, 't', 6501, 1500, 0.25);
$standby->stop('immediate');
$standby->start;
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'), 6334, 'after crash recovery: every committed row');
is( $standby->safe_psql(
		'postgres', q{SET enable_seqscan = off; SET ivfflat.probes = 20;
		SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 100000) s}),
	'6334', 'after crash recovery: a scan of every list returns every row');
verify($standby, 'after crash recovery');

$primary->stop;
$standby->stop;

done_testing();
