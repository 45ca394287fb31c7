# hnsw indexes on unlogged tables, on partitioned tables, and built or
# rebuilt concurrently.
#
# Unlogged: an unlogged table with an hnsw index (one built on rows, one
# built empty) survives a clean restart; after a crash (stop 'immediate')
# both come back empty from their init forks, pass verify_index, and take
# new rows that searches then find.
#
# Partitioned: an hnsw index on a partitioned table cascades to every
# partition (and to one attached later); ORDER BY v <-> q LIMIT 10 over
# the parent is a Merge Append of per-partition index scans and returns the
# exact answer's rows (recall@10 against a sequential scan).
#
# Concurrently: CREATE INDEX CONCURRENTLY and REINDEX INDEX CONCURRENTLY
# give exactly the results of a plain CREATE INDEX on the same rows (the
# build is deterministic); and with rows inserted by another session while
# they run, every row ends up in the index and is found.
#
# Every index passes vecrec.verify_index.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $node = PostgreSQL::Test::Cluster->new('unlogged_partitioned');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql(
	'postgres', q{
	CREATE TABLE q AS SELECT qid, vec(1000000 + qid) AS v FROM generate_series(1, 50) qid;
});

# verify_index: all rows ok; every element reachable unless $concurrent;
# returns the pages detail
sub verify
{
	my ($idx, $concurrent) = @_;
	my (undef, $rows) = verify_index_rows($node, $idx, what => $idx, checks => 5);
	if ($concurrent) { note("$idx: " . ($rows->{reachability} // '')); }
	else { like($rows->{reachability} // '', qr/\(0 unreachable\)/, "$idx: every element reachable from the entry point"); }
	return $rows->{pages} // '';
}

# Rows of a table (those matching $where) that an index search for their
# own vector misses (the search must go through an hnsw index: checked)
sub self_search_misses
{
	my ($table, $op, $where) = @_;
	$op //= '<->';
	$where //= 'true';
	my $query = qq{SELECT count(*) FROM (SELECT * FROM $table WHERE $where) a LEFT JOIN LATERAL
			(SELECT b.id, b.v $op a.v AS dist FROM $table b ORDER BY b.v $op a.v LIMIT 1) x ON true
		WHERE x.id IS DISTINCT FROM a.id OR x.dist > 1e-6};
	my $settings = q{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET hnsw.ef_search = 200;
	};
	like($node->safe_psql('postgres', "$settings EXPLAIN (COSTS OFF) $query"),
		qr/Index Scan using \S+ on \S+ b/, "self search on $table uses an hnsw index");
	return $node->safe_psql('postgres', "$settings $query");
}

# recall@10 over the query vectors, index against a sequential scan
sub recall
{
	my ($table) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SET enable_indexscan = off;
		SET enable_bitmapscan = off;
		CREATE TEMP TABLE truth AS SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
			(SELECT id FROM $table ORDER BY $table.v <-> q.v, $table.id LIMIT 10) x;
		SET enable_indexscan = on;
		SET enable_seqscan = off;
		SELECT round(count(*) / 500.0, 3) FROM truth JOIN
			(SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
				(SELECT id FROM $table ORDER BY $table.v <-> q.v LIMIT 10) x) a USING (qid, id);
	});
}

# The ids returned for every query vector, as text
sub knn
{
	my ($table) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SELECT q.qid || ' ' || (SELECT array_agg(id)::text FROM
			(SELECT id FROM $table ORDER BY $table.v <-> q.v LIMIT 10) s)
		FROM q ORDER BY q.qid;
	});
}

### Unlogged tables

$node->safe_psql(
	'postgres', q{
	CREATE UNLOGGED TABLE u (id int PRIMARY KEY, v vector(32));
	INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 2000) i;
	CREATE INDEX u_idx ON u USING hnsw (v vector_l2_ops);
	-- and one built empty (only the metapage), then filled by inserts
	CREATE UNLOGGED TABLE ue (id int PRIMARY KEY, v vector(32));
	CREATE INDEX ue_idx ON ue USING hnsw (v vector_cosine_ops);
	INSERT INTO ue SELECT i, vec(i) FROM generate_series(1, 1000) i;
});
is(self_search_misses('u'), '0', 'unlogged: every row found');
is(self_search_misses('ue', '<=>'), '0', 'unlogged, index built empty: every row found');

