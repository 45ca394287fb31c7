# VACUUM of hnsw indexes: deleted rows, recall, and reuse of heap slots
# and of index items.
#
# 10,000 rows with an hnsw index; half of them (even ids) are deleted and
# VACUUM marks their elements deleted, repairs the lists that pointed at
# them and frees them (all but the entry point, which stays as a deleted
# element).  Then:
#   - verify_index counts exactly 5,000 live elements, and 5,000 deleted
#     or free items;
#   - recall@10 on the remaining rows is at least that of a fresh index
#     built on the same rows, minus 0.02;
#   - scans return exactly LIMIT rows (deleted elements do not use up
#     ef_search) and never a deleted row, with hnsw.iterative_scan off,
#     relaxed_order and strict_order.
# Then 2,500 new rows go in, reusing freed ids (id % 4 = 0, new vectors)
# and, as the test checks, freed heap slots: an element that VACUUM failed
# to mark would now point at a different row.  Their elements take free
# items.  So, again:
#   - verify_index: 7,500 live elements, and the index holds no more items
#     than before (a few more at most: an element whose level no free item
#     has room for is appended);
#   - recall@10 at least that of a fresh index on the final rows, minus 0.02;
#   - no deleted row (id % 4 = 2) is ever returned, no row twice, rows
#     come in order of their real distance (off and strict_order), and
#     filtered iterative scans find the exact answer among the new rows.
# Every index passes verify_index with every element reachable (no
# concurrency here), or once some were deleted, with every live row
# returned by a full iterative scan.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $N = 10000;
my $NQ = 50;

my $node = PostgreSQL::Test::Cluster->new('vacuum');
$node->init;
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION vecrec;
	-- no autovacuum: VACUUM runs when the test says so
	CREATE TABLE t (id int PRIMARY KEY, v vector(32)) WITH (autovacuum_enabled = off);
	CREATE TABLE q (qid int PRIMARY KEY, v vector(32));
});

sub fill
{
	my ($t, $ids, $seed) = @_;
	$node->safe_psql(
		'postgres', qq{
		SELECT setseed($seed);
		INSERT INTO $t
		SELECT i, array_agg(((random() - 0.5) * exp(-d / 40.0))::real ORDER BY d)::vector
		FROM ($ids) ids(i), generate_series(1, 32) d
		GROUP BY i;
	});
}

# recall@10 at ef_search 40 of the index on table $t, optionally with a
# filter and an iterative scan
sub recall
{
	my ($t, %o) = @_;
	my $where = $o{where} ? "WHERE $o{where}" : '';
	my $mode = $o{mode} // 'off';
	return $node->safe_psql(
		'postgres', qq{
		SET enable_indexscan = off;
		SET enable_bitmapscan = off;
		CREATE TEMP TABLE truth AS SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
			(SELECT id FROM $t $where ORDER BY $t.v <-> q.v, $t.id LIMIT 10) x;
		SET enable_indexscan = on;
		SET enable_seqscan = off;
		SET hnsw.iterative_scan = $mode;
		SELECT round(count(*) / ($NQ * 10.0), 3) FROM truth JOIN
			(SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
				(SELECT id FROM $t $where ORDER BY $t.v <-> q.v LIMIT 10) x) a USING (qid, id);
	});
}

# A fresh index on a copy of the rows of t: the reference recall
sub reference_recall
{
	my ($name) = @_;
	$node->safe_psql(
		'postgres', qq{
		CREATE TABLE $name AS SELECT * FROM t;
		CREATE INDEX ${name}_idx ON $name USING hnsw (v vector_l2_ops);
	});
	my $r = recall($name);
	verify("${name}_idx");
	return $r;
}

# Index scans of every query vector with LIMIT $limit at ef_search $ef:
# returns (rows, distinct (qid, id), rows with id % 4 = 2, order breaks)
sub scan_stats
{
	my ($mode, $limit, $ef) = @_;
	my $r = $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET hnsw.iterative_scan = $mode;
		SET hnsw.ef_search = $ef;
		WITH s AS (
			SELECT q.qid, x.id, x.dist, x.n FROM q CROSS JOIN LATERAL
				(SELECT id, t.v <-> q.v AS dist, row_number() OVER () AS n
				 FROM (SELECT id, v FROM t ORDER BY t.v <-> q.v LIMIT $limit) t) x)
		SELECT count(*),
			(SELECT count(*) FROM (SELECT DISTINCT qid, id FROM s) d),
			count(*) FILTER (WHERE id % 4 = 2),
			(SELECT count(*) FROM s a JOIN s b ON a.qid = b.qid AND b.n = a.n + 1 WHERE b.dist < a.dist)
		FROM s;
	});
	return split /\|/, $r;
}

# verify_index: every row ok; returns the pages detail.  No concurrency
# here: see verify_hnsw_index for what it requires.
sub verify
{
	my ($idx) = @_;
	my $t = $idx =~ s/_idx$//r;
	my (undef, $rows) = verify_hnsw_index($node, $idx, $t, $idx);
	return $rows->{pages} // '';
}

# (live elements, deleted elements + free items) of a pages detail
sub live_dead
{
	my ($pages) = @_;
	my ($e, $d, $f) = $pages =~ /(\d+) elements, (\d+) deleted, (\d+) free/;
	return defined $f ? ($e - $d, $d + $f) : (-1, -1);
}

