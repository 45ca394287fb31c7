# Concurrency mix: pgbench with 8 clients for a fixed number of
# transactions over two copies of a catalog, one with an hnsw index and one
# with an ivfflat index, while a separate session runs VACUUM in a loop.
# Each transaction does the same to both tables, an update or a delete in
# one statement (one snapshot: under READ COMMITTED two statements could see
# a row inserted concurrently in the second but not in the first):
#   insert   a new row (id from a sequence, vector a function of the id);
#   update   the embedding of a random row (to a vector of a new version);
#   delete   a random row (logged in deleted, in the same transaction);
#   search   ANN with a category filter through each index (iterative
#            scans, relaxed order); fewer than LIMIT rows is recorded.
# Afterwards:
#   - pgbench processed every transaction without an error;
#   - no lost rows: both tables hold exactly the rows inserted and not
#     deleted, with the same vectors;
#   - every row is found by an exact index search for its own vector
#     (hnsw at ef_search 200, ivfflat probing every list);
#   - every filtered search returned its LIMIT;
#   - recall@10 of 300 queries, and of 300 filtered queries, against exact
#     answers is at least that of a fresh index built on the same rows,
#     less 0.05 (the "normal level" of the index);
#   - vecrec.verify_index passes on both indexes, heapallindexed too.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $CLIENTS = 8;
my $TX = $ENV{VECREC_MIX_TX} // 500;
my $INITIAL = 2000;

my $node = PostgreSQL::Test::Cluster->new('mix');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql(
	'postgres', qq{
	CREATE FUNCTION vecv(id bigint, ver int) RETURNS vector IMMUTABLE LANGUAGE sql
		AS \$\$ SELECT vec(id + 1000000 * ver) \$\$;
	CREATE SEQUENCE ids START $INITIAL;
	SELECT nextval('ids');
	CREATE TABLE th (id bigint PRIMARY KEY, cat int, ver int, v vector(32));
	CREATE TABLE ti (id bigint PRIMARY KEY, cat int, ver int, v vector(32));
	INSERT INTO th SELECT i, i % 10, 0, vecv(i, 0) FROM generate_series(1, $INITIAL) i;
	INSERT INTO ti SELECT * FROM th;
	CREATE INDEX th_idx ON th USING hnsw (v vector_l2_ops) WITH (m = 12, ef_construction = 48);
	CREATE INDEX ti_idx ON ti USING ivfflat (v vector_l2_ops) WITH (lists = 20);
	CREATE TABLE deleted (id bigint);
	CREATE TABLE short (tbl text, cat int, n int);
});

my $insert = q{
SELECT nextval('ids') AS id \gset
BEGIN;
INSERT INTO th VALUES (:id, :id % 10, 0, vecv(:id, 0));
INSERT INTO ti VALUES (:id, :id % 10, 0, vecv(:id, 0));
COMMIT;
};
my $update = q{
\set r random(1, 3000)
WITH u AS (UPDATE th SET ver = ver + 1, v = vecv(id, ver + 1) WHERE id = :r RETURNING id, ver, v)
UPDATE ti SET ver = u.ver, v = u.v FROM u WHERE ti.id = u.id;
};
my $delete = q{
\set r random(1, 3000)
WITH d AS (DELETE FROM th WHERE id = :r RETURNING id),
     di AS (DELETE FROM ti WHERE id IN (SELECT id FROM d))
INSERT INTO deleted SELECT id FROM d;
};
my $search = q{
\set c random(0, 9)
\set q random(1, 100000)
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SET ivfflat.iterative_scan = relaxed_order;
SET ivfflat.probes = 2;
SELECT count(*) AS nh FROM (SELECT id FROM th WHERE cat = :c ORDER BY v <-> vec(:q) LIMIT 10) s \gset
SELECT count(*) AS ni FROM (SELECT id FROM ti WHERE cat = :c ORDER BY v <-> vec(:q) LIMIT 10) s \gset
\if :nh < 10
INSERT INTO short VALUES ('th', :c, :nh);
\endif
\if :ni < 10
INSERT INTO short VALUES ('ti', :c, :ni);
\endif
};

# VACUUM in a loop from another session until pgbench is done
$node->safe_psql('postgres', 'CREATE TABLE vacuums (at timestamptz DEFAULT clock_timestamp())');
my $vacuum_sql = join('', map { "VACUUM th; VACUUM ti; INSERT INTO vacuums DEFAULT VALUES; SELECT pg_sleep(0.02);\n" } 1 .. 5000);
my $vacuum_file = PostgreSQL::Test::Utils::tempdir() . '/vacuum.sql';
open(my $fh, '>', $vacuum_file) or die $!;
print $fh $vacuum_sql;
close($fh);
my ($vout, $verr) = ('', '');
my $vacuum = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-f', $vacuum_file ],
	'>', \$vout, '2>', \$verr);

