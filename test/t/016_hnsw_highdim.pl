# hnsw indexes on vectors too long to sit inside a graph element: 3072 and
# 16,000 dimensions, whose vectors the index stores out of line, in chunks
# (format version 2, see docs/hnsw.md).
#
# Recall: for each size, a table of deterministic vectors (hdvec() in
# VecrecTest.pm: 32 hidden coordinates spread in blocks over the whole
# vector, so that every chunk counts) and 30 query vectors.  An index built
# serially, then more rows inserted into it, then an index of it all built
# in parallel (a worker must really take part: DEBUG1 says how many were
# launched): each time recall@10 against an exact sequential scan must
# reach $MIN_RECALL at the default hnsw.ef_search (40), the queries must
# use the index, and vecrec.verify_index must pass.
#
# WAL: a primary with wal_consistency_checking = all (the standby compares
# every replayed page with the primary's image) and a streaming standby;
# on a 16,000-dimension table: CREATE INDEX, inserts, DELETE + VACUUM,
# more inserts (which take the items, and chunks, VACUUM freed).  After
# each round the standby's index pages are byte for
# byte the primary's, kNN queries return the same ids on both, and
# verify_index passes on both.  Then the standby is promoted, takes
# inserts, and passes verify_index.
#
# Corruption: a chunk whose length is changed on disk is reported by
# verify_index, and a search that reaches it fails with an error.
#
# Crash: the old primary is stopped in immediate mode in the middle of a
# stream of single-row inserts (each one writes a vector's chunks, then
# its element, as separate WAL records); after crash recovery
# verify_index passes in strict mode (chunks whose element never made it
# are counted, not errors), every committed row is found, and the index
# takes more rows.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;
use Time::HiRes;

my $NQ = 30;    # query vectors
my $K = 10;     # recall@K
# On this data a correct index reaches 1.00 (3072 dimensions, 2,500 rows;
# 16,000 dimensions, 400 rows) at ef_search 40; broken chunk distances
# fall far below
my $MIN_RECALL = 0.9;

# --- recall ------------------------------------------------------------

my $node = start_parallel_build_node('highdim');
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec;' . hdvec_sql(3072, 16000));

# Exact answers for the queries of table $t
sub compute_truth
{
	my ($t) = @_;
	exact_knn_truth($node, $t, '<->', $K);
}

sub approx_sql
{
	my ($t) = @_;
	return knn_query_sql($t, '<->', $K);
}

# recall@K of the index on $t, which must be used; also returns the
# milliseconds per query
sub recall
{
	my ($t, $what) = @_;
	my $approx = approx_sql($t);
	like(
		$node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $approx"),
		qr/Index Scan using ${t}_idx on $t/,
		"$what: the queries use the hnsw index");
	my $r = $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		CREATE TEMP TABLE approx AS $approx;
		SELECT count(*), (SELECT count(*) FROM approx) FROM ${t}_truth JOIN approx USING (qid, id);
	});
	my ($hits, $returned) = split /\|/, $r;
	is($returned, $NQ * $K, "$what: every query returns $K rows");
	my $recall = $hits / ($NQ * $K);
	cmp_ok($recall, '>=', $MIN_RECALL, "$what: recall\@$K at ef_search 40 ($recall)");
	return $recall;
}

