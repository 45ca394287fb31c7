# Crash recovery of hnsw indexes.
#
# Inserts: a background psql session inserts rows one transaction at a
# time while the postmaster is killed (stop 'immediate') mid-flight; after
# restart and crash recovery:
#   - vecrec.verify_index passes (reachability is only reported: an insert
#     cut short can leave an element whose neighbours never got their link
#     back, which is harmless because its row never committed);
#   - the index holds an element for every committed row (and at most a
#     few more, for the inserts in flight);
#   - every committed row is found by an exact search for its own vector;
#   - the loop really was cut short, and the table keeps working.
# Three rounds of this, each on top of the previous one.  Then a crash in
# the middle of one long INSERT: none of its rows commit, its elements on
# disk must not upset verify_index, and VACUUM marks them deleted.  (A
# crash can also leave all-zero pages at the end of the index: the
# relation was extended but the WAL record that initialised the page was
# lost.  That is normal for any PostgreSQL index after a crash, so
# verify_index must not call it corruption.)
#
# Builds: CREATE INDEX with maintenance_work_mem = 1MB (the graph is
# written early and most rows go through the WAL-logged on-disk insert
# path) is killed half way (its memory is watched meanwhile, and must stay
# bounded); after restart the table is usable, has no index left, and a
# new CREATE INDEX works and gives a sound index.  The same for CREATE
# INDEX CONCURRENTLY, which leaves an invalid index behind: it is not used
# by queries, and REINDEX makes it valid and sound.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# WAL as on a real server (the default of test clusters is minimal)
$node->append_conf('postgresql.conf', "wal_level = replica\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; ' . $VEC_FUNCTION_SQL);
$node->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v vector(32));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 1000) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops);
});

# Close a background session whose server went away
sub finish_bg
{
	my ($bg) = @_;
	eval { $bg->quit; };
	eval { $bg->{run}->kill_kill; };
	return;
}

# verify_index on an index: all rows ok (reachability reported); returns
# the number of elements
sub verify
{
	my ($idx, $what) = @_;
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx')});
	my ($n, $elements) = (0, undef);
	for my $line (split /\n/, $out)
	{
		my ($check, $ok, $detail) = split /\|/, $line, 3;
		$n++;
		is($ok, 'true', "$what: verify_index $check ok ($detail)");
		note("$what: $detail") if $check eq 'reachability';
		($elements) = $detail =~ /(\d+) elements/ if $check eq 'pages';
	}
	is($n, 5, "$what: verify_index reports 5 checks");
	return $elements // -1;
}

# Rows of a table (those matching $where) that an exact-match index search
# for their own vector misses
sub self_search_misses
{
	my ($table, $where) = @_;
	$where //= 'true';
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET hnsw.ef_search = 200;
		SELECT count(*) FROM (SELECT * FROM $table WHERE $where) a LEFT JOIN LATERAL
			(SELECT b.id, b.v <-> a.v AS dist FROM $table b ORDER BY b.v <-> a.v LIMIT 1) x ON true
		WHERE x.id IS DISTINCT FROM a.id OR x.dist <> 0;
	});
}

my $next = 1001;
for my $round (1 .. 3)
{
	my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	my $last = $next + 99999;

	# One row per transaction, until the crash
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_until(
		qr/start/, qq{
		\\echo start
		DO \$\$ BEGIN
			FOR i IN $next .. $last LOOP
				INSERT INTO t VALUES (i, vec(i));
				COMMIT;
			END LOOP;
		END \$\$;
	});
	my $target = $before + 300 * $round;
	$node->poll_query_until('postgres', "SELECT count(*) >= $target FROM t")
	  or die "round $round: the inserts did not get going";
	$node->stop('immediate');
	finish_bg($bg);
	$node->start;

	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	my ($min, $max) = split /\|/,
	  $node->safe_psql('postgres', "SELECT min(id), max(id) FROM t WHERE id >= $next");
	note("round $round: $rows rows after recovery ($before before the round)");
	cmp_ok($rows, '>=', $target, "round $round: the committed rows survived the crash");
	cmp_ok($max, '<', $last, "round $round: the crash cut the insert loop short");
	is($rows - $before, $max - $min + 1, "round $round: the committed rows are a contiguous run of ids");

	my $elements = verify('t_idx', "round $round");
	cmp_ok($elements, '>=', $rows, "round $round: an element for every committed row ($elements elements, $rows rows)");
	cmp_ok($elements, '<=', $rows + 5, "round $round: at most a few elements of uncommitted rows");

	my $misses = self_search_misses('t');
	is($misses, '0', "round $round: every committed row is found by a search for its own vector");

	# and the index keeps taking rows after recovery
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT i, vec(i) FROM generate_series($max + 1, $max + 50) i");
	is( $node->safe_psql(
			'postgres', qq{
			SET enable_seqscan = off;
			SELECT count(*) FROM generate_series($max + 1, $max + 50) i
			WHERE i = (SELECT id FROM t ORDER BY v <-> vec(i) LIMIT 1)}),
		'50',
		"round $round: rows inserted after recovery are found");
	$next = $max + 51;
}
verify('t_idx', 'after the insert rounds');

