# Point-in-time recovery into the middle of one multi-page index operation.
#
# After a base backup, three operations each write several GenericXLog
# records over several index pages:
#   A. one hnsw insert (the element's page, then one record per neighbour
#      whose list gets the new element, then the entry point);
#   B. VACUUM of an hnsw index after deleting a fifth of the rows (marking
#      elements deleted, repairing the neighbour lists of many pages);
#   C. one transaction inserting 600 rows into an ivfflat index (list pages
#      filled and chained, new pages added to the lists).
# pg_walinspect finds each operation's records; for each, a new server is
# restored from the backup with recovery_target_lsn at the start of the
# operation's middle record (recovery_target_inclusive = off), so the
# index is left with the first half of the operation only.  Then:
#   - vecrec.verify_index passes (unreachable elements only reported), for
#     with heapallindexed: every visible row is in both indexes;
#   - the visible rows are exactly the committed ones at that point (A and
#     C's transactions did not commit, B's deletes did);
#   - every visible row is found by an exact index search for its own
#     vector (hnsw with a wide search, ivfflat probing every list);
#   - the promoted server takes new rows, finds them, and verifies again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../perl";
use VecrecTest;

my $primary = PostgreSQL::Test::Cluster->new('pitr_primary');
$primary->init(has_archiving => 1, allows_streaming => 1);
$primary->append_conf('postgresql.conf', 'autovacuum = off');    # VACUUMs are explicit
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vecrec; CREATE EXTENSION pg_walinspect; ' . $VEC_FUNCTION_SQL);
$primary->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v vector(32));
	INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 2000) i;
	CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops) WITH (m = 8);
	CREATE TABLE u (id int PRIMARY KEY, v vector(32));
	INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 2000) i;
	CREATE INDEX u_idx ON u USING ivfflat (v vector_l2_ops) WITH (lists = 8);
});
$primary->backup('bk');

# committed after the backup: replayed by every recovery below
$primary->safe_psql('postgres', q{
	INSERT INTO t SELECT i, vec(i) FROM generate_series(2001, 2200) i;
	INSERT INTO u SELECT i, vec(i) FROM generate_series(2001, 2200) i;
});

