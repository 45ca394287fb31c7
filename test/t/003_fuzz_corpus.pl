# Replay the libFuzzer corpora (test/fuzz/corpus/<target>, found by
# "make fuzz") without libFuzzer: each input goes through the same harness
# function, built from the same sources (src/vecparse.c, src/rec/tokenize.c,
# src/rec/matchc.c)
# with ASan and UBSan when the compiler has them.  A property violation
# aborts the replay program.  Then the text-parser corpus is fed to the
# server's vector input, the tokenizer corpus to vecrec.tokenize and the
# match corpus (src/rec/matchc.c) to vecrec.compile_match, whose SQL then
# runs: each input is accepted or fails with a clean data error (or, for a
# match, an unknown column or operator, or jsonb's 0A000 for a \u escape
# of a non-ASCII character in this SQL_ASCII database), and the server stays up;
# the accepted vectors, cut or padded to 3 dimensions, then go into an hnsw
# and an ivfflat index, which verify_index checks.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use Test::More;

my $fuzz = "$FindBin::Bin/../fuzz";
$ENV{ASAN_OPTIONS} = 'detect_leaks=0:abort_on_error=1';
$ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1';

my %corpus;
for my $t (qw(vector_text vector_binary tokenize match))
{
	my $bin = "$fuzz/replay_$t";
	my $dir = "$fuzz/corpus/$t";
	opendir(my $dh, $dir) or die "$dir: $!";
	my @files = sort grep { -f "$dir/$_" } readdir($dh);
	closedir($dh);
	$corpus{$t} = [ map { "$dir/$_" } @files ];
	ok(@files > 0, "corpus $t is not empty");
  SKIP:
	{
		skip "$bin not built (make $bin)", 2 unless -x $bin;
		my $out = `$bin $dir 2>&1`;
		is($?, 0, "replay $t exits 0") or diag($out);
		like($out, qr/replayed ${\ scalar(@files)} inputs/, "replay $t ran every input");
	}
}

sub slurp
{
	my $f = shift;
	open(my $fh, '<:raw', $f) or die "$f: $!";
	local $/;
	my $s = <$fh>;
	return $s // '';
}

# The server, in SQL_ASCII so that any byte string (but NUL) is a literal
my $node = PostgreSQL::Test::Cluster->new('fuzz_corpus');
$node->init;
$node->start;
$node->safe_psql('postgres', q{CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('ascii', q{
	CREATE EXTENSION vecrec;
	CREATE TABLE inputs (n int, kind text, lit text);
	CREATE TABLE mtab (id int PRIMARY KEY, category text, price numeric, in_stock boolean,
		"Odd Col" int, embedding vector(3));
	SELECT vecrec.track('mtab');
	INSERT INTO mtab VALUES (1, 'a', 5, true, 1, '[1,2,3]'), (2, 'x', 150, false, 3, NULL);
	CREATE FUNCTION try_input(kind text, lit text) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE
		sql text;
		cnt bigint;
	BEGIN
		IF kind = 'vector_text' THEN
			PERFORM lit::vector;
		ELSIF kind = 'match' THEN
			sql := vecrec.compile_match('mtab', lit::jsonb);
			EXECUTE 'SELECT count(*) FROM mtab t WHERE ' || sql INTO cnt;
		ELSE
			PERFORM vecrec.tokenize(lit);
		END IF;
		RETURN 'ok';
	EXCEPTION WHEN others THEN
		RETURN SQLSTATE;
	END $$;
});

my @rows;
my $n = 0;
for my $t (qw(vector_text tokenize match))
{
	for my $f (@{ $corpus{$t} })
	{
		my $s = slurp($f);
		next if $s =~ /\0/;    # a C string ends there; not a literal
		$s =~ s/'/''/g;
		push @rows, "($n, '$t', '$s')";
		$n++;
	}
}
$node->safe_psql('ascii', 'INSERT INTO inputs VALUES ' . join(",\n", @rows)) if @rows;
my $res = $node->safe_psql('ascii',
	q{SELECT kind, try_input(kind, lit) AS r, count(*) FROM inputs GROUP BY 1, 2 ORDER BY 1, 2});
note("server outcomes (kind|result|count):\n$res");
my @bad = grep { my ($k, $r) = split /\|/; $r ne 'ok' && $r !~ /^(22|54)/ && !($k eq 'match' && $r =~ /^(42703|42883|0A000)$/) }
  split /\n/, $res;
is(scalar(@bad), 0, "$n corpus inputs: accepted or a data exception (22xxx), limit (54xxx) or unknown column or operator (match)")
	or diag(join("\n", @bad));
like($res, qr/vector_text\|ok\|/, 'some text inputs parse');
like($res, qr/match\|ok\|/, 'some matches compile and run');
# the accepted vectors (huge and tiny magnitudes among them), cut or padded
# to 3 dimensions, into an hnsw and an ivfflat index
$node->safe_psql('ascii', q{
	CREATE TABLE accepted AS
		SELECT n, (((lit::vector)::real[])[1:3] || '{0,0,0}'::real[])[1:3]::vector(3) AS v
		  FROM inputs WHERE kind = 'vector_text' AND try_input(kind, lit) = 'ok';
	CREATE INDEX acc_hnsw ON accepted USING hnsw (v vector_l2_ops);
	CREATE INDEX acc_ivf ON accepted USING ivfflat (v vector_l2_ops) WITH (lists = 4);
});
note('accepted vectors: ' . $node->safe_psql('ascii', 'SELECT count(*) FROM accepted'));
for my $idx ('acc_hnsw', 'acc_ivf')
{
	my $out = $node->safe_psql('ascii',
		qq{SELECT "check" || '|' || ok || '|' || detail FROM vecrec.verify_index('$idx', heapallindexed => true)});
	my @bad = grep { (split /\|/)[1] ne 'true' } split /\n/, $out;
	is(scalar(@bad), 0, "verify_index('$idx') passes over the corpus vectors") or diag($out);
}
is($node->safe_psql('ascii', 'SELECT 1'), '1', 'server still up');
$node->stop;
done_testing();