# A clean restart keeps unlogged data
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '2000', 'unlogged: rows kept across a clean restart');
is(self_search_misses('u'), '0', 'unlogged: every row found after a clean restart');
like(verify('u_idx'), qr/ 2000 elements/, 'unlogged: index intact after a clean restart');

# A crash empties them
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged: table empty after a crash');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ue'), '0', 'unlogged: second table empty after a crash');
for my $tab ([ 'u', '<->' ], [ 'ue', '<=>' ])
{
	my ($t, $op) = @$tab;
	my $idx = "${t}_idx";
	like(verify($idx), qr/^1 pages, 0 elements, 0 deleted, 0 free, 0 unused new pages$/, "unlogged: $idx reset to its empty metapage");
	is( $node->safe_psql(
			'postgres', "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM $t ORDER BY v $op vec(1) LIMIT 5) x"),
		'0',
		"unlogged: a scan of the empty $idx returns nothing");
}
$node->safe_psql(
	'postgres', q{
	INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 500) i;
	INSERT INTO ue SELECT i, vec(i) FROM generate_series(1, 500) i;
});
is(self_search_misses('u'), '0', 'unlogged: rows inserted after the crash are found');
is(self_search_misses('ue', '<=>'), '0', 'unlogged, index built empty: rows inserted after the crash are found');
cmp_ok(recall('u'), '>=', 0.95, 'unlogged: recall@10 after the crash');
like(verify('u_idx'), qr/ 500 elements, 0 deleted/, 'unlogged: index holds the 500 new rows');
like(verify('ue_idx'), qr/ 500 elements, 0 deleted/, 'unlogged, index built empty: index holds the 500 new rows');

### Partitioned tables

$node->safe_psql(
	'postgres', q{
	CREATE TABLE p (id int, v vector(32)) PARTITION BY RANGE (id);
	CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (3001);
	CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (3001) TO (6001);
	CREATE TABLE p3 PARTITION OF p FOR VALUES FROM (6001) TO (9001);
	INSERT INTO p SELECT i, vec(i) FROM generate_series(1, 9000) i;
	CREATE INDEX p_idx ON p USING hnsw (v vector_l2_ops);
	ANALYZE p;
});
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		  WHERE i.inhparent = 'p_idx'::regclass}),
	'3',
	'partitioned: the index cascades to the 3 partitions');
my $plan = $node->safe_psql('postgres',
	'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY v <-> vec(42) LIMIT 10');
like($plan, qr/Merge Append/, 'partitioned: ORDER BY ... LIMIT over the parent is a Merge Append');
my @scans = $plan =~ /Index Scan using \S+ on (p\d)/g;
is(join(',', sort @scans), 'p1,p2,p3', 'partitioned: index scans of every partition');

my $r = recall('p');
note("partitioned: recall\@10 = $r");
cmp_ok($r, '>=', 0.95, 'partitioned: recall@10 across partitions');
# The rows of one query, from the index and exactly
is( $node->safe_psql(
		'postgres', 'SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT array_agg(id) FROM (SELECT id FROM p ORDER BY v <-> vec(4242) LIMIT 10) x'),
	$node->safe_psql(
		'postgres', 'SET enable_indexscan = off;
		SELECT array_agg(id) FROM (SELECT id FROM p ORDER BY v <-> vec(4242), id LIMIT 10) x'),
	'partitioned: a query returns the exact rows, in order');
is(self_search_misses('p', '<->', 'id % 10 = 0'), '0', 'partitioned: rows found through their partition index (1 in 10 checked)');

# A partition attached later gets its index built
$node->safe_psql(
	'postgres', q{
	CREATE TABLE p4 (id int, v vector(32));
	INSERT INTO p4 SELECT i, vec(i) FROM generate_series(9001, 10000) i;
	ALTER TABLE p ATTACH PARTITION p4 FOR VALUES FROM (9001) TO (10001);
});
$plan = $node->safe_psql('postgres',
	'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM p ORDER BY v <-> vec(42) LIMIT 10');
@scans = $plan =~ /Index Scan using \S+ on (p\d)/g;
is(join(',', sort @scans), 'p1,p2,p3,p4', 'partitioned: the attached partition got its index');
is(self_search_misses('p', '<->', 'id % 10 = 1'), '0', 'partitioned: rows found after ATTACH PARTITION (1 in 10 checked)');
for my $part ('p1', 'p2', 'p3', 'p4')
{
	my $idx = $node->safe_psql('postgres',
		"SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '$part'::regclass");
	like(verify($idx), qr/ (3000|1000) elements, 0 deleted/, "partitioned: $idx holds its partition's rows");
}
# verify_index on the partitioned index itself (no storage): an error, not a crash
my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM vecrec.verify_index('p_idx')");
isnt($ret, 0, 'verify_index on a partitioned index fails');
like($err, qr/ERROR:  "p_idx" is not a vecrec hnsw or ivfflat index/, 'verify_index on a partitioned index: clean error');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'verify_index on a partitioned index leaves the server up');