# verify_index: every row ok, $n elements, and the index really keeps its
# vectors out of line.  Every element must be reachable from the entry
# point, after a serial build, inserts on top of it, and a parallel build.
sub verify
{
	my ($nd, $idx, $n, $what) = @_;
	my (undef, $rows) = verify_index_rows($nd, $idx, what => $what, checks => 5);
	my %rows = %$rows;
	like($rows{metapage} // '', qr/^version 2, .* vectors in chunks/, "$what: vectors stored out of line");
	like($rows{pages} // '', qr/ $n elements, 0 deleted, 0 free, \d+ vector chunks \(0 not referenced\)/,
		"$what: $n elements, every chunk referenced");
	like($rows{reachability} // '', qr/\(0 unreachable\)/, "$what: every element reachable");
	return;
}

for my $case ([ 3072, 2000, 500 ], [ 16000, 300, 100 ])
{
	my ($dims, $n, $nextra) = @$case;
	my $t = "t$dims";

	$node->safe_psql(
		'postgres', qq{
		CREATE TABLE $t (id int PRIMARY KEY, v vector($dims));
		INSERT INTO $t SELECT i, hdvec($dims, i) FROM generate_series(1, $n) i;
		CREATE TABLE ${t}_q AS SELECT i AS qid, hdvec($dims, 1000000 + i) AS v FROM generate_series(1, $NQ) i;
		ANALYZE $t;
	});
	compute_truth($t);

	# serial build
	my $start = Time::HiRes::time();
	$node->safe_psql('postgres',
		"SET max_parallel_maintenance_workers = 0; CREATE INDEX ${t}_idx ON $t USING hnsw (v vector_l2_ops)");
	note(sprintf("%d dimensions: serial build of %d rows took %.2f s", $dims, $n, Time::HiRes::time() - $start));
	recall($t, "$dims dimensions, serial build");
	verify($node, "${t}_idx", $n, "$dims dimensions, serial build");

	# rows through the insert path
	$start = Time::HiRes::time();
	$node->safe_psql('postgres',
		"INSERT INTO $t SELECT i, hdvec($dims, i) FROM generate_series($n + 1, $n + $nextra) i");
	note(sprintf("%d dimensions: %d inserts took %.2f s", $dims, $nextra, Time::HiRes::time() - $start));
	compute_truth($t);
	recall($t, "$dims dimensions, after $nextra inserts");
	verify($node, "${t}_idx", $n + $nextra, "$dims dimensions, after $nextra inserts");

	# parallel build of it all: the table is small, so ask for workers
	$node->safe_psql('postgres', "DROP INDEX ${t}_idx; ALTER TABLE $t SET (parallel_workers = 2); ANALYZE $t");
	$start = Time::HiRes::time();
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SET max_parallel_maintenance_workers = 2; SET client_min_messages = debug1; CREATE INDEX ${t}_idx ON $t USING hnsw (v vector_l2_ops)");
	note(sprintf("%d dimensions: parallel build of %d rows took %.2f s", $dims, $n + $nextra, Time::HiRes::time() - $start));
	is($ret, 0, "$dims dimensions: parallel build succeeds") or diag($stderr);
	my ($workers) = $stderr =~ /hnsw build of "${t}_idx": (\d+) parallel workers launched/;
	ok(defined $workers && $workers > 0, "$dims dimensions: the build ran in parallel (" . ($workers // 'no') . ' workers)');
	recall($t, "$dims dimensions, parallel build");
	verify($node, "${t}_idx", $n + $nextra, "$dims dimensions, parallel build");

	$node->safe_psql('postgres', "DROP TABLE $t, ${t}_q, ${t}_truth");
}

# --- corruption is caught -----------------------------------------------

# A 3072-dimension index built in one go starts with a full-page chunk on
# block 1, then the vector's second chunk at (2,1) and its element at
# (2,2).  Change that chunk's coordinate count on disk: verify_index must
# report it, and a search must fail cleanly instead of reading past it.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE c (id int, v vector(3072));
	INSERT INTO c SELECT i, hdvec(3072, i) FROM generate_series(1, 20) i;
	CREATE INDEX c_idx ON c USING hnsw (v vector_l2_ops);
});
my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('c_idx')");
$node->stop;
{
	open(my $fh, '+<:raw', $file) or die "cannot open $file: $!";
	my $blk = 2;
	sysseek($fh, $blk * 8192, 0) or die;
	sysread($fh, my $page, 8192) == 8192 or die;
	my $lp = unpack('V', substr($page, 24, 4));    # line pointer of offset 1
	my $off = $lp & 0x7fff;
	my ($type, $count) = unpack('C x v', substr($page, $off, 4));
	is($type, 2, 'the item at (2,1) is a vector chunk');
	sysseek($fh, $blk * 8192 + $off + 2, 0) or die;
	syswrite($fh, pack('v', $count + 1)) == 2 or die;
	close($fh);
}
$node->start;
my $pages_row = $node->safe_psql('postgres',
	q{SELECT ok || ' ' || detail FROM vecrec.verify_index('c_idx') WHERE "check" = 'pages'});
like($pages_row, qr/^false vector chunk \(2,1\) has a bad range or length/, 'verify_index reports the damaged chunk');
my ($cret, $cout, $cerr) = $node->psql('postgres',
	q{SELECT vecrec.verify_index('c_idx', true)});
like($cerr, qr/index "c_idx": vector chunk \(2,1\) has a bad range or length/, 'strict verify_index raises it');
($cret, $cout, $cerr) = $node->psql('postgres',
	q{SET enable_seqscan = off; SET hnsw.ef_search = 100; SELECT id FROM c ORDER BY v <-> hdvec(3072, 5) LIMIT 30});
like($cerr, qr/ERROR:  index "c_idx" has an invalid vector chunk \(2,1\)/, 'a search reaching it fails with an error');
$node->stop;

# --- WAL, standby, promotion -------------------------------------------

my $DIMS = 16000;
my ($primary, $standby) = start_primary_standby('all');

# Created after the backup: the standby gets everything through WAL
$primary->safe_psql(
	'postgres', 'CREATE EXTENSION vecrec; CREATE EXTENSION pageinspect;' . hdvec_sql($DIMS) . qq{
	CREATE TABLE w (id int PRIMARY KEY, v vector($DIMS));
	CREATE TABLE w_q AS SELECT i AS qid, hdvec($DIMS, 1000000 + i) AS v FROM generate_series(1, 10) i;
	INSERT INTO w SELECT i, hdvec($DIMS, i) FROM generate_series(1, 150) i;
});

# The ids the index returns for every query, with an iterative scan
# behind a filter too
my $KNN = qq{
	SET enable_seqscan = off;
	SET hnsw.iterative_scan = strict_order;
	SELECT q.qid || ' ' ||
		(SELECT array_agg(id)::text FROM (SELECT id FROM w ORDER BY w.v <-> q.v LIMIT 5) s) || ' ' ||
		(SELECT coalesce(array_agg(id)::text, '{}') FROM
			(SELECT id FROM w WHERE id % 4 = 1 ORDER BY w.v <-> q.v LIMIT 3) s)
	FROM w_q q ORDER BY q.qid;
};

# verify_index on a node: every check ok; returns the pages detail
sub verify_node
{
	my ($nd, $what) = @_;
	my (undef, $rows) = verify_index_rows($nd, 'w_idx', what => $what, args => 'true');
	my $pages = $rows->{pages} // '';
	return $pages;
}

sub compare
{
	my ($what, $rows) = @_;
	$primary->wait_for_catchup($standby);
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM w'), $rows, "$what: standby has $rows rows");
	compare_knn_results($primary, $standby, $KNN, $what, 10, 5, 3);
	compare_index_pages($primary, $standby, 'w_idx', $what);
	is(verify_node($standby, "$what, standby"), verify_node($primary, "$what, primary"),
		"$what: verify_index says the same on both");
	return;
}

$primary->safe_psql('postgres', 'CREATE INDEX w_idx ON w USING hnsw (v vector_l2_ops)');
compare('after CREATE INDEX', 150);
$primary->safe_psql('postgres', "INSERT INTO w SELECT i, hdvec($DIMS, i) FROM generate_series(151, 200) i");
compare('after inserts', 200);
# (live elements, deleted elements + free items) of a pages detail
sub live_dead
{
	my ($pages) = @_;
	my ($e, $d, $f) = $pages =~ /(\d+) elements, (\d+) deleted, (\d+) free/;
	return defined $f ? ($e - $d, $d + $f) : (-1, -1);
}

$primary->safe_psql('postgres', 'DELETE FROM w WHERE id % 5 = 0; VACUUM w');
compare('after DELETE + VACUUM', 160);
my $vpages = $primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('w_idx') WHERE "check" = 'pages'});
is(join(' ', live_dead($vpages)), '160 40', "VACUUM marked and freed the 40 deleted rows ($vpages)");
$primary->safe_psql('postgres', "INSERT INTO w SELECT i, hdvec($DIMS, i) FROM generate_series(201, 230) i");
compare('after more inserts', 190);
my $ipages = $primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('w_idx') WHERE "check" = 'pages'});
my ($ilive, $idead) = live_dead($ipages);
is($ilive, 190, "more inserts: 190 live elements ($ipages)");
cmp_ok($idead, '<=', 15, "more inserts: most took free items ($ipages)");
ok(!$standby->log_contains('inconsistent page found'), 'the standby found no inconsistent page while replaying');

