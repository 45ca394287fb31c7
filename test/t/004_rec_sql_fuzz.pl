# SQL-level fuzzing of the two places where vecrec turns user text into
# SQL: the rule match compiler (PL/pgSQL, vecrec.compile_match and the
# trigger on vecrec.rules) and the filter of vecrec.recommend() (checked by
# the server's SQL scanner in src/rec/reco.c).
#
# Matches: thousands of generated jsonb matches over a catalog with text,
# integer and boolean columns (quotes, semicolons, comments, dollar quotes,
# unicode, operators that do not exist, values that do not cast), each
# compiled and evaluated; the SQLSTATE or the matching ids must equal an
# independent evaluation written here in Perl, and a rule INSERT must give
# the same SQL or the same error.  Then as many byte-mutated JSON texts,
# which must compile to SQL that runs, or fail with a clean error.
#
# Filters: generated token soups and mutations of valid filters.  A filter
# the check accepts must stay inside its parentheses (false AND (f) has no
# rows, true OR (f) has all), and recommend() must return what a direct
# query with the same filter returns; one it rejects, or that fails, fails
# with a syntax or data error.  A sentinel table that every injection
# attempt tries to drop, empty or insert into is unchanged at the end, and
# the server never restarts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $N = $ENV{VECREC_SQL_FUZZ_INPUTS} // 1500;
srand(20261123);

my $node = PostgreSQL::Test::Cluster->new('rec_sql_fuzz');
$node->init;
$node->start;
$node->safe_psql('postgres', q{CREATE DATABASE shop ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});

my @categories = ('shoes', 'hats', "it's", 'x; DROP TABLE sentinel; --', "\xc3\x89clair", undef);
my @brands = ('acme', 'Acme', 'globex', undef, '$$');
my %rows;
for my $id (1 .. 60)
{
	$rows{$id} = {
		category => $categories[ $id % 6 ],
		price => ($id * 37) % 200,
		in_stock => ($id % 3 != 0 ? 1 : 0),
		brand => $brands[ $id % 5 ],
		'we"ird col' => 'w' . ($id % 4),
	};
}

sub sql_str { my $s = shift; return 'NULL' unless defined $s; $s =~ s/'/''/g; return "'$s'"; }

$node->safe_psql('shop', join(";\n",
	'CREATE EXTENSION vecrec',
	'CREATE TABLE sentinel (x int)',
	'INSERT INTO sentinel VALUES (42)',
	'CREATE TABLE items (id bigint PRIMARY KEY, embedding vector(3), category text, price int, '
	  . 'in_stock boolean, brand text, "we""ird col" text)',
	'INSERT INTO items VALUES ' . join(', ', map {
		my $r = $rows{$_};
		"($_, ARRAY[sin($_), cos($_), $_ / 60.0]::vector, " . join(', ', sql_str($r->{category}), $r->{price},
			$r->{in_stock} ? 'true' : 'false', sql_str($r->{brand}), sql_str($r->{'we"ird col'})) . ')'
	} sort { $a <=> $b } keys %rows),
	'CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)',
	q{SELECT vecrec.track('items')},
	q{SET vecrec.log_impressions = off},
	q{ALTER DATABASE shop SET vecrec.log_impressions = off}));

# ---------------------------------------------------------------- matches

my %coltype = (category => 'text', price => 'int', in_stock => 'bool', brand => 'text', 'we"ird col' => 'text');
my @cols = sort keys %coltype;
my @badkeys = ('nope', 'x; DROP TABLE sentinel; --', 't.price', 'Price', "cat\xc3\xa9gorie", '');
my @goodops = ('=', '<>', '!=', '<', '<=', '>', '>=', 'in', 'not_in', 'IN', 'Not_In');
my @badops = ('like', '; drop table sentinel', '', '=>', 'in)');
my @strings = ('shoes', 'hats', "it's", 'x; DROP TABLE sentinel; --', "\xc3\x89clair", 'acme', 'Acme', 'globex',
	'$$', 'w1', "'); DELETE FROM sentinel; --", '12', ' 7 ', '+5', '1.5', 'abc', '', 'true', 'yes', 'off', 't',
	'99999999999', '$q$ ) ; INSERT INTO sentinel VALUES (1); $q$', "/* */ --\n", "\\", "\"", "\xe2\x80\xa8");
my @numbers = (0, 1, 7, 100, 150, -3, 2.5, 99999999999);

# A random JSON value as [perl value, kind] where kind is string, number,
# bool, null, array
sub rand_scalar
{
	my $r = rand();
	return [ $strings[ int(rand(@strings)) ], 'string' ] if $r < 0.5;
	return [ $numbers[ int(rand(@numbers)) ], 'number' ] if $r < 0.8;
	return [ (rand() < 0.5 ? 1 : 0), 'bool' ] if $r < 0.92;
	return [ undef, 'null' ];
}

sub rand_value
{
	return rand() < 0.85 ? rand_scalar() : [ [ map { rand_scalar() } 1 .. int(rand(4)) ], 'array' ];
}

sub json_str
{
	my $s = shift;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord($1))/ge;
	return "\"$s\"";
}

