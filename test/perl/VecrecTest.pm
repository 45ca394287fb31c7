# VecrecTest.pm - helpers shared by vecrec's TAP tests (test/t/*.pl)
#
#   use FindBin;
#   use lib "$FindBin::Bin/../perl";
#   use VecrecTest;
package VecrecTest;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw($VEC_FUNCTION_SQL hdvec_sql anon_rss_mb run_watching_memory
  fill_random_vectors create_recall_tables exact_knn_truth knn_query_sql knn_recall_counts
  self_search_misses_sql verify_index_rows hnsw_unreachable_live_rows verify_hnsw_index
  start_primary_standby index_pages_sql compare_index_pages compare_knn_results
  start_parallel_build_node);

# SQL creating vec(n): a deterministic pseudo-random 32-dimensional vector
# for each integer.  Coordinate d is fract(sin(...) * 43758.5453) - 0.5 (the
# usual shader hash), scaled by exp(-d / 10) for an effective dimension of
# 10-15.
our $VEC_FUNCTION_SQL = q{
	CREATE FUNCTION vec(n bigint) RETURNS vector IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
		SELECT array_agg(((x - floor(x) - 0.5) * exp(-d / 10.0))::real ORDER BY d)::vector
		FROM (SELECT d, sin(n * 12.9898 + d * 78.233) * 43758.5453 AS x FROM generate_series(1, 32) d) s
	$$;
};

# SQL creating hdvec(n, i): a deterministic n-dimensional vector for each
# integer i, for the given dimension counts (each a multiple of 32).  32
# hidden coordinates, scaled by exp(-k / 10) like those of vec(), each
# repeated over a block of n / 32 consecutive coordinates, blocks in a
# scrambled order (so that every part of the vector matters), plus small
# per-coordinate noise from a pool of 31 noise vectors per dimension count.
# Fast: the rows are put together by C functions (array_fill, array_cat,
# vector +), about a second per 5 million coordinates.
sub hdvec_sql
{
	my @dims = @_;
	my $values = join(', ', map { "($_)" } @dims);
	return qq{
	CREATE FUNCTION hdvec_latent(i bigint) RETURNS real[] IMMUTABLE PARALLEL SAFE LANGUAGE sql AS \$\$
		SELECT array_agg(((x - floor(x) - 0.5) * exp(-k / 10.0))::real ORDER BY k)
		FROM (SELECT k, sin(i * 12.9898 + k * 78.233) * 43758.5453 AS x FROM generate_series(0, 31) k) s
	\$\$;
	CREATE AGGREGATE hdvec_cat(real[]) (SFUNC = array_cat, STYPE = real[], INITCOND = '{}');
	CREATE TABLE hdvec_noise AS
		SELECT n AS dims, j, array_agg((0.02 * (y - floor(y) - 0.5))::real ORDER BY d)::vector AS noise
		FROM (VALUES $values) v(n), generate_series(0, 30) j,
			LATERAL (SELECT d, sin(j * 3.17 + d * 0.731) * 43758.5453 AS y FROM generate_series(1, n) d) dd
		GROUP BY n, j;
	CREATE FUNCTION hdvec(n int, i bigint) RETURNS vector STABLE PARALLEL SAFE LANGUAGE sql AS \$\$
		SELECT (SELECT hdvec_cat(array_fill(z[1 + (b * 7) % 32], ARRAY[n / 32]) ORDER BY b)
				FROM generate_series(0, 31) b)::vector + p.noise
		FROM hdvec_latent(i) z, hdvec_noise p WHERE p.dims = n AND p.j = i % 31
	\$\$;
	};
}

# Private resident memory of a process in MB (RssAnon), 0 if unknown
sub anon_rss_mb
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (<$fh>)
	{
		return int($1 / 1024) if /^RssAnon:\s+(\d+) kB/;
	}
	return 0;
}

