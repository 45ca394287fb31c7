# The embedding queue under concurrency: workers claiming jobs with
# vecrec.claim_embedding_jobs never get the same job while it is leased,
# and no job is lost.
#
# 1. 3,000 products are inserted into a catalog tracked without an embedder
#    (one NOTIFY vecrec_embedding for the statement).
# 2. pgbench, 2 clients on 2 threads, two kinds of worker transaction:
#    - claim a batch of 7 jobs, log every job handed out (worker, item,
#      text) and write the rows' embeddings in the same transaction, with
#      a short sleep between, so that the other client claims while this
#      one holds its row locks (SKIP LOCKED);
#    - claim a batch and commit (the lease starts), then write the
#      embeddings in a second transaction, as an external worker does.
#    Afterwards: every item was handed out exactly once, to one worker;
#    the queue is empty and every product has an embedding.
# 3. Lease expiry: a worker claims jobs and never completes them; a
#    second worker gets nothing while they are leased, and all of them
#    (attempts = 2) once the claims are older than its
#    vecrec.embedding_lease of 1 s (the claims are backdated 2 s rather
#    than waited for), then completes them.
# 4. Coalescing under concurrency: titles change while workers run; in
#    the end the queue is empty and each product's embedding was written
#    after its last title change (the workers write the text's length).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $N = 3000;
my $node = PostgreSQL::Test::Cluster->new('embedding_queue');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 20\n");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION vecrec;
	CREATE TABLE "Products" (id bigint PRIMARY KEY, title text, price numeric, embedding vector(2));
	SELECT vecrec.track('"Products"', '{title}');
	CREATE TABLE claims (worker int, item_id bigint, text text, at timestamptz DEFAULT clock_timestamp());
});

