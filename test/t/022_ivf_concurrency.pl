# Concurrent inserts, searches, deletes and VACUUM on an ivfflat index.
#
# A table with an ivfflat index (lists = 20) on 2,000 rows, then pgbench
# with 6 clients on 2 threads, 250 transactions each, mixing two scripts:
#   - (weight 10) insert one row, then search the index for its vector with
#     ivfflat.probes = 1: a vector goes to the list of its nearest centroid
#     and the search probes the list of the query's nearest centroid, so
#     the new row must be found at distance 0, every time; a miss is
#     recorded in a table;
#   - (weight 1) delete one of the initial rows, then VACUUM the table, so
#     that pages are compacted and insert pages moved while other backends
#     insert into the same lists.
# Afterwards a final VACUUM (INDEX_CLEANUP ON), then:
#   - every row is found by a probes = 1 search for its own vector;
#   - the index has exactly as many entries as the table has rows;
#   - vecrec.verify_index passes.
# All of it twice: flat lists, then quantized ones (quantizer = 'sq8': the
# searches re-rank candidates exactly on the table while other backends
# insert, delete and vacuum).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $CLIENTS = 6;
my $TX = 250;
my $INITIAL = 2000;

my $node = PostgreSQL::Test::Cluster->new('ivf_concurrency');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
for my $quantizer ('none', 'sq8')
{
	$node->safe_psql(
		'postgres', q{
		DROP TABLE IF EXISTS t, misses;
		DROP SEQUENCE IF EXISTS t_id_seq;
		CREATE SEQUENCE t_id_seq;
		CREATE TABLE t (id bigint PRIMARY KEY DEFAULT nextval('t_id_seq'), v vector(32));
		CREATE TABLE misses (id bigint, found bigint);
	});
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT i, vec(i) FROM generate_series(1, $INITIAL) i; SELECT setval('t_id_seq', $INITIAL)");
	$node->safe_psql('postgres',
		"CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20, quantizer = '$quantizer')");

	my $insert = q{
SET enable_seqscan = off;
SET ivfflat.probes = 1;
SELECT nextval('t_id_seq') AS id \gset
INSERT INTO t VALUES (:id, vec(:id));
SELECT coalesce((SELECT id FROM t ORDER BY v <-> vec(:id) LIMIT 1), -1) AS found \gset
\if :found != :id
INSERT INTO misses VALUES (:id, :found);
\endif
};
	my $delete = qq{
\\set victim random(1, $INITIAL)
DELETE FROM t WHERE id = :victim;
VACUUM t;
};

	$node->pgbench(
		"--no-vacuum --client=$CLIENTS --jobs=2 --transactions=$TX",
		0,
		[ qr{actually processed: @{[ $CLIENTS * $TX ]}/@{[ $CLIENTS * $TX ]}} ],
		[ qr{^$} ],
		"quantizer $quantizer: pgbench: concurrent inserts, searches, deletes and VACUUM",
		{
			"022_ivf_insert_search_$quantizer.sql\@10" => $insert,
			"022_ivf_delete_vacuum_$quantizer.sql\@1" => $delete
		});

	my $misses = $node->safe_psql('postgres', 'SELECT count(*) FROM misses');
	is($misses, '0', "quantizer $quantizer: every search right after an insert found the new row");

	# INDEX_CLEANUP ON: with few dead rows VACUUM may otherwise skip the index
	$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) t');
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	cmp_ok($rows, '<', $INITIAL + $CLIENTS * $TX, "quantizer $quantizer: some initial rows were deleted ($rows rows left)");

	my $lost = $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET ivfflat.probes = 1;
		SELECT count(*) FROM t a CROSS JOIN LATERAL
			(SELECT b.id, b.v <-> a.v AS dist FROM t b ORDER BY b.v <-> a.v LIMIT 1) x
		WHERE x.id <> a.id OR x.dist <> 0;
	});
	is($lost, '0', "quantizer $quantizer: every row is found by a probes = 1 search for its own vector");

	my ($out, $checks) = verify_index_rows($node, 't_idx', what => "quantizer $quantizer");
	is($checks->{entries} // '', "$rows entries", "quantizer $quantizer: index holds $rows entries, one per row");
	is(scalar(split /\n/, $out), $quantizer eq 'none' ? 4 : 5, "quantizer $quantizer: verify_index reports every check");
}

$node->stop;

done_testing();