# Run SQL in a psql of its own on $node while watching its backend's private
# memory; past $limit_mb the statement is cancelled (a runaway build then
# fails the test instead of exhausting the machine).  Returns (finished
# without error, psql's stderr, peak MB).
sub run_watching_memory
{
	my ($node, $sql, $limit_mb) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$in .= "SELECT pg_backend_pid();\n";
	$h->pump until $out =~ /^(\d+)\n/;
	my $pid = $1;
	$in .= "$sql\n\\echo __done__\n\\q\n";
	my ($peak, $cancelled) = (0, 0);
	while ($h->pumpable)
	{
		$h->pump_nb;
		my $mb = anon_rss_mb($pid);
		$peak = $mb if $mb > $peak;
		if ($mb > $limit_mb && !$cancelled)
		{
			$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
			$cancelled = 1;
		}
		usleep(50_000);
	}
	$h->finish;
	return ($out =~ /__done__/ ? 1 : 0, $err, $peak);
}

# ----------------------------------------------------------------------
# Data and exact answers for recall tests

# Insert rows first..first+n-1 into table $t (id, v) on $node: vector i has
# $dims coordinates (default 32), coordinate d uniform in [-0.5, 0.5)
# scaled by exp(-min(d, 80) / 10) and by $scale, an SQL expression of the
# row number i (default 1).  Deterministic given the seed.
sub fill_random_vectors
{
	my ($node, $t, $first, $n, $seed, $scale, $dims) = @_;
	$scale //= '1';
	$dims //= 32;
	$node->safe_psql(
		'postgres', qq{
		SELECT setseed($seed);
		INSERT INTO $t
		SELECT i, array_agg(((random() - 0.5) * exp(-least(d, 80) / 10.0) * ($scale))::real ORDER BY d)::vector
		FROM generate_series($first, $first + $n - 1) i, generate_series(1, $dims) d
		GROUP BY i;
	});
	return;
}

# Create table $t (id int PRIMARY KEY, v vector($dims)) with rows 1..$n
# and table ${t}_q (qid int, v vector($dims)) with $nq query vectors, on
# $node: fill_random_vectors with seeds $seed and $seed + 0.5, the same
# $scale and $dims (default 32).  With $zeros, 10 rows become zero vectors
# and 10 NULL (ids 1000, 2000, ... and 500, 1500, ...: rows an index of
# cosine distance leaves out).  Returns the number of rows left with a
# vector of some length.
sub create_recall_tables
{
	my ($node, $t, $n, $nq, $seed, $scale, $dims, $zeros) = @_;
	$dims //= 32;
	$node->safe_psql('postgres',
		"CREATE TABLE $t (id int PRIMARY KEY, v vector($dims)); CREATE TABLE ${t}_q (qid int, v vector($dims))");
	fill_random_vectors($node, $t, 1, $n, $seed, $scale, $dims);
	fill_random_vectors($node, "${t}_q", 1, $nq, $seed + 0.5, $scale, $dims);
	return $n unless $zeros;
	$node->safe_psql(
		'postgres', qq{
		UPDATE $t SET v = array_fill(0, ARRAY[$dims])::real[]::vector WHERE id % 1000 = 0;
		UPDATE $t SET v = NULL WHERE id % 1000 = 500;
	});
	return $n - 2 * int($n / 1000);
}

# (Re)create table ${t}_truth (qid, id) on $node: for every query vector of
# table ${t}_q (qid, v), the exact $k nearest ids of $t under operator $op,
# ties broken by id, from a sequential scan.  $where, if given, is an SQL
# condition on the rows of $t that may be returned.
sub exact_knn_truth
{
	my ($node, $t, $op, $k, $where) = @_;
	my $cond = defined $where ? "WHERE $where " : '';
	$node->safe_psql(
		'postgres', qq{
		DROP TABLE IF EXISTS ${t}_truth;
		SET enable_indexscan = off;
		SET enable_bitmapscan = off;
		CREATE TABLE ${t}_truth AS
		SELECT q.qid, x.id
		FROM ${t}_q q CROSS JOIN LATERAL
			(SELECT id FROM $t ${cond}ORDER BY $t.v $op q.v, $t.id LIMIT $k) x;
	});
	return;
}

# The approximate query matching exact_knn_truth: (qid, id) of the $k
# nearest rows of $t under $op for every query vector of ${t}_q, one
# ORDER BY ... LIMIT scan per query (an index scan where one applies)
sub knn_query_sql
{
	my ($t, $op, $k) = @_;
	return qq{SELECT q.qid, x.id
		FROM ${t}_q q CROSS JOIN LATERAL
			(SELECT id FROM $t ORDER BY $t.v $op q.v LIMIT $k) x};
}