# Crash during one long INSERT transaction: none of its rows commit, but
# many of its index elements (and new index pages) are on disk or in the
# WAL already.  After recovery the index must pass verify_index, VACUUM
# must mark every element of the lost rows deleted, and the live rows must
# all still be found.
{
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
	my $pages = $node->safe_psql('postgres', "SELECT pg_relation_size('t_idx') / 8192");
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_until(
		qr/start/, qq{
		\\echo start
		INSERT INTO t SELECT i, vec(i) FROM generate_series($next, $next + 99999) i;
	});
	my $target = $pages + 20;
	$node->poll_query_until('postgres', "SELECT pg_relation_size('t_idx') / 8192 >= $target")
	  or die 'the long insert did not get going';
	$node->stop('immediate');
	finish_bg($bg);
	$node->start;

	is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'long insert: none of its rows survived the crash');
	my $elements = verify('t_idx', 'after a crash in a long insert');
	note("after a crash in a long insert: $elements elements for $rows rows");
	$node->safe_psql('postgres', 'VACUUM t');
	my $pages_detail = $node->safe_psql('postgres',
		q{SELECT detail FROM vecrec.verify_index('t_idx') WHERE "check" = 'pages'});
	my ($e, $d) = $pages_detail =~ /(\d+) elements, (\d+) deleted/;
	ok(defined $e && $e - $d == $rows, "long insert: VACUUM marks the elements of the lost rows deleted ($pages_detail)");
	is(self_search_misses('t'), '0', 'long insert: every committed row is still found');
	verify('t_idx', 'after a crash in a long insert and VACUUM');
}

# Crash during CREATE INDEX (and CREATE INDEX CONCURRENTLY)
$node->safe_psql('postgres', q{
	CREATE TABLE big (id int PRIMARY KEY, v vector(32));
	INSERT INTO big SELECT i, vec(i) FROM generate_series(1, 20000) i;
	VACUUM ANALYZE big;
});

for my $concurrently (0, 1)
{
	my $cmd = $concurrently ? 'CREATE INDEX CONCURRENTLY' : 'CREATE INDEX';
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(
		qr/start/, qq{
		SET maintenance_work_mem = '1MB';
		\\echo start
		$cmd big_idx ON big USING hnsw (v vector_l2_ops);
	});
	# Wait until the build is well into its on-disk inserts, watching its
	# memory (the crash comes early if it runs away)
	my ($peak, $done) = (0, 0);
	for (my $waited = 0; $waited < $PostgreSQL::Test::Utils::timeout_default * 10; $waited++)
	{
		my $mb = anon_rss_mb($pid);
		$peak = $mb if $mb > $peak;
		$done = $node->safe_psql('postgres',
			q{SELECT coalesce(max(tuples_done), 0) FROM pg_stat_progress_create_index});
		last if $done >= 2000 || $mb > 256;
		usleep(100_000);
	}
	note("$cmd: crash after $done tuples; peak private memory of the backend ${peak}MB");
	cmp_ok($peak, '<', 256, "$cmd with maintenance_work_mem = 1MB: backend memory stays under 256MB");
	cmp_ok($done, '>', 0, "$cmd: the build was under way at the crash");
	$node->stop('immediate');
	finish_bg($bg);
	$node->start;

	is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), '20000', "after a crash in $cmd: table intact");
	my $left = $node->safe_psql('postgres',
		q{SELECT coalesce(string_agg(c.relname || ':' || i.indisvalid, ','), '') FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'big'::regclass AND c.relname <> 'big_pkey'});
	if ($concurrently)
	{
		is($left, 'big_idx:false', "after a crash in $cmd: an invalid index is left behind");
		like( $node->safe_psql(
				'postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY v <-> vec(1) LIMIT 5'),
			qr/Seq Scan on big/,
			"after a crash in $cmd: queries do not use the invalid index");
		# The table takes rows while the invalid index exists
		$node->safe_psql('postgres', 'INSERT INTO big SELECT i, vec(i) FROM generate_series(20001, 20100) i');
		$node->safe_psql('postgres', 'REINDEX INDEX big_idx');
		is( $node->safe_psql('postgres',
				q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_idx'::regclass}),
			't',
			"after a crash in $cmd: REINDEX makes the index valid");
	}
	else
	{
		is($left, '', "after a crash in $cmd: no index left behind");
		$node->safe_psql('postgres', 'INSERT INTO big SELECT i, vec(i) FROM generate_series(20001, 20100) i');
		is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), '20100', "after a crash in $cmd: table takes inserts");
		$node->safe_psql('postgres', 'CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops)');
	}
	like( $node->safe_psql(
			'postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM big ORDER BY v <-> vec(1) LIMIT 5'),
		qr/Index Scan using big_idx on big/,
		"after a crash in $cmd: the new index is used");
	is(self_search_misses('big', 'id % 10 = 0'), '0', "after a crash in $cmd: rows found through the new index (1 in 10 checked)");
	is(verify('big_idx', "after a crash in $cmd"), 20100, "after a crash in $cmd: the new index holds every row");

	$node->safe_psql('postgres', 'DROP INDEX big_idx; DELETE FROM big WHERE id > 20000; VACUUM big');
}

$node->stop;

done_testing();
