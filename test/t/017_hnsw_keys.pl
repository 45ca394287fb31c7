# hnsw indexes with filter key columns: WAL, replication and crash recovery
# of the partitions (src/hnsw/hnswpart.c).
#
# Part 1, a primary with wal_consistency_checking = 'generic' and a
# streaming standby built from its backup (as 011_hnsw_wal.pl).  A table
# with an index on (v, cat) goes through rounds: a parallel build, inserts
# into existing keys (build range pages, then insert chains) and of 5,000
# new keys (directory entries, overflow directory pages, the directory
# grown to more buckets), deletes + VACUUM,
# REINDEX with too little memory (the graph's on-disk fallback; the
# partitions still come from the sort) and a serial REINDEX, and a second
# index on (v, tag, cat) with text and NULL keys.  After each round, once
# the standby has replayed it all:
#   - every index page is byte for byte the same on both nodes;
#   - vecrec.verify_index with heapallindexed passes on both;
#   - WHERE cat = k ORDER BY v <-> q LIMIT 10 returns exactly the answer
#     of a sequential scan and sort (recall 1.0), on both nodes, for the
#     build's keys and a sample of the new ones, and the plan is an index
#     scan with the key qual.
# Part 2, crash recovery: pgbench (4 clients) inserts rows of random keys,
# most of them new, while the postmaster is killed; after recovery the
# index passes verify_index with heapallindexed, every committed row is the
# nearest to its own vector within its key, and the answers are exact.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;
use Time::HiRes qw(usleep);
use IPC::Run;

my $NQ = 5;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
wal_consistency_checking = 'generic'
max_wal_size = '1GB'
wal_keep_size = '4GB'
max_parallel_maintenance_workers = 2
min_parallel_table_scan_size = 0
});
$primary->start;
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', 'CREATE EXTENSION vecrec; CREATE EXTENSION pageinspect; ' . $VEC_FUNCTION_SQL);
$primary->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v vector(32), cat int, tag text);
	CREATE TABLE q (qid int PRIMARY KEY, v vector(32));
	INSERT INTO q SELECT i, vec(1000000 + i) FROM generate_series(1, 5) i;
	INSERT INTO t SELECT i, vec(i), i % 37, CASE WHEN i % 11 = 0 THEN NULL ELSE 'tag' || (i % 4) END
	FROM generate_series(1, 6000) i;
	ANALYZE t;
});

# md5 of every page of an index, one line per page
sub pages
{
	my ($node, $idx) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT string_agg(i || ' ' || md5(get_raw_page('$idx', i)), E'\\n' ORDER BY i)
		FROM generate_series(0, pg_relation_size('$idx') / current_setting('block_size')::int - 1) i;
	});
}

# "cat qid ids" for the keys in $cats and every query: through the index, or
# by a sequential scan and sort
sub answers
{
	my ($node, $cats, $exact, $extra) = @_;
	$extra //= '';
	my $settings = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;'
	  : 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;';
	my $tie = $exact ? ', t.id' : '';
	return $node->safe_psql(
		'postgres', qq{
		$settings
		SELECT string_agg(k || ' ' || q.qid || ' ' || coalesce((SELECT array_agg(id)::text FROM
				(SELECT t.id FROM t WHERE t.cat = k $extra ORDER BY t.v <-> q.v$tie LIMIT 10) s), '{}'),
			E'\\n' ORDER BY k, q.qid)
		FROM unnest('{$cats}'::int[]) k, q;
	});
}

# verify_index with heapallindexed: every row ok; returns the rows
sub verify
{
	my ($node, $idx, $what) = @_;
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
	my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
	is(scalar(@bad), 0, "$what: verify_index('$idx') passes on every check") or diag($out);
	like($out, qr/^partition heapallindexed\|true\|/m, "$what: verify_index('$idx') checked the partitions against the heap");
	return $out;
}

my $BUILD_CATS = join(',', 0 .. 36);