sub json_of
{
	my $v = shift;
	my ($x, $kind) = @$v;
	return 'null' if $kind eq 'null';
	return $x ? 'true' : 'false' if $kind eq 'bool';
	return "$x" if $kind eq 'number';
	return json_str($x) if $kind eq 'string';
	return '[' . join(', ', map { json_of($_) } @$x) . ']' if $kind eq 'array';
	return '{' . join(', ', map { json_str($_->[0]) . ': ' . json_of($_->[1]) } @$x) . '}';
}

# A match: [[key, spec]...] where spec is a value or [[op, value]...] (kind object)
sub rand_match
{
	my %seen;
	my @m;
	for (1 .. 1 + int(rand(3)))
	{
		my $k = rand() < 0.9 ? $cols[ int(rand(@cols)) ] : $badkeys[ int(rand(@badkeys)) ];
		next if $seen{$k}++;
		my $spec;
		if (rand() < 0.4) { $spec = rand_value(); }
		else
		{
			my %sop;
			my @o;
			for (1 .. int(rand(3)))
			{
				my $op = rand() < 0.93 ? $goodops[ int(rand(@goodops)) ] : $badops[ int(rand(@badops)) ];
				next if $sop{$op}++;
				my $arg = ($op =~ /in/i && rand() < 0.8)
				  ? [ [ map { rand_scalar() } 1 .. (rand() < 0.9 ? 1 + int(rand(3)) : 0) ], 'array' ] : rand_value();
				push @o, [ $op, $arg ];
			}
			$spec = [ \@o, 'object' ];
		}
		push @m, [ $k, $spec ];
	}
	my $top = rand() < 0.03 ? (rand() < 0.5 ? [ [ [ 1, 'number' ] ], 'array' ] : [ 'x', 'string' ]) : [ \@m, 'object' ];
	return $top;
}

# The text a JSON scalar becomes with #>> '{}'
sub scalar_text
{
	my ($x, $kind) = @{ $_[0] };
	return $kind eq 'bool' ? ($x ? 'true' : 'false') : "$x";
}