### CREATE INDEX CONCURRENTLY, REINDEX INDEX CONCURRENTLY

$node->safe_psql(
	'postgres', q{
	CREATE TABLE c (id int PRIMARY KEY, v vector(32));
	INSERT INTO c SELECT i, vec(i) FROM generate_series(1, 5000) i;
	CREATE INDEX c_idx ON c USING hnsw (v vector_l2_ops);
});
my $expected = knn('c');
my $expected_pages = verify('c_idx');
$node->safe_psql('postgres', 'DROP INDEX c_idx');

$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY c_idx ON c USING hnsw (v vector_l2_ops)');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'c_idx'::regclass}),
	't', 'CREATE INDEX CONCURRENTLY: index valid');
is(knn('c'), $expected, 'CREATE INDEX CONCURRENTLY: same results as CREATE INDEX');
is(verify('c_idx'), $expected_pages, 'CREATE INDEX CONCURRENTLY: same index as CREATE INDEX');

$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY c_idx');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'c_idx'::regclass}),
	't', 'REINDEX INDEX CONCURRENTLY: index valid');
is(knn('c'), $expected, 'REINDEX INDEX CONCURRENTLY: same results as CREATE INDEX');
is(verify('c_idx'), $expected_pages, 'REINDEX INDEX CONCURRENTLY: same index as CREATE INDEX');

# Now with another session inserting while the index is (re)built
for my $cmd ('DROP INDEX c_idx; CREATE INDEX CONCURRENTLY c_idx ON c USING hnsw (v vector_l2_ops)',
	'REINDEX INDEX CONCURRENTLY c_idx')
{
	my $first = $node->safe_psql('postgres', 'SELECT max(id) + 1 FROM c');
	my $last = $first + 599;
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_until(
		qr/start/, qq{
		\\echo start
		DO \$\$ BEGIN
			FOR i IN $first .. $last LOOP
				INSERT INTO c VALUES (i, vec(i));
				COMMIT;
				PERFORM pg_sleep(0.002);
			END LOOP;
		END \$\$;
	});
	$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM c WHERE id >= $first")
	  or die 'concurrent inserts did not start';
	my $during = $node->safe_psql('postgres', "SELECT count(*) FROM c WHERE id >= $first");
	$node->safe_psql('postgres', $_) for split /; /, $cmd;
	my $after = $node->safe_psql('postgres', "SELECT count(*) FROM c WHERE id >= $first");
	$bg->query_safe('SELECT 1');    # waits for the loop to end
	$bg->quit;
	my $name = $cmd =~ /REINDEX/ ? 'REINDEX INDEX CONCURRENTLY' : 'CREATE INDEX CONCURRENTLY';
	note("$name: concurrent inserts: $during rows before, $after after");
	cmp_ok($after, '>', $during, "$name: rows were inserted while it ran");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM c'), $last, "$name: all rows inserted");
	is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'c_idx'::regclass}),
		't', "$name with concurrent inserts: index valid");
	is(self_search_misses('c'), '0', "$name with concurrent inserts: every row found");
	like(verify('c_idx', 1), qr/ $last elements, 0 deleted/, "$name with concurrent inserts: every row in the index");
}

$node->stop;

done_testing();