# 1. one statement, one NOTIFY
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"LISTEN vecrec_embedding; INSERT INTO \"Products\" SELECT i, 'product ' || i, i FROM generate_series(1, $N) i;"
);
is($ret, 0, 'bulk insert into the tracked catalog');
my @notes = ($stdout =~ /Asynchronous notification "vecrec_embedding" with payload "public\."Products"" received/g);
is(scalar(@notes), 1, 'one NOTIFY vecrec_embedding with the catalog name for the statement');
is($node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.embedding_queue'), $N, "$N jobs queued");

# 2. two concurrent workers
my $same_tx = q{
BEGIN;
INSERT INTO claims (worker, item_id, text) SELECT :client_id, item_id, text FROM vecrec.claim_embedding_jobs(7);
SELECT pg_sleep(0.002);
UPDATE "Products" p SET embedding = '[1,1]' FROM claims c
 WHERE c.worker = :client_id AND c.item_id = p.id AND p.embedding IS NULL;
COMMIT;
};
my $two_tx = q{
INSERT INTO claims (worker, item_id, text) SELECT :client_id, item_id, text FROM vecrec.claim_embedding_jobs(7);
UPDATE "Products" p SET embedding = '[1,1]' FROM claims c
 WHERE c.worker = :client_id AND c.item_id = p.id AND p.embedding IS NULL;
};
$node->pgbench(
	'--no-vacuum --client=2 --jobs=2 --transactions=300',
	0,
	[qr{actually processed: 600/600}],
	[qr{^$}],
	'pgbench: two workers claiming and completing jobs',
	{
		'030_claim_same_tx.sql@1' => $same_tx,
		'030_claim_two_tx.sql@1' => $two_tx
	});

is($node->safe_psql('postgres', 'SELECT count(*) FROM claims'), $N, "$N jobs handed out in all");
is($node->safe_psql('postgres', 'SELECT count(*) FROM (SELECT item_id FROM claims GROUP BY item_id HAVING count(*) > 1) d'),
	'0', 'no job was handed out twice');
is($node->safe_psql('postgres', 'SELECT count(DISTINCT worker) FROM claims'), '2', 'both workers got jobs');
is($node->safe_psql('postgres', q{SELECT count(*) FROM claims c JOIN "Products" p ON p.id = c.item_id
	WHERE c.text <> p.title}), '0', 'each job carried its row\'s text');
is($node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.embedding_queue'), '0', 'the queue is empty');
is($node->safe_psql('postgres', 'SELECT count(*) FROM "Products" WHERE embedding IS NULL'), '0',
	'every product has an embedding: no job was lost');

# 3. lease expiry
$node->safe_psql('postgres', q{UPDATE "Products" SET title = title || ' v2' WHERE id <= 20});
is($node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.claim_embedding_jobs(100)'), '20',
	'worker A claims 20 jobs and stops');
is($node->safe_psql('postgres', "SET vecrec.embedding_lease = '1h'; SELECT count(*) FROM vecrec.claim_embedding_jobs(100)"),
	'0', 'worker B gets none of them while they are leased');
# (the lease ran out: worker A's claims are made 2 s older than a 1 s lease,
# rather than waited for, which a slow machine could stretch either way)
$node->safe_psql('postgres', q{UPDATE vecrec.embedding_queue SET claimed_at = claimed_at - interval '2 s' WHERE claimed_at IS NOT NULL});
is($node->safe_psql('postgres', 'SET vecrec.embedding_lease = 1; SELECT count(*) FROM vecrec.claim_embedding_jobs(100)'),
	'20', 'after the lease worker B gets all 20');
is($node->safe_psql('postgres', q{SELECT min(attempts) || ' ' || max(attempts) FROM vecrec.embedding_queue}),
	'2 2', 'each of them on its second attempt');
$node->safe_psql('postgres', q{UPDATE "Products" SET embedding = '[2,2]' WHERE id <= 20});
is($node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.embedding_queue'), '0', 'worker B completed them');

# 4. title changes while two workers run: the last text of each row is embedded
$node->safe_psql('postgres', q{TRUNCATE claims; UPDATE "Products" SET embedding = NULL});
my $change = q{
\set id random(1, 300)
UPDATE "Products" SET title = 'product ' || :id || ' ' || repeat('x', (random() * 20)::int) WHERE id = :id;
};
# a worker writes [length(text), 0] for the text it was handed, but only if
# the row still has that text (a stale job is then left to the new one)
my $worker = q{
SET client_min_messages = warning;
BEGIN;
CREATE TEMP TABLE IF NOT EXISTS mine (item_id bigint, text text);
TRUNCATE mine;
INSERT INTO mine SELECT item_id, text FROM vecrec.claim_embedding_jobs(5);
COMMIT;
UPDATE "Products" p SET embedding = ARRAY[length(m.text), 0]::real[]::vector
  FROM mine m WHERE m.item_id = p.id AND p.title = m.text;
};
$node->safe_psql('postgres', q{UPDATE "Products" SET title = title || '.' WHERE id <= 300});
$node->pgbench(
	'--no-vacuum --client=3 --jobs=2 --transactions=400',
	0,
	[qr{actually processed: 1200/1200}],
	[qr{^$}],
	'pgbench: title changes and two workers',
	{
		'030_change.sql@1' => $change,
		'030_worker.sql@2' => $worker
	});
# drain what is left with one worker
for (1 .. 100)
{
	last if $node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.embedding_queue') eq '0';
	$node->safe_psql(
		'postgres', q{
		UPDATE "Products" p SET embedding = ARRAY[length(j.text), 0]::real[]::vector
		  FROM vecrec.claim_embedding_jobs(1000) j WHERE j.item_id = p.id AND p.title = j.text});
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM vecrec.embedding_queue'), '0', 'the queue drains');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM "Products" WHERE id <= 300
		AND embedding IS DISTINCT FROM ARRAY[length(title), 0]::real[]::vector}),
	'0',
	'every changed product carries the embedding of its last title');

$node->stop;
done_testing();