sub compare
{
	my ($what, $idx, $cats) = @_;
	$primary->wait_for_catchup($standby);

	my $pp = pages($primary, $idx);
	my $sp = pages($standby, $idx);
	my @pl = split /\n/, $pp;
	my @sl = split /\n/, $sp;
	is(scalar(@sl), scalar(@pl), "$what: $idx has the same number of pages on both (" . scalar(@pl) . ")");
	my @diff = grep { ($pl[$_] // '') ne ($sl[$_] // '') } 0 .. $#pl;
	is(scalar(@diff), 0, "$what: every page of $idx is identical on the standby")
	  or diag("pages that differ: " . join(', ', map { (split / /, $pl[$_])[0] } @diff[0 .. ($#diff < 9 ? $#diff : 9)]));

	my $vp = verify($primary, $idx, "$what, primary");
	my $vs = verify($standby, $idx, "$what, standby");
	is($vs, $vp, "$what: verify_index says the same on both");

	like( $standby->safe_psql('postgres',
			'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM t WHERE cat = 3 ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 10'),
		qr/Index Scan using \w+ on t.*\n.*Index Cond: \(cat = 3\)/s,
		"$what: the standby plans an index scan with the key qual");
	my $exact = answers($primary, $cats, 1);
	my $ip = answers($primary, $cats, 0);
	my $is = answers($standby, $cats, 0);
	my $n = scalar(split /\n/, $exact);
	is($ip, $exact, "$what: the index answers $n filtered queries exactly on the primary (recall 1.0)");
	is($is, $exact, "$what: ... and on the standby");
	is( answers($primary, $cats, 0, 'AND t.id % 3 = 0'),
		answers($primary, $cats, 1, 'AND t.id % 3 = 0'),
		"$what: and with a further filter");
	return;
}

# Round 1: a parallel build
my ($stdout, $stderr);
$primary->psql('postgres', q{
	SET client_min_messages = debug1;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops, cat);
	}, stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
like($stderr, qr/parallel workers launched/, 'the build ran in parallel');
compare('after a parallel CREATE INDEX', 't_idx', $BUILD_CATS);
like($primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'partitions'}),
	qr/^37 keys, .* 6000 entries \(0 dead\)/, 'the build wrote 37 partitions of 6,000 entries');

# Round 2: inserts into the build's keys (their last build page, then
# insert chains), and 5,000 new keys (overflow directory pages, then a
# directory grown to more buckets)
$primary->safe_psql('postgres', q{
	INSERT INTO t SELECT i, vec(i), i % 37, 'tag' || (i % 4) FROM generate_series(6001, 9000) i;
	INSERT INTO t SELECT i, vec(i), 1000 + i % 5000, 'tag9' FROM generate_series(9001, 14000) i;
});
my $NEW_CATS = join(',', map { 1000 + $_ * 97 % 5000 } 0 .. 19);
compare('after inserts', 't_idx', "$BUILD_CATS,$NEW_CATS");
like($primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'partitions'}),
	qr/^5037 keys, .* 14000 entries /, 'the inserts added 5,000 keys');
like($primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'partitions'}),
	qr/ in (?:[1-9]\d+) buckets \([1-9]\d* not linked\)/, 'the directory grew past its 8 buckets, the old pages left unlinked');

# Round 3: deletes and VACUUM
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 5 = 0 OR cat = 7; VACUUM t;');
my $deleted = $primary->safe_psql('postgres', 'SELECT 14000 - count(*) FROM t');
compare('after DELETE and VACUUM', 't_idx', "$BUILD_CATS,$NEW_CATS");
like($primary->safe_psql('postgres', q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'partitions'}),
	qr/ 14000 entries \($deleted dead\)/, "VACUUM marked the $deleted entries of deleted rows dead");

# Round 4: more inserts, after VACUUM
$primary->safe_psql('postgres',
	q{INSERT INTO t SELECT i, vec(i), i % 41, 'tag' || (i % 4) FROM generate_series(14001, 15000) i});
compare('after inserts following VACUUM', 't_idx', "$BUILD_CATS,37,38,39,40,$NEW_CATS");

# Round 5: REINDEX with too little memory for the graph: it is written
# early and most rows go through the graph's on-disk insert path
$primary->safe_psql('postgres', q{SET maintenance_work_mem = '1MB'; SET max_parallel_maintenance_workers = 0; REINDEX INDEX t_idx});
compare('after a low-memory REINDEX', 't_idx', "$BUILD_CATS,$NEW_CATS");

# Round 6: a serial build of an index with a text key and NULL keys
$primary->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX t_tag ON t USING hnsw (v vector_cosine_ops, tag, cat);
	INSERT INTO t SELECT i, vec(i), i % 37, CASE WHEN i % 7 = 0 THEN NULL ELSE 'tag' || (i % 5) END
	FROM generate_series(15001, 16000) i;
});
$primary->wait_for_catchup($standby);
for my $idx ('t_idx', 't_tag')
{
	is(pages($standby, $idx), pages($primary, $idx), "text keys: every page of $idx is identical on the standby");
	verify($primary, $idx, 'text keys, primary');
	verify($standby, $idx, 'text keys, standby');
}
my $TAGQ = q{
	SELECT string_agg(x.tag || ' ' || x.cat || ' ' || q.qid || ' ' || coalesce((SELECT array_agg(id)::text FROM
			(SELECT t.id FROM t WHERE t.tag = x.tag AND t.cat = x.cat ORDER BY t.v <=> q.v%s LIMIT 5) s), '{}'),
		E'\n' ORDER BY x.tag, x.cat, q.qid)
	FROM (SELECT DISTINCT tag, cat FROM t WHERE tag IS NOT NULL AND cat < 37) x, q;
};
my $tag_exact = $primary->safe_psql('postgres',
	'SET enable_indexscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;' . sprintf($TAGQ, ', t.id'));