$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby did not leave recovery';
$standby->safe_psql('postgres', "INSERT INTO w SELECT i, hdvec($DIMS, i) FROM generate_series(231, 250) i");
is( $standby->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SELECT count(*) FROM generate_series(231, 250) i
		WHERE i = (SELECT id FROM w ORDER BY v <-> hdvec($DIMS, i) LIMIT 1)}),
	'20',
	'promoted standby: the rows it took are found');
my $ppages = verify_node($standby, 'promoted standby');
is((live_dead($ppages))[0], 210, "promoted standby: 210 live elements ($ppages)");
$standby->stop;

# --- crash recovery ------------------------------------------------------

# The old primary goes on alone: single-row inserts until it is stopped
# in immediate mode
my $before = $primary->safe_psql('postgres', 'SELECT count(*) FROM w');
my $bg = $primary->background_psql('postgres', on_error_stop => 1);
$bg->query_until(
	qr/start/, qq{
	\\echo start
	DO \$\$ BEGIN
		FOR i IN 1001 .. 2000 LOOP
			INSERT INTO w VALUES (i, hdvec($DIMS, i));
			COMMIT;
		END LOOP;
	END \$\$;
});
$primary->poll_query_until('postgres', "SELECT count(*) >= $before + 20 FROM w")
  or die 'the inserts did not get going';
$primary->stop('immediate');
eval { $bg->quit; };
eval { $bg->{run}->kill_kill; };
$primary->start;

my $rows = $primary->safe_psql('postgres', 'SELECT count(*) FROM w');
cmp_ok($rows, '>=', $before + 20, "crash: the committed rows survived ($rows rows)");
cmp_ok($rows, '<', $before + 1000, 'crash: the insert loop was cut short');
my $pages = verify_node($primary, 'after crash recovery');
my ($elements, $deleted) = $pages =~ /(\d+) elements, (\d+) deleted/;
cmp_ok($elements - $deleted, '>=', $rows, "crash: an element for every committed row ($pages)");
is( $primary->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = 100;
		SELECT count(*) FROM w a WHERE a.id > 1000 AND a.id IS DISTINCT FROM
			(SELECT b.id FROM w b ORDER BY b.v <-> a.v LIMIT 1)}),
	'0',
	'crash: every row inserted before the crash is found by a search for its own vector');
$primary->safe_psql('postgres', "INSERT INTO w SELECT i, hdvec($DIMS, i) FROM generate_series(3001, 3010) i");
verify_node($primary, 'after crash recovery and more inserts');
$primary->stop;

done_testing();