# Run knn_query_sql($t, $op, $k) on $node with sequential scans off and
# the SQL $settings (e.g. 'SET hnsw.ef_search = 40;') first.  Returns
# (rows that are in ${t}_truth, rows returned); the caller turns them into
# recall and tests them.
sub knn_recall_counts
{
	my ($node, $t, $op, $k, $settings) = @_;
	my $approx = knn_query_sql($t, $op, $k);
	my $r = $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		$settings
		SELECT count(*), (SELECT count(*) FROM ($approx) a)
		FROM ${t}_truth JOIN ($approx) a USING (qid, id);
	});
	return split /\|/, $r;
}

# An SQL expression (a scalar subquery): how many rows of table $t (id, v)
# a search for their own vector (ORDER BY v <-> LIMIT 1, through an index
# where the settings allow one) does not return first at distance 0
sub self_search_misses_sql
{
	my ($t) = @_;
	return qq{(SELECT count(*) FROM $t a LEFT JOIN LATERAL
		(SELECT b.id, b.v <-> a.v AS dist FROM $t b ORDER BY b.v <-> a.v LIMIT 1) x ON true
		WHERE x.id IS DISTINCT FROM a.id OR x.dist <> 0)};
}

# ----------------------------------------------------------------------
# vecrec.verify_index

# Run vecrec.verify_index($idx) on $node and test that every row is ok:
# one test per row, named "<what>: verify_index <check> ok (<detail>)".
# Options: what => prefix of the test names (none if undef); checks => if
# given, also test that there are that many rows ("<what>: verify_index
# reports <checks> checks"); args => more SQL arguments of verify_index
# (e.g. 'true' for strict mode).  Returns (the rows as text, one
# "check|ok|detail" line each, and a hash ref check => detail).
sub verify_index_rows
{
	my ($node, $idx, %opt) = @_;
	my $prefix = defined $opt{what} ? "$opt{what}: " : '';
	my $args = defined $opt{args} ? "'$idx', $opt{args}" : "'$idx'";
	my $out = $node->safe_psql('postgres',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index($args)});
	my %detail;
	my $n = 0;
	for my $line (split /\n/, $out)
	{
		my ($check, $ok, $detail) = split /\|/, $line, 3;
		$n++;
		$detail{$check} = $detail;
		is($ok, 'true', "${prefix}verify_index $check ok ($detail)");
	}
	is($n, $opt{checks}, "${prefix}verify_index reports $opt{checks} checks") if defined $opt{checks};
	return ($out, \%detail);
}

# Live rows of table $t on $node that a full iterative scan of its hnsw
# index does not return (such a scan walks everything reachable from the
# entry point on level 0).  The query vector is that of qid 1 in $qtable
# (default q).
sub hnsw_unreachable_live_rows
{
	my ($node, $t, $qtable) = @_;
	$qtable //= 'q';
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET hnsw.iterative_scan = relaxed_order;
		SET hnsw.max_scan_tuples = 1000000;
		SET hnsw.scan_mem_multiplier = 100;
		SET work_mem = '64MB';
		SET hnsw.ef_search = 1000;
		SELECT (SELECT count(*) FROM $t) - count(DISTINCT id) FROM
			(SELECT id FROM $t ORDER BY v <-> (SELECT v FROM $qtable WHERE qid = 1) LIMIT 1000000) x;
	});
}