my $tag_index = $standby->safe_psql('postgres',
	'SET enable_seqscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;' . sprintf($TAGQ, ''));
is($tag_index, $tag_exact, 'text keys: the standby answers (tag, cat) queries exactly');

ok(!$standby->log_contains('inconsistent page found'), 'the standby found no inconsistent page during replay');
$standby->stop;
$primary->stop;

# Part 2: crash recovery under concurrent inserts of new keys
my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "wal_level = replica\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql('postgres', q{
	CREATE TABLE c (id bigserial PRIMARY KEY, v vector(32), k int);
	INSERT INTO c (v, k) SELECT vec(i), i % 50 FROM generate_series(1, 3000) i;
	CREATE INDEX c_idx ON c USING hnsw (v vector_l2_ops, k);
});
my $dir = PostgreSQL::Test::Utils::tempdir;
open(my $fh, '>', "$dir/insert.sql") or die $!;
print $fh q{
\set k random(1, 20000)
INSERT INTO c (v, k) SELECT vec(nextval('c_id_seq') + 5000000), :k;
};
close($fh);

# Committed rows that a search for their own vector within their key misses
sub self_misses
{
	return $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;
		SELECT count(*) FROM c a WHERE a.id IS DISTINCT FROM
			(SELECT b.id FROM c b WHERE b.k = a.k ORDER BY b.v <-> a.v LIMIT 1);
	});
}

for my $round (1 .. 2)
{
	my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM c');
	# (output to files: a pipe nobody reads would stall pgbench)
	my $bench = IPC::Run::start(
		[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=60', '-f', "$dir/insert.sql",
		  $node->connstr('postgres') ], '>', "$dir/out$round", '2>', "$dir/err$round");
	$node->poll_query_until('postgres', "SELECT count(*) >= $before + 1500 FROM c")
	  or die "round $round: the inserts did not get going: " . slurp_file("$dir/err$round");
	$node->stop('immediate');
	$bench->finish;
	my $err = slurp_file("$dir/err$round");
	like($err, qr/aborted|terminating connection|server closed the connection/,
		"crash round $round: pgbench (4 clients) was cut short by the crash");
	$node->start;
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM c');
	note("crash round $round: $rows rows after recovery, $before before");
	cmp_ok($rows, '>=', $before + 1500, "crash round $round: the committed rows survived");

	my $out2 = $node->safe_psql('postgres',
		q{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('c_idx', heapallindexed => true)});
	my @bad = grep { (split /\|/)[1] ne 'true' && !/^reachability/ } split /\n/, $out2;
	is(scalar(@bad), 0, "crash round $round: verify_index passes") or diag($out2);
	is(self_misses(), '0', "crash round $round: every committed row is the nearest to its own vector in its key");
	my $cmp = q{
		SELECT string_agg(x.k || ' ' || coalesce((SELECT array_agg(id)::text FROM
				(SELECT c.id FROM c WHERE c.k = x.k ORDER BY c.v <-> vec(x.k + 9000000)%s LIMIT 5) s), '{}'),
			E'\n' ORDER BY x.k)
		FROM (SELECT DISTINCT k FROM c ORDER BY k LIMIT 300) x;
	};
	is( $node->safe_psql('postgres',
			'SET enable_seqscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;' . sprintf($cmp, '')),
		$node->safe_psql('postgres',
			'SET enable_indexscan = off; SET enable_bitmapscan = off; SET vecrec.enable_exact_scan = off;' . sprintf($cmp, ', c.id')),
		"crash round $round: exact answers for 300 keys");
}
$node->safe_psql('postgres', 'VACUUM c');
my $final = $node->safe_psql('postgres',
	q{SELECT "check" || '|' || ok FROM vecrec.verify_index('c_idx', heapallindexed => true) WHERE NOT ok AND "check" <> 'reachability'});
is($final, '', 'after the crashes and VACUUM: verify_index passes');
$node->stop;

done_testing();
