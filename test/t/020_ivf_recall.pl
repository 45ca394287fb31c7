# Recall of ivfflat index scans against the exact answer, for every
# operator class (vector_l2_ops, vector_cosine_ops, vector_ip_ops).
#
# For each opclass: 10,000 deterministic 32-dimensional vectors (the data
# of 010_hnsw_recall.pl: coordinate d uniform in [-0.5, 0.5) scaled by
# exp(-d / 10), lengths varying by a factor of 4 for vector_ip_ops), an
# ivfflat index with lists = 100, and 50 query vectors.  recall@10 (the
# share of the exact 10 nearest ids, from a sequential scan with ties broken
# by id, that the index scan returns) must reach a threshold at probes = 10
# and be exactly 1 when every list is probed (the scan is then exact).  The
# recall queries must use the index (EXPLAIN).  The cosine table has zero
# vectors and NULLs, which the index skips.  Then 2,000 more rows go in
# through the insert path and recall is measured again.
#
# A low-memory build (maintenance_work_mem = 1MB, lists = 500): the k-means
# sample is reduced (with a NOTICE) and the sort by list spills to disk;
# the index must still be exact at probes = lists, and the backend's memory
# must stay bounded meanwhile.
#
# A REINDEX with parallel workers must answer every query exactly like a
# serial one.  Every index must pass vecrec.verify_index, with as many
# entries as indexable rows.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $N = 10000;        # rows per table
my $NEXTRA = 2000;    # rows inserted after the build
my $NQ = 50;          # query vectors
my $K = 10;           # recall@K
my $LISTS = 100;
# IVF with lists = 100 on this data reaches about 0.9 at probes = 10; lower
# would mean badly placed centroids or a scan missing rows
my $MIN_RECALL_P10 = 0.85;
my $MEM_LIMIT_MB = 256;

my $node = PostgreSQL::Test::Cluster->new('ivf_recall');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec');

# Rows first..first+n-1 of table $t: deterministic given the seed
sub fill
{
	my ($t, $first, $n, $seed, $scale) = @_;
	fill_random_vectors($node, $t, $first, $n, $seed, $scale);
}

# The exact answer for every query: the $K nearest ids, ties broken by id
# (rows the index cannot hold left out)
sub compute_truth
{
	my ($t, $op) = @_;
	exact_knn_truth($node, $t, $op, $K, "v IS NOT NULL AND ('$op' <> '<=>' OR vector_norm(v) > 0)");
}

sub approx_sql
{
	my ($t, $op) = @_;
	return knn_query_sql($t, $op, $K);
}

# recall@K of the index at a number of probes
sub recall
{
	my ($t, $op, $probes) = @_;
	my ($hits, $returned) = knn_recall_counts($node, $t, $op, $K, "SET ivfflat.probes = $probes;");
	# one list may hold fewer than K rows (under inner product the nearest
	# centroid can be that of a small list): from 10 lists on, never
	if ($probes >= 10)
	{
		is($returned, $NQ * $K, "$t probes=$probes: every query returns $K rows");
	}
	else
	{
		cmp_ok($returned, '>', 0.9 * $NQ * $K, "$t probes=$probes: queries return rows");
	}
	return $hits / ($NQ * $K);
}