# Cast a JSON scalar to a column type: [ok, value] or [0, sqlstate]
sub cast_to
{
	my ($type, $v) = @_;
	return [ 0, '22023' ] unless $v->[1] =~ /^(string|number|bool)$/;
	my $s = scalar_text($v);
	return [ 1, $s ] if $type eq 'text';
	if ($type eq 'int')
	{
		return [ 0, '22P02' ] unless $s =~ /^[ \t\n\r\f\x0b]*([+-]?\d+)[ \t\n\r\f\x0b]*$/;
		my $n = $1 + 0;
		return [ 0, '22P02' ] if $n > 2147483647 || $n < -2147483648;
		return [ 1, $n ];
	}
	(my $b = lc($s)) =~ s/^\s+|\s+$//g;
	return [ 1, 1 ] if $b ne '' && ('true' =~ /^\Q$b\E/ || 'yes' =~ /^\Q$b\E/ || $b eq 'on' || $b eq '1');
	return [ 1, 0 ] if $b ne '' && ('false' =~ /^\Q$b\E/ || 'no' =~ /^\Q$b\E/ || $b eq 'of' || $b eq 'off' || $b eq '0');
	return [ 0, '22P02' ];
}

sub cmp_typed
{
	my ($type, $a, $b) = @_;
	return $type eq 'text' ? ($a cmp $b) : ($a <=> $b);
}

# The independent evaluation: [sqlstate] or [undef, "id,id,..."]
sub oracle
{
	my $m = shift;
	return ['22023'] if $m->[1] ne 'object' || !@{ $m->[0] };
	my @preds;
	for my $e (sort { $a->[0] cmp $b->[0] } @{ $m->[0] })
	{
		my ($col, $spec) = @$e;
		my $type = $coltype{$col};
		return ['42703'] unless defined $type;
		$spec = [ [ [ '=', $spec ] ], 'object' ] if $spec->[1] ne 'object';
		return ['22023'] unless @{ $spec->[0] };
		for my $o (sort { $a->[0] cmp $b->[0] } @{ $spec->[0] })
		{
			my ($op, $arg) = @$o;
			$op = lc($op);
			$op = '<>' if $op eq '!=';
			$op = 'not in' if $op eq 'not_in';
			if (($op eq '=' || $op eq '<>') && $arg->[1] eq 'null')
			{
				my $want_null = $op eq '=';
				push @preds, sub { (defined($_[0]{$col}) ? 0 : 1) == $want_null };
			}
			elsif ($op =~ /^(=|<>|<|<=|>|>=)$/)
			{
				my $c = cast_to($type, $arg);
				return [ $c->[1] ] unless $c->[0];
				my $lit = $c->[1];
				my %test = ('=' => sub { $_[0] == 0 }, '<>' => sub { $_[0] != 0 }, '<' => sub { $_[0] < 0 },
					'<=' => sub { $_[0] <= 0 }, '>' => sub { $_[0] > 0 }, '>=' => sub { $_[0] >= 0 });
				my $t = $test{$op};
				push @preds, sub { my $x = $_[0]{$col}; defined($x) && $t->(cmp_typed($type, $x, $lit)) };
			}
			elsif ($op eq 'in' || $op eq 'not in')
			{
				return ['22023'] if $arg->[1] ne 'array' || !@{ $arg->[0] };
				my @lits;
				for my $el (@{ $arg->[0] })
				{
					my $c = cast_to($type, $el);
					return [ $c->[1] ] unless $c->[0];
					push @lits, $c->[1];
				}
				my $in = $op eq 'in';
				push @preds, sub {
					my $x = $_[0]{$col};
					return 0 unless defined $x;
					my $any = grep { cmp_typed($type, $x, $_) == 0 } @lits;
					return $in ? $any > 0 : $any == 0;
				};
			}
			else { return ['22023']; }
		}
	}
	my @ids = grep { my $r = $rows{$_}; !grep { !$_->($r) } @preds } sort { $a <=> $b } keys %rows;
	return [ undef, join(',', @ids) ];
}

# Mutate until the bytes are valid UTF-8 (the database would refuse others)
sub mutate
{
	my $orig = shift;
	for (1 .. 100)
	{
		my $s = mutate_bytes($orig);
		my $copy = $s;
		return $s if utf8::decode($copy);
	}
	return $orig;
}

