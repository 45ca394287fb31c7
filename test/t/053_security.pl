# Security: injection through names, filters and matches; roles; search_path.
#
# Roles: app (owns the shop, not a superuser), merch (member of
# vecrec_merchandiser), mallory (a plain login).  In schema shop, app owns
# two catalogs whose table and column names are SQL injection attempts
# aimed at shop.sentinel (a table app could drop), one with an embedder
# (BEFORE ROW trigger) and one with the embedding queue.  Checked:
#   - as app, with nothing but ordinary privileges: track, inserts and
#     updates through the freshness triggers, the queue (claim, write,
#     completion), reembed, an hnsw index, recommend() with a filter over
#     the odd columns, log_event, ctr, untrack; only load_word_vectors
#     needs more (it reads a server file: 42501, documented);
#   - merch can add, change and delete rules, whose matches name the odd
#     columns, and cannot read the catalog, write vecrec.catalogs, change
#     the extension's tables or create objects in schema vecrec;
#   - mallory can neither track nor untrack app's table, nor change its
#     registration (row level security), nor add rules;
#   - a trojan schema earlier in search_path (operators = for text, bigint
#     and integer, lower(), jsonb_typeof(), now(), array_to_string(),
#     cardinality(), quote_ident()) is never called by vecrec's functions,
#     triggers or recommend() while app works with that search_path;
#   - every PL/pgSQL function of the extension pins search_path, and so
#     does every SECURITY DEFINER function (but reembed_in_batches: a
#     procedure that commits cannot; it qualifies every name and operator,
#     and runs under the trojan search_path above);
#   - shop.sentinel is unchanged at the end; verify_index passes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('security');
$node->init;
$node->start;

my $T = q{shop."x; DROP TABLE shop.sentinel; --"};
my $Q = q{shop."q'); DELETE FROM shop.sentinel; --"};
my $ID = q{"i""d"};
my $EMB = q{"emb"")::vector; DROP TABLE shop.sentinel; --"};
my $TITLE = q{"ti'tle $$ */"};
my $BODY = q{"body; TRUNCATE shop.sentinel"};
(my $emb_name = $EMB) =~ s/^"|"$//g;
$emb_name =~ s/""/"/g;
(my $title_name = $TITLE) =~ s/^"|"$//g;
(my $body_name = $BODY) =~ s/^"|"$//g;
(my $id_name = $ID) =~ s/^"|"$//g;
$id_name =~ s/""/"/g;

sub lit { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

$node->safe_psql('postgres', q{
	CREATE EXTENSION vecrec;
	CREATE ROLE app LOGIN;
	CREATE ROLE merch LOGIN IN ROLE vecrec_merchandiser;
	CREATE ROLE mallory LOGIN;
	GRANT CREATE ON DATABASE postgres TO app, mallory;
});

# psql as a role; returns (stdout, stderr)
sub as
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	$out = join("\n", grep { $_ ne '' } split /\n/, $out);    # void results print empty lines
	return ($out, $err);
}

sub ok_as
{
	my ($role, $sql, $what) = @_;
	my ($out, $err) = as($role, $sql);
	is($err, '', "$role: $what") or diag($sql);
	return $out;
}

sub denied_as
{
	my ($role, $sql, $what) = @_;
	my ($out, $err) = as($role, "\\set VERBOSITY verbose\n$sql");
	like($err, qr/ERROR:  42501/, "$role: $what is refused (42501)") or diag($err);
}