# verify_index_rows of hnsw index $idx on table $t, with its 5 checks, for
# tests where no insert ever ran concurrently: every live row must be
# returned by a full iterative scan, and every element must be reachable
# from the entry point -- unless the pages row counts deleted elements or
# free items: VACUUM's repairs and later inserts drop links to deleted
# elements by design, so one may end up unreachable (harmless: it is never
# returned), and then the reachability row is only reported.  Returns what
# verify_index_rows returns.
sub verify_hnsw_index
{
	my ($node, $idx, $t, $what) = @_;
	my ($out, $rows) = verify_index_rows($node, $idx, what => $what, checks => 5);
	my ($d, $f) = ($rows->{pages} // '') =~ /(\d+) deleted, (\d+) free/;
	my $deleted = ($d // 0) + ($f // 0);
	if (defined $rows->{reachability})
	{
		is(hnsw_unreachable_live_rows($node, $t), '0', "$what: a full scan returns every live row");
		if ($deleted)
		{
			note("$what: $rows->{reachability} ($deleted deleted elements or free items)");
		}
		else
		{
			like($rows->{reachability}, qr/\(0 unreachable\)/, "$what: every element reachable from the entry point");
		}
	}
	return ($out, $rows);
}

# ----------------------------------------------------------------------
# Primary and streaming standby

# A primary ('primary') running with wal_consistency_checking =
# $wal_consistency_checking (an SQL literal, e.g. "'generic'" or 'all': the
# standby then compares every replayed page with the primary's full-page
# image and stops with FATAL on a mismatch), and a hot standby ('standby')
# streaming from it, made from a backup taken before anything was created.
# Autovacuum is off on the primary: a worker vacuuming between a change and
# the comparison of both sides would make them differ.  Both started;
# returns ($primary, $standby).
sub start_primary_standby
{
	my ($wal_consistency_checking) = @_;
	my $primary = PostgreSQL::Test::Cluster->new('primary');
	$primary->init(allows_streaming => 1);
	$primary->append_conf('postgresql.conf', qq{
wal_consistency_checking = $wal_consistency_checking
max_wal_size = '1GB'
autovacuum = off
});
	$primary->start;
	$primary->backup('backup');
	my $standby = PostgreSQL::Test::Cluster->new('standby');
	$standby->init_from_backup($primary, 'backup', has_streaming => 1);
	$standby->start;
	return ($primary, $standby);
}

# SQL giving the md5 of every page of index $idx, one "blkno md5" line per
# page (needs pageinspect)
sub index_pages_sql
{
	my ($idx) = @_;
	return qq{
	SELECT string_agg(i || ' ' || md5(get_raw_page('$idx', i)), E'\\n' ORDER BY i)
	FROM generate_series(0, pg_relation_size('$idx') / current_setting('block_size')::int - 1) i;
};
}

# Test that index $idx has the same number of pages on $primary and
# $standby, and that every page is byte for byte the same (the differing
# block numbers, up to 10, go to diag)
sub compare_index_pages
{
	my ($primary, $standby, $idx, $what) = @_;
	my @pl = split /\n/, $primary->safe_psql('postgres', index_pages_sql($idx));
	my @sl = split /\n/, $standby->safe_psql('postgres', index_pages_sql($idx));
	is(scalar(@sl), scalar(@pl), "$what: index has the same number of pages on both (" . scalar(@pl) . ")");
	my @diff = grep { ($pl[$_] // '') ne ($sl[$_] // '') } 0 .. $#pl;
	is(scalar(@diff), 0, "$what: every index page is identical on the standby")
	  or diag("pages that differ: " . join(', ', map { (split / /, $pl[$_])[0] } @diff[0 .. ($#diff < 9 ? $#diff : 9)]));
	return;
}

# Run $sql on $primary and $standby: a query giving, per query vector, a
# line "qid {ids}" of a kNN query with LIMIT $k, then " {ids}" of one
# behind a filter with LIMIT $kf.  Tests that the primary gives $nq lines,
# each with $k and $kf ids, and that the standby gives the same.  Returns
# the primary's output.
sub compare_knn_results
{
	my ($primary, $standby, $sql, $what, $nq, $k, $kf) = @_;
	my $p = $primary->safe_psql('postgres', $sql);
	my $s = $standby->safe_psql('postgres', $sql);
	my @lines = split /\n/, $p;
	my ($k1, $kf1) = ($k - 1, $kf - 1);
	is(scalar(@lines), $nq, "$what: $nq query results on the primary");
	ok(!grep({ !/^\d+ \{\d+(,\d+){$k1}\} \{\d+(,\d+){$kf1}\}$/ } @lines),
		"$what: every query returns $k rows, and $kf with the filter");
	is($s, $p, "$what: standby returns the same ids as the primary");
	return $p;
}

# ----------------------------------------------------------------------
# Nodes

# A started node named $name with room for parallel index builds (8 worker
# processes, 4 parallel workers, maintenance_work_mem = 256MB)
sub start_parallel_build_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
max_worker_processes = 8
max_parallel_workers = 4
maintenance_work_mem = '256MB'
});
	$node->start;
	return $node;
}

1;
