# Smoke test of the TAP harness: a fresh cluster can load vecrec and use it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecrec');

is($node->safe_psql('postgres', q{SELECT '[1,2,3]'::vector::text}),
	'[1,2,3]', 'vector text round trip');
is($node->safe_psql('postgres', q{SELECT '[3,4]'::vector <-> '[0,0]'}),
	'5', 'euclidean distance');

$node->stop;

done_testing();