fill('t', "SELECT generate_series(1, $N)", 0.31);
fill('q', "SELECT generate_series(1, $NQ)", 0.81);
$node->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops)');
my $fresh = recall('t');
note("fresh index on $N rows: recall\@10 = $fresh");
cmp_ok($fresh, '>=', 0.9, "fresh index: recall\@10 ($fresh)");
like(verify('t_idx'), qr/ $N elements, 0 deleted/, "fresh index holds $N elements");

# Delete half; remember where the deleted rows lived
$node->safe_psql(
	'postgres', q{
	CREATE TABLE dead AS SELECT id, ctid AS tid FROM t WHERE id % 2 = 0;
	DELETE FROM t WHERE id % 2 = 0;
});

# Before VACUUM the dead rows are still in the index: scans may return
# fewer rows than asked, but never a dead one
my ($rows, $distinct, $deleted, $breaks) = scan_stats('off', 20, 40);
is($deleted, 0, 'before VACUUM: no deleted row returned');
is($distinct, $rows, 'before VACUUM: no row returned twice');

$node->safe_psql('postgres', 'VACUUM t');
my $pages = verify('t_idx');
my ($live, $dead) = live_dead($pages);
is($live, 5000, "after VACUUM: 5000 live elements ($pages)");
is($dead, 5000, "after VACUUM: exactly the 5000 deleted rows' elements deleted or freed ($pages)");
like($pages, qr/ [01] deleted, /, 'after VACUUM: every deleted element freed, but maybe the entry point');

my $vac = recall('t');
my $ref = reference_recall('ref1');
note("after deleting half + VACUUM: recall\@10 = $vac; fresh index on the same rows: $ref");
cmp_ok($vac, '>=', $ref - 0.02, "after VACUUM: recall\@10 ($vac) >= fresh build ($ref) - 0.02");

for my $mode ('off', 'relaxed_order', 'strict_order')
{
	my ($rows, $distinct, $deleted, $breaks) = scan_stats($mode, 100, 100);
	is($rows, $NQ * 100, "after VACUUM, iterative_scan $mode: every scan returns 100 rows");
	is($distinct, $rows, "after VACUUM, iterative_scan $mode: no row returned twice");
	is($deleted, 0, "after VACUUM, iterative_scan $mode: no deleted row returned");
	is($breaks, 0, "after VACUUM, iterative_scan $mode: rows in distance order") if $mode ne 'relaxed_order';
}
is( $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 200;
		SELECT count(*) FROM q CROSS JOIN LATERAL
			(SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 200) x
		WHERE x.id IN (SELECT id FROM dead)}),
	'0',
	'after VACUUM: no returned id belongs to a deleted row');

# New rows with reused ids (id % 4 = 0) and new vectors, filling the freed
# heap slots
fill('t', "SELECT i FROM generate_series(4, $N, 4) i", 0.32);
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $N / 2 + $N / 4, 'rows after re-insert');
my $reused = $node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE ctid IN (SELECT tid FROM dead)');
note("new rows in heap slots freed by VACUUM: $reused");
cmp_ok($reused, '>', 1000, 'the new rows reuse heap slots freed by VACUUM');
$pages = verify('t_idx');
($live, $dead) = live_dead($pages);
is($live, 7500, "after re-insert: 7500 live elements ($pages)");
cmp_ok($live + $dead, '<=', 10050, "after re-insert: the new elements took free items ($pages)");

my $re = recall('t');
my $ref2 = reference_recall('ref2');
note("after re-insert: recall\@10 = $re; fresh index on the same rows: $ref2");
cmp_ok($re, '>=', $ref2 - 0.02, "after re-insert: recall\@10 ($re) >= fresh build ($ref2) - 0.02");

for my $mode ('off', 'relaxed_order', 'strict_order')
{
	my ($rows, $distinct, $deleted, $breaks) = scan_stats($mode, 100, 100);
	is($rows, $NQ * 100, "after re-insert, iterative_scan $mode: every scan returns 100 rows");
	is($distinct, $rows, "after re-insert, iterative_scan $mode: no row returned twice");
	is($deleted, 0, "after re-insert, iterative_scan $mode: no deleted row (id % 4 = 2) returned");
	is($breaks, 0, "after re-insert, iterative_scan $mode: rows in real distance order") if $mode ne 'relaxed_order';

	next if $mode eq 'off';
	# Only the new rows, found by iterating through the rest of the graph
	my $fr = recall('t', where => 'id % 4 = 0', mode => $mode);
	note("iterative_scan $mode, new rows only: recall\@10 = $fr");
	cmp_ok($fr, '>=', 0.9, "iterative_scan $mode, filter on the new rows: recall\@10 ($fr)");
}
is( $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 200;
		SELECT count(*) FROM q CROSS JOIN LATERAL
			(SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 200) x
		WHERE x.id IN (SELECT id FROM dead WHERE id % 4 = 2)}),
	'0',
	'after re-insert: no returned id belongs to a deleted row');

# A second VACUUM with nothing to do changes nothing
my $size = $node->safe_psql('postgres', "SELECT pg_relation_size('t_idx')");
$node->safe_psql('postgres', 'VACUUM t');
is(verify('t_idx'), $pages, 'a second VACUUM marks or frees nothing more');
is($node->safe_psql('postgres', "SELECT pg_relation_size('t_idx')"), $size, 'a second VACUUM: same index size');

$node->stop;

done_testing();