sub mutate_bytes
{
	my $s = shift;
	my @frag = ('"', '\\', '{', '}', '[', ']', ':', ',', "'", ';', '$$', '--', '/*', "\xc3\xa9", '"in"', '"<"', 'null',
		'"; DROP TABLE sentinel; --"', '1e999', '-', ' ');
	for (1 .. (rand() < 0.7 ? 1 : 2))
	{
		my $pos = int(rand(length($s) + 1));
		my $op = int(rand(3));
		if ($op == 0) { substr($s, $pos, 0) = $frag[ int(rand(@frag)) ]; }
		elsif ($op == 1 && length($s)) { substr($s, $pos, 1) = ''; }
		else { substr($s, $pos, 1) = $frag[ int(rand(@frag)) ] if length($s); }
	}
	return $s;
}

my (@mrows, @expect);
for my $i (0 .. $N - 1)
{
	my $m = rand_match();
	push @mrows, [ $i, json_of($m), 'gen' ];
	push @expect, oracle($m);
}
for my $i ($N .. 2 * $N - 1)
{
	push @mrows, [ $i, mutate($mrows[ int(rand($N)) ][1]), 'mut' ];
}

$node->safe_psql('shop', q{
	CREATE TABLE matches (n int, m text, kind text);
	CREATE FUNCTION try_match(m text, OUT state text, OUT match_sql text, OUT ids text,
	                          OUT rule_state text, OUT rule_sql text)
	LANGUAGE plpgsql AS $$
	DECLARE
		j jsonb;
		rid bigint;
	BEGIN
		BEGIN
			j := m::jsonb;
		EXCEPTION WHEN others THEN
			state := 'Ejson:' || SQLSTATE;
			RETURN;
		END;
		BEGIN
			match_sql := vecrec.compile_match('items', j);
			state := 'ok';
			EXECUTE 'SELECT string_agg(t.id::text, '','' ORDER BY t.id) FROM items t WHERE ' || match_sql INTO ids;
			ids := coalesce(ids, '');
		EXCEPTION WHEN others THEN
			state := 'E' || SQLSTATE;
		END;
		BEGIN
			INSERT INTO vecrec.rules (catalog, action, match) VALUES ('items', 'block', j)
				RETURNING id, rules.match_sql INTO rid, rule_sql;
			DELETE FROM vecrec.rules WHERE id = rid;
			rule_state := 'ok';
		EXCEPTION WHEN others THEN
			rule_state := 'E' || SQLSTATE;
		END;
	END $$;
});
$node->safe_psql('shop', 'INSERT INTO matches VALUES '
	  . join(",\n", map { "($_->[0], " . sql_str($_->[1]) . ", '$_->[2]')" } @mrows));
my $res = $node->safe_psql('shop', q{
	SELECT n, r.state, coalesce(r.ids, ''), r.rule_state, (r.rule_sql IS NOT DISTINCT FROM r.match_sql)
	  FROM matches, try_match(m) r ORDER BY n});

