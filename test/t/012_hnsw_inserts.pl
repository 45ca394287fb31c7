# Concurrent inserts into an hnsw index.
#
# A table with an hnsw index (m = 8, ef_construction = 32: small neighbour
# lists fill up early, so most link-backs rewrite a full list) on 300 rows,
# then pgbench with 8 clients on 2 threads, 300 transactions each.  Every
# transaction inserts one row and at once searches the index for the new
# row's vector; a miss (the nearest row is not the one just inserted) is
# recorded in a table.  Meanwhile the
# other clients insert into the same graph, so searches, element appends
# and neighbour-list rewrites of different backends interleave.
#
# Afterwards:
#   - the table has exactly 300 + 8 * 300 rows, all distinct vectors;
#   - the searches made during the run found their own row (>= 99%, and
#     the misses are reported);
#   - every row is found by an exact-match index search for its own
#     vector (the nearest row at distance 0 is itself), at ef_search 200;
#     >= 99% required, misses reported;
#   - recall@10 of 50 query vectors against the exact answer >= 0.9;
#   - vecrec.verify_index passes (reachability is only reported: concurrent
#     inserts may legitimately leave a few elements without incoming links).
#
# Vectors are a deterministic function of the row id (sin formulas), so the
# set of vectors is the same on every run whatever the interleaving.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $CLIENTS = 8;
my $TX = 300;
my $INITIAL = 300;
my $TOTAL = $INITIAL + $CLIENTS * $TX;

my $node = PostgreSQL::Test::Cluster->new('inserts');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql(
	'postgres', q{
	CREATE SEQUENCE t_id_seq;
	CREATE TABLE t (id bigint PRIMARY KEY DEFAULT nextval('t_id_seq'), v vector(32));
	CREATE TABLE misses (id bigint, found bigint);
});
$node->safe_psql('postgres',
	"INSERT INTO t SELECT i, vec(i) FROM generate_series(1, $INITIAL) i; SELECT setval('t_id_seq', $INITIAL)");
$node->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $INITIAL, "$INITIAL rows before pgbench");

my $script = q{
SELECT nextval('t_id_seq') AS id \gset
INSERT INTO t VALUES (:id, vec(:id));
SELECT id AS found FROM t ORDER BY v <-> vec(:id) LIMIT 1 \gset
\if :found != :id
INSERT INTO misses VALUES (:id, :found);
\endif
};

$node->pgbench(
	"--no-vacuum --client=$CLIENTS --jobs=2 --transactions=$TX",
	0,
	[ qr{actually processed: @{[ $CLIENTS * $TX ]}/@{[ $CLIENTS * $TX ]}} ],
	[ qr{^$} ],
	'pgbench: concurrent inserts and searches',
	{ '012_hnsw_insert_search.sql' => $script });

is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $TOTAL, "$TOTAL rows after pgbench");
is($node->safe_psql('postgres', 'SELECT count(DISTINCT v::text) FROM t'), $TOTAL, 'all vectors are distinct');

# Searches made during the run, right after each insert
my $misses = $node->safe_psql('postgres', 'SELECT count(*) FROM misses');
note("searches right after insert that did not find the new row: $misses of " . ($CLIENTS * $TX));
cmp_ok($misses, '<=', 0.01 * $CLIENTS * $TX, 'searches right after each insert found the new row (>= 99%)');

# Every row by an exact-match search for its own vector
my $lost = $node->safe_psql(
	'postgres', q{
	SET enable_seqscan = off;
	SET enable_bitmapscan = off;
	SET hnsw.ef_search = 200;
	SELECT count(*) FROM t a CROSS JOIN LATERAL
		(SELECT b.id, b.v <-> a.v AS dist FROM t b ORDER BY b.v <-> a.v LIMIT 1) x
	WHERE x.id <> a.id OR x.dist <> 0;
});
note("rows not found by a search for their own vector: $lost of $TOTAL");
cmp_ok($lost, '<=', 0.01 * $TOTAL, 'every row is found by a search for its own vector (>= 99%)');
is( $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 200;
		SELECT count(*) FROM t a WHERE NOT EXISTS
			(SELECT FROM (SELECT b.id FROM t b ORDER BY b.v <-> a.v LIMIT 1) x)}),
	'0',
	'every search returns a row');
my $plan = $node->safe_psql('postgres',
	'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT a.id FROM t a CROSS JOIN LATERAL (SELECT b.id FROM t b ORDER BY b.v <-> a.v LIMIT 1) x');
like($plan, qr/Index Scan using t_idx on t b/, 'the self searches use the index');

# recall@10 against the exact answer, for vectors not in the table
my $recall = $node->safe_psql(
	'postgres', q{
	CREATE TABLE q AS SELECT qid, vec(1000000 + qid) AS v FROM generate_series(1, 50) qid;
	SET enable_indexscan = off;
	CREATE TABLE truth AS SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
		(SELECT id FROM t ORDER BY t.v <-> q.v, t.id LIMIT 10) x;
	SET enable_indexscan = on;
	SET enable_seqscan = off;
	SELECT count(*) / 500.0 FROM truth JOIN
		(SELECT q.qid, x.id FROM q CROSS JOIN LATERAL
			(SELECT id FROM t ORDER BY t.v <-> q.v LIMIT 10) x) a USING (qid, id);
});
note("recall\@10 at ef_search 40: $recall");
cmp_ok($recall, '>=', 0.9, 'recall@10 after concurrent inserts');

# Structure
my (undef, $rows) = verify_index_rows($node, 't_idx', checks => 5);
note("reachability after concurrent inserts: $rows->{reachability}") if defined $rows->{reachability};
like($rows->{pages} // '', qr/ $TOTAL elements, 0 deleted/, "index holds $TOTAL elements");

$node->stop;

done_testing();