# Every verify_index row ok, and the number of entries
sub verify
{
	my ($idx, $entries) = @_;
	my (undef, $rows) = verify_index_rows($node, $idx, what => $idx);
	my %rows = %$rows;
	for my $check ('metapage', 'lists', 'chains', 'entries')
	{
		ok(exists $rows{$check}, "$idx: verify_index reports $check");
	}
	is($rows{entries} // '', "$entries entries", "$idx: index holds $entries entries");
}

my @opclasses = (
	# table suffix, opclass, operator, length factor of row i
	[ 'l2', 'vector_l2_ops', '<->', '1' ],
	[ 'cos', 'vector_cosine_ops', '<=>', '1' ],
	[ 'ip', 'vector_ip_ops', '<#>', '0.5 + (i % 7) * 0.25' ],);

my $seed = 0.11;
for my $oc (@opclasses)
{
	my ($name, $opclass, $op, $scale) = @$oc;
	my $t = "t_$name";
	my $idx = "${t}_idx";

	my $indexable = create_recall_tables($node, $t, $N, $NQ, $seed, $scale, 32, $name eq 'cos');
	compute_truth($t, $op);

	$node->safe_psql('postgres', "CREATE INDEX $idx ON $t USING ivfflat (v $opclass) WITH (lists = $LISTS)");
	$node->safe_psql('postgres', "ANALYZE $t");

	my $plan = $node->safe_psql('postgres',
		"SET enable_seqscan = off; EXPLAIN (COSTS OFF) " . approx_sql($t, $op));
	like($plan, qr/Index Scan using $idx on $t/, "$t: recall query uses the ivfflat index");

	my $r1 = recall($t, $op, 1);
	my $r10 = recall($t, $op, 10);
	my $rall = recall($t, $op, $LISTS);
	note(sprintf("%s: recall\@%d = %.3f at probes 1, %.3f at probes 10, %.3f at probes %d",
			$t, $K, $r1, $r10, $rall, $LISTS));
	cmp_ok($r10, '>=', $MIN_RECALL_P10, "$t ($opclass): recall\@$K at probes 10");
	cmp_ok($r10, '>', $r1, "$t ($opclass): more probes, better recall");
	is($rall, 1, "$t ($opclass): exact when every list is probed");
	verify($idx, $indexable);

	fill($t, $N + 1, $NEXTRA, $seed + 0.25, $scale);
	compute_truth($t, $op);
	$r10 = recall($t, $op, 10);
	$rall = recall($t, $op, $LISTS);
	note(sprintf("%s + %d inserted: recall\@%d = %.3f at probes 10", $t, $NEXTRA, $K, $r10));
	cmp_ok($r10, '>=', $MIN_RECALL_P10, "$t ($opclass) after inserts: recall\@$K at probes 10");
	is($rall, 1, "$t ($opclass) after inserts: exact when every list is probed");
	verify($idx, $indexable + $NEXTRA);

	$seed += 0.01;
}

# Low-memory build
{
	my $t = 't_lowmem';
	create_recall_tables($node, $t, $N, $NQ, 0.11, '1', 32);
	compute_truth($t, '<->');

	my ($done, $stderr, $peak) = run_watching_memory($node,
		"SET maintenance_work_mem = '1MB'; CREATE INDEX ${t}_idx ON $t USING ivfflat (v vector_l2_ops) WITH (lists = 500);",
		$MEM_LIMIT_MB);
	note("low-memory build: peak private memory of the backend ${peak}MB");
	ok($done, 'low-memory build succeeds') or diag($stderr);
	cmp_ok($peak, '<', $MEM_LIMIT_MB, "low-memory build: backend memory stays under ${MEM_LIMIT_MB}MB");
	like($stderr, qr/NOTICE:  ivfflat k-means sample reduced to \d+ rows to fit into maintenance_work_mem/,
		'low-memory build says the sample was reduced');
  SKIP:
	{
		skip 'no index: the low-memory build did not finish', 3 unless $done;
		my $rall = recall($t, '<->', 500);
		is($rall, 1, "$t: exact when every list is probed");
		verify("${t}_idx", $N);
	}
}

# Parallel assignment: a build with parallel workers must put every row in
# the same list as a serial build (the sample and k-means are the same), so
# every query returns the same rows
{
	my $t = 't_l2';
	my $q = "SET enable_seqscan = off; SET ivfflat.probes = 10; " . approx_sql($t, '<->') . ' ORDER BY 1, 2';
	$node->safe_psql('postgres',
		"SET max_parallel_maintenance_workers = 0; REINDEX INDEX ${t}_idx");
	my $serial = $node->safe_psql('postgres', $q);
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2; "
		  . "SET min_parallel_table_scan_size = 0; REINDEX INDEX ${t}_idx;");
	is($ret, 0, 'parallel REINDEX succeeds') or diag($err);
	like($err, qr/ivfflat build of "${t}_idx": [1-9] parallel workers launched/,
		'the build ran with parallel workers');
	is($node->safe_psql('postgres', $q), $serial,
		'the index built in parallel answers like the one built serially');
	verify("${t}_idx", $N + $NEXTRA);
}

$node->stop;

done_testing();