my ($gen_ok, $gen_err, $gen_bad, $mut_ok, $mut_err, $mut_bad, $rule_bad) = (0) x 7;
my %states;
for my $line (split /\n/, $res)
{
	my ($n, $state, $ids, $rule_state, $same) = split /\|/, $line, 5;
	$states{$state}++;
	$rule_bad++, diag("rule INSERT differs for $mrows[$n][1]: $state vs $rule_state")
	  unless $rule_state eq $state || ($state =~ /^Ejson:/) || ($state eq 'ok' && $rule_state eq 'ok' && $same eq 't');
	$rule_bad++, diag("rule match_sql differs for $mrows[$n][1]") if $state eq 'ok' && $same ne 't';
	if ($n < $N)
	{
		my $e = $expect[$n];
		if (defined $e->[0] ? $state eq "E$e->[0]" : ($state eq 'ok' && $ids eq $e->[1]))
		{
			$state eq 'ok' ? $gen_ok++ : $gen_err++;
		}
		else
		{
			$gen_bad++;
			diag("match $mrows[$n][1]: got $state [$ids], expected " . ($e->[0] // "ok [$e->[1]]"))
			  if $gen_bad <= 10;
		}
	}
	elsif ($state eq 'ok') { $mut_ok++; }
	elsif ($state =~ /^E(json:)?(22|42)/) { $mut_err++; }
	else { $mut_bad++; diag("mutated match $mrows[$n][1]: $state") if $mut_bad <= 10; }
}
note('match outcomes: ' . join(', ', map { "$_ $states{$_}" } sort keys %states));
is($gen_bad, 0, "$N generated matches: compile_match agrees with the Perl evaluation ($gen_ok compiled, $gen_err errors)");
ok($gen_ok > $N / 10 && $gen_err > $N / 10, 'both outcomes are well represented');
is($mut_bad, 0, "$N mutated matches: SQL that runs or a clean 22/42 error ($mut_ok compiled, $mut_err errors)");
is($rule_bad, 0, 'rule INSERT compiles the same SQL or fails with the same SQLSTATE');

# ---------------------------------------------------------------- filters

my @good = ('in_stock', 'price < 100', 'category = \'shoes\'', 'brand IS NULL', 't.price >= 50 AND in_stock',
	"category = 'it''s'", 'price BETWEEN 10 AND 90', "brand IN ('acme', 'globex')", '"we""ird col" = \'w1\'',
	"category LIKE 'x;%'", 'NOT in_stock OR price > 150', "(price % 2) = 0", "category = \$\$it's\$\$",
	"coalesce(brand, '') <> 'Acme'", "price = ANY (ARRAY[37, 74, 111])", "category = E'it\\'s'",
	"U&'\\0073hoes' = category");
my @tok = ('price', 'category', 'in_stock', 'brand', '"we""ird col"', 't.id', 'nope', 'sentinel.x', '=', '<', '>',
	'<>', 'AND', 'OR', 'NOT', 'IS NULL', '+', '||', 'LIKE', '::text', '::int', '1', '2.5', "'a'", "'it''s'",
	"E'\\''", '$$x$$', '$q$ ) ; $q$', "U&'\\0041'", "'x; DROP TABLE sentinel; --'", 'NULL', 'true', '(', ')', '[',
	']', ';', ',', '--', "-- c\n", '/*', '*/', '/* /* */ */', "'", '"', '$$', "\xc3\xa9", "\xe2\x82\x80",
	"');  DROP TABLE sentinel; --", ') OR (true', '$$; DELETE FROM sentinel; $$', '); INSERT INTO sentinel VALUES (1); --',
	'*/ DROP TABLE sentinel /*', '(SELECT count(*) FROM sentinel) > 0', "\n", "\\", 'WITH', 'SELECT');
my @filters;
for (1 .. $N)
{
	my $r = rand();
	if ($r < 0.35) { push @filters, $good[ int(rand(@good)) ]; }
	elsif ($r < 0.6) { push @filters, mutate($good[ int(rand(@good)) ]); }
	else { push @filters, join(' ', map { $tok[ int(rand(@tok)) ] } 1 .. 1 + int(rand(7))); }
}
$node->safe_psql('shop', q{
	CREATE TABLE filters (n int, f text);
	CREATE FUNCTION try_filter(f text, OUT checked text, OUT inside text, OUT direct text, OUT rec text)
	LANGUAGE plpgsql AS $$
	DECLARE
		q vector := '[0.3, 0.9, 0.5]';
		n_false bigint;
		n_true bigint;
	BEGIN
		BEGIN
			PERFORM vecrec._check_filter(f);
			checked := 'ok';
		EXCEPTION WHEN others THEN
			checked := 'E' || SQLSTATE;
		END;
		IF checked = 'ok' THEN
			BEGIN
				EXECUTE 'SELECT count(*) FROM items t WHERE false AND (' || f || E'\n)' INTO n_false;
				EXECUTE 'SELECT count(*) FROM items t WHERE true OR (' || f || E'\n)' INTO n_true;
				inside := CASE WHEN n_false = 0 AND n_true = 60 THEN 'ok' ELSE format('escaped %s %s', n_false, n_true) END;
			EXCEPTION WHEN others THEN
				inside := 'E' || SQLSTATE;
			END;
			BEGIN
				EXECUTE 'SELECT coalesce(string_agg(t.id::text, '','' ORDER BY t.id), '''') FROM items t WHERE ('
				        || f || E'\n)' INTO direct;
			EXCEPTION WHEN others THEN
				direct := 'E' || SQLSTATE;
			END;
		END IF;
		BEGIN
			SELECT coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '') INTO rec
			  FROM vecrec.recommend('items', q, k => 100, candidates => 100, lambda => 1, filter => f) r;
		EXCEPTION WHEN others THEN
			rec := 'E' || SQLSTATE;
		END;
	END $$;
});
$node->safe_psql('shop', 'INSERT INTO filters VALUES '
	  . join(",\n", map { "($_, " . sql_str($filters[$_]) . ')' } 0 .. $#filters));
$res = $node->safe_psql('shop', q{
	SELECT n, r.checked, coalesce(r.inside, '-'), coalesce(r.direct, '-'), r.rec FROM filters, try_filter(f) r ORDER BY n});
my ($f_ok, $f_rejected, $f_failed, $f_bad) = (0) x 4;
for my $line (split /\n/, $res)
{
	my ($n, $checked, $inside, $direct, $rec) = split /\|/, $line, 5;
	my $f = $filters[$n];
	my $bad;
	if ($checked ne 'ok')
	{
		# rejected: recommend fails the same way, with a syntax error
		$bad = "rejected with $checked, recommend gave $rec" unless $checked eq 'E42601' && $rec eq 'E42601';
		$f_rejected++;
	}
	elsif ($inside =~ /^escaped/)
	{
		$bad = "accepted filter leaves its parentheses: $inside";
	}
	elsif ($direct !~ /^E/)
	{
		$bad = "recommend gave [$rec], the direct query [$direct]" unless $rec eq $direct;
		$f_ok++;
	}
	else
	{
		# the expression fails: recommend fails with the same SQLSTATE, a syntax,
		# data or name error (a "schema.type 'literal'" names a schema: 3F000)
		$bad = "direct query failed with $direct, recommend gave $rec" unless $rec eq $direct && $direct =~ /^E(22|42|3F)/;
		$f_failed++;
	}
	if ($bad)
	{
		$f_bad++;
		diag("filter <$f>: $bad") if $f_bad <= 10;
	}
}
is($f_bad, 0, "$N filters: recommend() agrees with a direct query or fails cleanly "
	  . "($f_ok answered, $f_rejected rejected by the check, $f_failed failing expressions)");
ok($f_ok > $N / 10 && $f_rejected > $N / 20, 'accepted and rejected filters are well represented');

is($node->safe_psql('shop', 'SELECT string_agg(x::text, \',\') FROM sentinel'), '42', 'sentinel table unchanged');
is($node->safe_psql('shop', q{SELECT count(*) FROM vecrec.rules}), '0', 'no rule left behind');
is($node->safe_psql('shop', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'}),
	'4', 'no table created or dropped');
is($node->safe_psql('shop', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'}) > 0, 1,
	'server up');
like(slurp_log($node), qr/^(?!.*(server process .* was terminated|terminating any other active server processes))/s,
	'no backend crashed');
is($node->safe_psql('shop', q{SELECT bool_and(ok) FROM vecrec.verify_index('items_embedding_idx', true, true)}), 't',
	'verify_index');
$node->stop;

sub slurp_log
{
	my $node = shift;
	open(my $fh, '<', $node->logfile) or return '';
	local $/;
	return <$fh>;
}

done_testing();
