# vecrec.event_weights: a user's edits survive pg_dump and a plain restore
# (CREATE EXTENSION inserts the shipped rows, the dump adds the user's rows,
# which replace shipped rows of the same event).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->safe_psql(
	'src', q{
CREATE EXTENSION vecrec;
UPDATE vecrec.event_weights SET weight = 2.5 WHERE event = 'click';
INSERT INTO vecrec.event_weights (event, weight) VALUES ('share', 1.5), ('view', 0.25);
});

my $query =
  q{SELECT string_agg(event || '=' || weight, ',' ORDER BY event) FROM vecrec.event_weights};
my $before = $node->safe_psql('src', $query);
is($before,
	'add_to_cart=4,click=2.5,purchase=8,review=5,share=1.5,view=0.25,wishlist=3',
	'edited weights');

my $dump = "$PostgreSQL::Test::Utils::tmp_check/rec_dump.sql";
$node->command_ok([ 'pg_dump', '--no-sync', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $dump, '-d', $node->connstr('dst') ],
	'restore into an empty database');

is($node->safe_psql('dst', $query), $before, 'weights after restore');
is($node->safe_psql('dst', q{SELECT count(*) FROM vecrec.event_weights WHERE NOT builtin}),
	'3', 'the edited rows are user rows after restore');
is($node->safe_psql('dst', q{SELECT vecrec.event_weight('share')}), '1.5',
	'event_weight reads the restored table');

$node->stop;

done_testing();