my $total = $CLIENTS * $TX;
$node->pgbench(
	"--no-vacuum --client=$CLIENTS --jobs=2 --transactions=$TX",
	0,
	[ qr{actually processed: $total/$total} ],
	[ qr{^$} ],
	"pgbench: $total transactions of inserts, updates, deletes and filtered searches",
	{
		'051_insert.sql@3' => $insert,
		'051_update.sql@3' => $update,
		'051_delete.sql@1' => $delete,
		'051_search.sql@4' => $search
	});
$vacuum->kill_kill;
is($verr, '', 'the VACUUM loop had no errors');
my $vacuums = $node->safe_psql('postgres', q{SELECT count(*) FROM vacuums});
cmp_ok($vacuums, '>', 0, "VACUUM of both tables ran concurrently ($vacuums times)");

# no lost rows
my $next = $node->safe_psql('postgres', 'SELECT last_value FROM ids');
my $ndel = $node->safe_psql('postgres', 'SELECT count(DISTINCT id) FROM deleted');
my $expected = $next - $ndel;
is($node->safe_psql('postgres', 'SELECT count(*) FROM th'), $expected,
	"th holds the $expected rows inserted and not deleted (ids up to $next, $ndel deleted)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM th FULL JOIN ti USING (id) WHERE th.v IS DISTINCT FROM ti.v'),
	'0', 'ti holds the same rows with the same vectors');
is($node->safe_psql('postgres', 'SELECT count(*) FROM th WHERE v IS DISTINCT FROM vecv(id, ver)'), '0',
	'every vector is the one of its last update');
is($node->safe_psql('postgres', 'SELECT count(*) FROM short'), '0', 'every filtered search returned its LIMIT');
note('updated rows: ' . $node->safe_psql('postgres', 'SELECT count(*) FROM th WHERE ver > 0'));

$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) th; VACUUM (INDEX_CLEANUP ON) ti');
is($node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off; SET enable_bitmapscan = off;
		SET hnsw.ef_search = 200; SET ivfflat.probes = 20;
		SELECT @{[ self_search_misses_sql('th') ]} || '|' || @{[ self_search_misses_sql('ti') ]}}),
	'0|0', 'every row of th and ti is found by an index search for its own vector');

# recall@10 of 300 queries (plain and with a category filter) through an
# index: enough that chance moves it by well under the 0.05 allowed
sub recall
{
	my ($table, $settings) = @_;
	return $node->safe_psql(
		'postgres', qq{
		$settings
		SET hnsw.iterative_scan = relaxed_order; SET ivfflat.iterative_scan = relaxed_order;
		SET enable_seqscan = off;
		CREATE TEMP TABLE queries AS SELECT q, vec(q) AS qv FROM generate_series(500001, 500300) q;
		CREATE TEMP TABLE ann AS
			SELECT q, qv, f, (SELECT array_agg(id) FROM (SELECT id FROM $table
			              WHERE f IS NULL OR cat = f ORDER BY v <-> qv LIMIT 10) s) AS ids
			  FROM queries, (VALUES (NULL::int), (3)) fv(f);
		RESET enable_seqscan;
		SET enable_indexscan = off;
		SELECT string_agg(recall::text, '|' ORDER BY f NULLS FIRST)
		  FROM (SELECT f, round(avg(cardinality(ARRAY(SELECT unnest(ids) INTERSECT SELECT unnest(exact))) / 10.0), 3) AS recall
		          FROM (SELECT ann.*, (SELECT array_agg(id) FROM (SELECT id FROM $table
		                        WHERE f IS NULL OR cat = f ORDER BY v <-> qv LIMIT 10) s) AS exact FROM ann) r
		         GROUP BY f) g;
	});
}

my %settings = (th => 'SET hnsw.ef_search = 10;', ti => 'SET ivfflat.probes = 4;');
for my $t ('th', 'ti')
{
	my ($all, $filtered) = split /\|/, recall($t, $settings{$t});
	# the normal level: the same rows in a new table with a freshly built index
	my $idx = $t eq 'th' ? 'hnsw (v vector_l2_ops) WITH (m = 12, ef_construction = 48)'
	  : 'ivfflat (v vector_l2_ops) WITH (lists = 20)';
	$node->safe_psql('postgres', "CREATE TABLE ${t}_fresh AS SELECT * FROM $t; CREATE INDEX ON ${t}_fresh USING $idx");
	my ($fall, $ffiltered) = split /\|/, recall("${t}_fresh", $settings{$t});
	cmp_ok($all, '>=', $fall - 0.05, "$t: recall\@10 after the mix $all, fresh index $fall");
	cmp_ok($filtered, '>=', $ffiltered - 0.05, "$t: filtered recall\@10 after the mix $filtered, fresh index $ffiltered");
}

for my $idx ('th_idx', 'ti_idx')
{
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
	my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
	is(scalar(@bad), 0, "verify_index('$idx') passes") or diag($out);
	note($out);
}
$node->stop;
done_testing();