sub lsn { return $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()'); }

# The GenericXLog records of an index between two LSNs: [[lsn, blocks]...]
sub index_records
{
	my ($index, $from, $to) = @_;
	my $node = $primary->safe_psql('postgres', "SELECT pg_relation_filenode('$index')");
	my $out = $primary->safe_psql('postgres', qq{
		SELECT start_lsn, block_ref FROM pg_get_wal_records_info('$from', '$to')
		 WHERE resource_manager = 'Generic' AND block_ref ~ '/$node( |\$)' ORDER BY start_lsn});
	return [ map { my ($l, $b) = split /\|/, $_, 2; [ $l, [ $b =~ /blk (\d+)/g ] ] } split /\n/, $out ];
}

my %ops;

# A: one hnsw insert, its own transaction
my $a0 = lsn();
$primary->safe_psql('postgres', 'INSERT INTO t VALUES (9001, vec(9001))');
$ops{A} = index_records('t_idx', $a0, lsn());

# B: VACUUM of the hnsw index after committed deletes
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 5 = 0 AND id <= 2000');
my $b0 = lsn();
$primary->safe_psql('postgres', 'VACUUM t');
$ops{B} = index_records('t_idx', $b0, lsn());

# C: 600 rows into the ivfflat index in one transaction
my $c0 = lsn();
$primary->safe_psql('postgres', 'INSERT INTO u SELECT i, vec(i) FROM generate_series(3001, 3600) i');
$ops{C} = index_records('u_idx', $c0, lsn());

# archive everything
my $walfile = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres', "SELECT last_archived_wal >= '$walfile' FROM pg_stat_archiver")
  or die 'WAL not archived';

# the rows each recovery must show: t and u ids
my @t_before_a = (1 .. 2200);
my @t_after_b = ((grep { $_ > 2000 || $_ % 5 != 0 } 1 .. 2200), 9001);
my %expect = (
	A => { t => scalar(@t_before_a), u => 2200, t_max => 2200 },
	B => { t => scalar(@t_after_b), u => 2200, t_max => 9001 },
	C => { t => scalar(@t_after_b), u => 2200, t_max => 9001 });

my $records = 0;
for my $op (sort keys %ops)
{
	my @recs = @{ $ops{$op} };
	my %pages = map { $_ => 1 } map { @{ $_->[1] } } @recs;
	$records += @recs;
	ok(@recs >= 3 && keys(%pages) >= 2,
		"operation $op wrote " . scalar(@recs) . ' GenericXLog records over ' . scalar(keys %pages) . ' index pages');
	my $mid = $recs[ int(@recs / 2) ];
	my %first = map { $_ => 1 } map { @{ $_->[1] } } @recs[ 0 .. int(@recs / 2) - 1 ];
	my %rest = map { $_ => 1 } map { @{ $_->[1] } } @recs[ int(@recs / 2) .. $#recs ];
	note("operation $op: recovering to $mid->[0], before record " . (int(@recs / 2) + 1) . ' of ' . scalar(@recs)
		  . '; pages changed before: ' . join(',', sort { $a <=> $b } keys %first)
		  . '; after: ' . join(',', sort { $a <=> $b } keys %rest));

	# the primary's timeline, and no archiving: a promoted server must not
	# put its own timeline into the archive the next recovery reads
	my $node = PostgreSQL::Test::Cluster->new("pitr_$op");
	$node->init_from_backup($primary, 'bk', has_restoring => 1);
	$node->append_conf('postgresql.conf', qq{
recovery_target_lsn = '$mid->[0]'
recovery_target_inclusive = off
recovery_target_action = 'promote'
recovery_target_timeline = 'current'
archive_mode = off
});
	$node->start;
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()') or die "$op: recovery did not end";
	like(slurp_file($node->logfile), qr/recovery stopping before WAL location \(LSN\) "\Q$mid->[0]\E"/,
		"$op: replay stopped right before the middle record");

	for my $idx ('t_idx', 'u_idx')
	{
		my $out = $node->safe_psql('postgres',
			qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
		my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
		is(scalar(@bad), 0, "$op: verify_index('$idx') passes") or diag($out);
		note("$op: $_") for grep { /reachab|unreach|heapall/ } split /\n/, $out;
	}
	is($node->safe_psql('postgres', 'SELECT count(*) || \'|\' || max(id) FROM t'),
		"$expect{$op}{t}|$expect{$op}{t_max}", "$op: t has exactly the committed rows");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), $expect{$op}{u}, "$op: u has exactly the committed rows");

	my $misses = $node->safe_psql(
		'postgres', q{
		SET enable_seqscan = off;
		SET enable_bitmapscan = off;
		SET hnsw.ef_search = 200;
		SET ivfflat.probes = 8;
		SELECT (SELECT count(*) FROM t a LEFT JOIN LATERAL
		          (SELECT b.id, b.v <-> a.v AS dist FROM t b ORDER BY b.v <-> a.v LIMIT 1) x ON true
		         WHERE x.id IS DISTINCT FROM a.id OR x.dist <> 0)
		    || '|' ||
		       (SELECT count(*) FROM u a LEFT JOIN LATERAL
		          (SELECT b.id, b.v <-> a.v AS dist FROM u b ORDER BY b.v <-> a.v LIMIT 1) x ON true
		         WHERE x.id IS DISTINCT FROM a.id OR x.dist <> 0);
	});
	is($misses, '0|0', "$op: every visible row of t and u is found by an index search for its own vector");

	# the recovered server keeps working
	$node->safe_psql('postgres', q{
		INSERT INTO t SELECT i, vec(i) FROM generate_series(20001, 20100) i;
		INSERT INTO u SELECT i, vec(i) FROM generate_series(20001, 20100) i;
		VACUUM t; VACUUM u;
	});
	is($node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 200; SET ivfflat.probes = 8;
		SELECT count(*) FROM generate_series(20001, 20100) i
		 WHERE i = (SELECT id FROM t ORDER BY v <-> vec(i) LIMIT 1)
		   AND i = (SELECT id FROM u ORDER BY v <-> vec(i) LIMIT 1)}), '100', "$op: new rows are found after promotion");
	is($node->safe_psql('postgres', q{
		SELECT bool_and(ok) FROM (SELECT ok FROM vecrec.verify_index('t_idx')
		                          UNION ALL SELECT ok FROM vecrec.verify_index('u_idx')) v}),
		't', "$op: verify_index passes after new writes");
	$node->stop;
}
note("$records index WAL records in the three operations");

# and the primary itself, at the end
is($primary->safe_psql('postgres', q{
	SELECT bool_and(ok) FROM (SELECT ok FROM vecrec.verify_index('t_idx')
	                          UNION ALL SELECT ok FROM vecrec.verify_index('u_idx')) v}), 't',
	'primary: verify_index passes');
$primary->stop;
done_testing();