# the trojan schema: anything it is called for is logged in evil.calls
$node->safe_psql('postgres', q{
	SET ROLE mallory;
	CREATE SCHEMA evil;
	GRANT USAGE ON SCHEMA evil TO PUBLIC;
	CREATE TABLE evil.calls (what text);
	GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
	CREATE FUNCTION evil.teq(text, text) RETURNS boolean LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('text ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.teq);
	CREATE FUNCTION evil.beq(bigint, bigint) RETURNS boolean LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('bigint ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.beq);
	CREATE FUNCTION evil.ieq(integer, integer) RETURNS boolean LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('integer ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.ieq);
	CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('lower'); SELECT pg_catalog.lower($1) $$;
	CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('jsonb_typeof'); SELECT pg_catalog.jsonb_typeof($1) $$;
	CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('now'); SELECT pg_catalog.now() $$;
	CREATE FUNCTION evil.array_to_string(anyarray, text) RETURNS text LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('array_to_string'); SELECT pg_catalog.array_to_string($1, $2) $$;
	CREATE FUNCTION evil.cardinality(anyarray) RETURNS integer LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('cardinality'); SELECT pg_catalog.cardinality($1) $$;
	CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE sql AS
		$$ INSERT INTO evil.calls VALUES ('quote_ident'); SELECT pg_catalog.quote_ident($1) $$;
});
my $trojan_path = 'SET search_path = evil, pg_catalog, shop, public;';

# app's shop
ok_as('app', qq{
	CREATE SCHEMA shop;
	GRANT USAGE ON SCHEMA shop TO merch;
	CREATE TABLE shop.sentinel (x int);
	INSERT INTO shop.sentinel VALUES (42);
	CREATE FUNCTION shop.embedder(t text) RETURNS vector IMMUTABLE LANGUAGE sql SET search_path = public
		AS \$\$ SELECT ARRAY[length(t), ascii(t), 1]::vector \$\$;
	CREATE TABLE $T ($ID bigint PRIMARY KEY, $TITLE text, $BODY text, $EMB vector(3), price int);
	CREATE TABLE $Q ($ID bigint PRIMARY KEY, $TITLE text, $EMB vector(3));
	CREATE TABLE shop.apptab (id bigint PRIMARY KEY, embedding vector(3));
	GRANT USAGE ON SCHEMA shop TO mallory;
}, 'creates the shop');

my ($out, $err) = as('app', qq{$trojan_path
	SELECT vecrec.track(${\ lit($T)}, source_columns => ARRAY[${\ lit($title_name)}, ${\ lit($body_name)}]::name[],
		embedding_column => ${\ lit($emb_name)}, id_column => ${\ lit($id_name)}, embedder => 'shop.embedder');
	SELECT vecrec.track(${\ lit($Q)}, source_columns => ARRAY[${\ lit($title_name)}]::name[],
		embedding_column => ${\ lit($emb_name)}, id_column => ${\ lit($id_name)});
	INSERT INTO $T ($ID, $TITLE, $BODY, price)
		SELECT i, 'title ' || i || ' it''s', repeat('b', i % 7), i FROM generate_series(1, 200) i;
	UPDATE $T SET $TITLE = 'new ' || $ID WHERE $ID <= 20;
	INSERT INTO $Q ($ID, $TITLE) SELECT i, 'q' || i FROM generate_series(1, 30) i;
	SELECT count(*) FROM $T WHERE $EMB IS NULL;
});
is($err, '', 'app: track (both kinds) and writes through the triggers with odd names');
is($out, '0', 'app: the embedder trigger filled every embedding');

($out, $err) = as('app', qq{$trojan_path
	SELECT count(*) FROM vecrec.claim_embedding_jobs(100) j WHERE j.catalog = ${\ lit($Q)}::regclass;
	UPDATE $Q SET $EMB = ARRAY[${ID}::int, 1, 1]::vector;
	SELECT count(*) FROM vecrec.embedding_queue;
	SELECT vecrec.reembed(${\ lit($T)});
	CALL vecrec.reembed_in_batches(${\ lit($T)}, 64);
	CREATE INDEX ON $T USING hnsw ($EMB vector_l2_ops);
	SET vecrec.log_impressions = on;
	SELECT count(*) FROM vecrec.recommend(${\ lit($T)}, '[8, 116, 1]', k => 5, exclude => ARRAY[1, 2]::bigint[],
		filter => ${\ lit("$TITLE LIKE 'title%' AND price > 50 AND $BODY <> 'x''); DROP TABLE shop.sentinel; --'")});
	SELECT vecrec.log_event('u1', 's1', 60, 'click', request_id => vecrec.last_request_id());
	SELECT vecrec.ctr(NULL, '1 day') IS NOT NULL;
});
unlike($err, qr/ERROR/, "app: queue, reembed, reembed_in_batches, index, recommend with a filter over odd columns, log_event");
is($out, "30\n0\n200\n5\n1\nt", 'app: 30 jobs claimed and completed, 200 rows reembedded, 5 recommendations, one event');

($out, $err) = as('app', q{SELECT vecrec.load_word_vectors('/etc/hostname')});
like($err, qr/permission denied to read file/, 'app: load_word_vectors needs server file access (documented)');

# merch: rules yes, data and catalogs no
ok_as('merch', qq{$trojan_path
	INSERT INTO vecrec.rules (catalog, action, match, value)
		VALUES (${\ lit($T)}, 'boost', jsonb_build_object(${\ lit($title_name)}, 'title 7 it''s'), 2),
		       (${\ lit($T)}, 'block', jsonb_build_object('price', jsonb_build_object('<', 60)), NULL);
	UPDATE vecrec.rules SET value = 3 WHERE action OPERATOR(pg_catalog.=) 'boost';
	INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES (${\ lit($T)}, 'pin', 42, 1);
	DELETE FROM vecrec.rules WHERE action OPERATOR(pg_catalog.=) 'pin';
}, 'manages rules whose matches name odd columns');
($out, $err) = as('merch', qq{INSERT INTO vecrec.rules (catalog, action, match)
	VALUES (${\ lit($T)}, 'block', '{"price": {"<": "1); DROP TABLE shop.sentinel; --"}}')});
like($err, qr/is not a valid integer/, 'merch: an injection through a match value is a cast error');
denied_as('merch', "SELECT count(*) FROM $T", 'reading the catalog table');
denied_as('merch', 'SELECT count(*) FROM shop.sentinel', 'reading another table of the schema');
denied_as('merch', 'CREATE TABLE vecrec.mine (x int)', 'creating in schema vecrec');
denied_as('merch', 'ALTER TABLE vecrec.rules ADD COLUMN x int', 'altering vecrec.rules');
denied_as('merch', 'TRUNCATE vecrec.rules', 'truncating vecrec.rules');
denied_as('merch', q{UPDATE vecrec.event_weights SET weight = 100}, 'changing the event weights');
denied_as('merch', "SELECT vecrec.track(${\ lit($T)})", 'tracking the catalog');
($out, $err) = as('merch', qq{UPDATE vecrec.catalogs SET embedder = NULL RETURNING 1});
is($out, '', 'merch: no registration can be changed (row level security)');

# mallory: nothing of app's
denied_as('mallory', "SELECT vecrec.track(${\ lit($T)})", 'tracking app\'s table');
denied_as('mallory', "SELECT vecrec.untrack(${\ lit($T)})", 'untracking app\'s table');
denied_as('mallory', "INSERT INTO vecrec.rules (catalog, action, item_id) VALUES (${\ lit($T)}, 'block', 1)",
	'adding a rule');
($out, $err) = as('mallory', q{
	UPDATE vecrec.catalogs SET embedder = 'evil.lower'::regproc RETURNING 1;
	DELETE FROM vecrec.catalogs RETURNING 1;
	INSERT INTO vecrec.catalogs (catalog, id_column, embedding_column) VALUES ('shop.apptab', 'id', 'embedding')});
is($out, '', 'mallory: cannot change or delete registrations');
like($err, qr/row-level security/, 'mallory: cannot register a table she does not own');

# app again, with the rules, then untrack
($out, $err) = as('app', qq{$trojan_path
	SET vecrec.log_impressions = off;
	CREATE TEMP TABLE rec AS SELECT * FROM vecrec.recommend(${\ lit($T)}, '[8, 116, 1]', k => 10);
	SELECT vecrec.untrack(${\ lit($Q)});
	RESET search_path;
	SELECT count(*) = 10, bool_and(t.price >= 60) FROM rec r JOIN $T t ON t.$ID = r.id;
});
is($err, '', 'app: recommend with the rules, untrack');
is($out, "t|t", 'app: the block rule holds');

is($node->safe_psql('postgres', q{SELECT coalesce(string_agg(what || ' ' || n, ', '), 'none') FROM
	(SELECT what, count(*) n FROM evil.calls GROUP BY 1 ORDER BY 1) c}), 'none',
	'the trojan schema in search_path was never called');
is($node->safe_psql('postgres', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ')
	  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vecrec'
	 WHERE (p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql') OR p.prosecdef)
	   AND NOT coalesce(p.proconfig::text LIKE '%search_path=pg_catalog, pg_temp%', false)
	   AND p.oid <> 'vecrec.reembed_in_batches'::regproc}), '',
	'every PL/pgSQL and SECURITY DEFINER function of vecrec pins search_path (but the procedure '
	  . 'reembed_in_batches, which commits and so qualifies every name instead)');
is($node->safe_psql('postgres', 'SELECT string_agg(x::text, \',\') FROM shop.sentinel'), '42', 'shop.sentinel unchanged');
is($node->safe_psql('postgres', q{SELECT bool_and(v.ok) FROM pg_index i, vecrec.verify_index(i.indexrelid, true, true) v
	WHERE i.indrelid = 'shop."x; DROP TABLE shop.sentinel; --"'::regclass AND i.indexrelid::regclass::text NOT LIKE '%pkey%'}),
	't', 'verify_index passes');
$node->stop;
done_testing();
