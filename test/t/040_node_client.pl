# A real client: test/node/client.js drives vecrec from Node.js with the npm
# packages pg, pgvector (pgvector's own client library) and pg-copy-streams,
# as an application written for pgvector would, and checks every answer
# against its own brute-force computation.  The packages come from
# test/node/setup.sh (make node-deps, run by make test and make tap).
#
# VECREC_SKIP_NODE=1 skips this test; without it, a missing node or missing
# packages fail it with a message saying what to do.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

if ($ENV{VECREC_SKIP_NODE})
{
	plan skip_all => 'VECREC_SKIP_NODE is set';
}

my $script = 'test/node/client.js';
my $modules = 'test/node/node_modules';

my ($nodeout, $nodeerr) = ('', '');
my $have_node = eval {
	IPC::Run::run([ 'node', '--version' ], '>', \$nodeout, '2>', \$nodeerr);
};
# Missing prerequisites fail this test (and only this one) with what to do.
sub give_up
{
	diag($_[0]);
	done_testing();
	exit 1;
}
ok($have_node, 'node runs')
  or give_up('node not found on PATH: install nodejs (scripts/deps.sh does) or set VECREC_SKIP_NODE=1');
chomp $nodeout;
my ($major) = $nodeout =~ /^v(\d+)\./;
cmp_ok($major // 0, '>=', 18, "Node.js $nodeout is 18 or later")
  or give_up('Node.js 18 or later is needed');
ok( -f "$modules/pg/package.json"
	  && -f "$modules/pgvector/package.json"
	  && -f "$modules/pg-copy-streams/package.json",
	'npm packages installed in test/node')
  or give_up('npm packages missing in test/node: run "make node-deps" (or set VECREC_SKIP_NODE=1)');

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');

# The connection comes from the standard libpq variables, which pg reads too.
my ($out, $err) = ('', '');
my $ran = IPC::Run::run(
	[ 'node', $script ],
	'<', \'', '>', \$out, '2>', \$err,
	init => sub {
		$ENV{PGHOST} = $node->host;
		$ENV{PGPORT} = $node->port;
		$ENV{PGUSER} = $ENV{USER} // scalar getpwuid($<);
		$ENV{PGDATABASE} = 'app';
	});
my $rc = $? >> 8;
note($out);
diag($err) if $err ne '';

is($rc, 0, 'node client.js exits with status 0');
ok($ran, 'node client.js succeeded');
is($err, '', 'nothing on stderr (no failure, no warning)');
like($out, qr/^node client test: all \d+ checks passed$/m, 'summary line');
unlike($out, qr/^not ok/m, 'no failed check');
my $checks = () = $out =~ /^ok \d+ - /mg;
cmp_ok($checks, '>=', 60, "$checks checks ran");

# The application's objects are where a pgvector application puts them.
is( $node->safe_psql(
		'app',
		q{SELECT string_agg(indexrelid::regclass::text || ':' || am.amname, ',' ORDER BY c.relname)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
		  WHERE indrelid = 'items'::regclass AND am.amname IN ('hnsw', 'ivfflat')}),
	'items_hnsw_ip:hnsw,items_hnsw_l1:hnsw,items_hnsw_l2:hnsw,items_ivf_cos:ivfflat',
	'the indexes the client created');
is($node->safe_psql('app', q{SELECT count(*) FROM items}), '999', 'rows left by the client');
for my $idx (qw(items_hnsw_l2 items_hnsw_ip items_hnsw_l1 items_ivf_cos))
{
	is( $node->safe_psql('app',
			qq{SELECT count(*) FROM vecrec.verify_index('$idx') WHERE NOT ok}),
		'0', "verify_index $idx");
}

$node->stop;

done_testing();
