# Every element of an hnsw index built in memory, serially or in parallel,
# must be reachable from the entry point, and a search for a row's own
# vector must find it.
#
# The data shapes are those that left elements out of reach before the
# build made sure of it (numbers from builds of these tables then):
#
#  * groups of exact duplicates (200 copies each of 30 vectors): ties
#    kept every duplicate in the neighbour lists of the others, each group
#    linked only to itself, and 30 to 180 elements were out of reach;
#  * a third of the rows copies of one vector, the rest random: about
#    1,460 of 6,000 out of reach;
#  * points on a coarse 2-dimensional grid (16 distinct points): up to 355
#    of 4,000;
#  * random vectors with m = 4, where pruning leaves pairs of elements
#    linking only to each other: a few per parallel build in 3 dimensions,
#    about 27 of 6,000 per build in 32 dimensions;
#  * inner product on vectors of lengths varying by a factor of 4, whose
#    links to short vectors the heuristic prunes (about 22% out of reach).
#
# For each shape: a serial build and two parallel builds (a leader and two
# workers adding rows to one graph in shared memory; parallel builds also
# used to leave pairs of elements out of reach when a participant's
# search stepped into an element whose lower levels were not linked yet).
# Each must pass vecrec.verify_index with 0 unreachable elements, the
# build must say it left nothing unreached (DEBUG1), and ORDER BY v <->
# own vector LIMIT 1 at hnsw.ef_search 100 must return the row itself or a
# row at distance 0, for every row -- except under inner product (where a
# vector is not its own nearest) and for random 32-dimensional vectors with
# m = 4: so few links are too few for such a search to find about 12% of
# those rows, reachable or not (the recall of that graph, not its
# reachability).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;
use Time::HiRes;

my $node = start_parallel_build_node('reach');
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec');

my @shapes = (
	# name, rows, dimensions, opclass, m, ef_construction, coordinate d of
	# row i, whether every row must find itself
	[ 'dups', 6000, 16, 'vector_l2_ops', 16, 64, '(hashint4(i % 30 * 1000 + d) % 1000) / 1000.0', 1 ],
	[ 'onedup', 6000, 16, 'vector_l2_ops', 16, 64,
		'CASE WHEN i % 3 = 0 THEN (hashint4(d) % 1000) / 1000.0 ELSE random() END', 1 ],
	[ 'grid', 4000, 2, 'vector_l2_ops', 16, 32, 'floor(random() * 4)', 1 ],
	[ 'smallm', 6000, 3, 'vector_l2_ops', 4, 16, 'random()', 1 ],
	[ 'sparse', 6000, 32, 'vector_l2_ops', 4, 16, 'random()', 0 ],
	[ 'ip', 6000, 32, 'vector_ip_ops', 16, 64,
		'(random() - 0.5) * exp(-least(d, 80) / 10.0) * (0.5 + (i % 7) * 0.25)', 0 ],);

# verify_index: every check ok, $n elements, none out of reach
sub verify
{
	my ($idx, $n, $what) = @_;
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx')});
	my %rows;
	for my $line (split /\n/, $out)
	{
		my ($check, $ok, $detail) = split /\|/, $line, 3;
		$rows{$check} = $detail;
		is($ok, 'true', "$what: verify_index $check ok");
	}
	like($rows{pages} // '', qr/ $n elements, 0 deleted/, "$what: $n elements");
	like($rows{reachability} // '', qr/\(0 unreachable\)/,
		"$what: every element reachable ($rows{reachability})");
	return;
}

# Rows whose own vector, searched for, returns neither the row nor a row
# at distance 0
sub self_misses
{
	my ($t) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT count(*) FROM $t q WHERE NOT EXISTS
			(SELECT 1 FROM (SELECT id, v FROM $t ORDER BY v <-> q.v LIMIT 1) x
			 WHERE x.id = q.id OR x.v <-> q.v = 0)});
}

my $seed = 0.3;
for my $shape (@shapes)
{
	my ($t, $n, $dims, $opclass, $m, $efc, $coord, $self) = @$shape;

	$node->safe_psql(
		'postgres', qq{
		SELECT setseed($seed);
		CREATE TABLE $t (id int PRIMARY KEY, v vector($dims));
		INSERT INTO $t SELECT i, array_agg(($coord)::real ORDER BY d)::vector
		FROM generate_series(1, $n) i, generate_series(1, $dims) d GROUP BY i;
		ALTER TABLE $t SET (parallel_workers = 2);
		ANALYZE $t;
	});
	$seed += 0.01;

	for my $workers (0, 2, 2)
	{
		my $what = "$t, " . ($workers ? 'parallel' : 'serial') . ' build';
		my $start = Time::HiRes::time();
		my ($rc, $stdout, $stderr) = $node->psql(
			'postgres', qq{
			SET client_min_messages = debug1;
			SET max_parallel_maintenance_workers = $workers;
			DROP INDEX IF EXISTS ${t}_idx;
			CREATE INDEX ${t}_idx ON $t USING hnsw (v $opclass) WITH (m = $m, ef_construction = $efc);
		});
		note(sprintf("%s of %d rows took %.2f s", $what, $n, Time::HiRes::time() - $start));
		is($rc, 0, "$what succeeds") or diag($stderr);
		if ($workers)
		{
			my ($launched) = $stderr =~ /hnsw build of "${t}_idx": (\d+) parallel workers launched/;
			ok(defined $launched && $launched > 0,
				"$what: ran in parallel (" . ($launched // 'no') . ' workers)');
		}
		my ($added, $left) = $stderr =~ /hnsw build: (\d+) links added .*, (\d+) still unreached/;
		note("$what: " . ($added // '?') . ' links added to reach every element');
		is($left, 0, "$what: the build left no element unreached");
		verify("${t}_idx", $n, $what);
		is(self_misses($t), 0, "$what: a search for each row's own vector finds it") if $self;
	}
}

# The self-searches really use the index
like(
	$node->safe_psql(
		'postgres', q{SET enable_seqscan = off; EXPLAIN (COSTS OFF)
		SELECT id FROM dups ORDER BY v <-> (SELECT v FROM dups WHERE id = 1) LIMIT 1}),
	qr/Index Scan using dups_idx on dups/,
	'the self-searches use the hnsw index');

$node->stop;

done_testing();
