# Fuzz the text input of the vector type: thousands of mutated literals
# must each either parse, and then agree with an independent grammar and
# survive a round trip, or fail with a clean data error.  The server
# must stay up throughout.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $N = $ENV{VECREC_FUZZ_INPUTS} // 20000;
srand(20261122);

my @seeds = ('[1,2,3]', '[ 1.5 , -2e-3 , 3e+10 ]', '[0]', '[-0.0,1e-45,3.4e38]',
	'[1e-30,2E5,-7.25]', "[\t1,\n2]", '[0.1,0.2,0.30000001]', '[123456789,1.17549435e-38]');
my @alphabet = (split(//, '0123456789[],.eE+-  x'), "\t", 'nan', 'inf', 'Infinity', '1e39',
	'1e-50', '"', "'", '\\', '{', '}', '(', ')', ';', 'é', "\x{2003}", '0x1p3', ',,', '[]');

sub mutate
{
	my $s = shift;
	my $n = 1 + int(rand(3));
	for (1 .. $n)
	{
		my $op = int(rand(6));
		my $pos = int(rand(length($s) + 1));
		if ($op == 0) { substr($s, $pos, 0) = $alphabet[ int(rand(@alphabet)) ]; }
		elsif ($op == 1 && length($s)) { substr($s, $pos, 1) = ''; }
		elsif ($op == 2 && length($s)) { substr($s, $pos, 1) = $alphabet[ int(rand(@alphabet)) ]; }
		elsif ($op == 3) { $s = substr($s, 0, $pos); }
		elsif ($op == 4) { my $len = int(rand(5)); $s .= substr($s, $pos, $len); }
		else { $s =~ s/(\d+)/$1 . ('0' x int(rand(40)))/e; }
	}
	return $s;
}

# The grammar, written independently of the C parser: optional spaces,
# '[', numbers separated by commas, ']', optional spaces.
my $sp = qr/[ \t\n\r\x0b\f]*/;
my $num = qr/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
my $hex = qr/[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?/;

sub expect
{
	my $s = shift;
	return 'either' if $s =~ /^$sp\[$sp(?:$num|$hex)(?:$sp,$sp(?:$num|$hex))*$sp\]$sp$/ && $s =~ $hex;
	return 'error' unless $s =~ /^$sp\[$sp$num(?:$sp,$sp$num)*$sp\]$sp$/;
	my @nums = ($s =~ /($num)/g);
	return 'error' if @nums > 16000;
	for my $x (@nums)
	{
		my $v = abs($x + 0);
		(my $mantissa = $x) =~ s/[eE].*//;
		return 'error' if $v == 0 && $mantissa =~ /[1-9]/;    # underflow
		return 'either' if ($v > 3.40282e38 && $v < 3.40283e38) || ($v > 0 && $v < 1.5e-45);
		return 'error' if $v > 3.40283e38;
	}
	return 'ok';
}

my @inputs;
for my $i (1 .. $N)
{
	my $s = mutate($seeds[ $i % @seeds ]);
	$s =~ s/\x00//g;
	push @inputs, $s;
}
push @inputs, '[' . join(',', (1) x 16000) . ']', '[' . join(',', (1) x 16001) . ']';

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec; CREATE TABLE input (id int, s text)');

# Load the inputs as data, not as SQL, so no quoting gets in the way
my $file = $node->basedir . '/inputs.tsv';
open(my $fh, '>:encoding(UTF-8)', $file) or die;
for my $i (0 .. $#inputs)
{
	(my $e = $inputs[$i]) =~ s/\\/\\\\/g;
	$e =~ s/\t/\\t/g;
	$e =~ s/\n/\\n/g;
	$e =~ s/\r/\\r/g;
	$e =~ s/\x0b/\\v/g;
	$e =~ s/\f/\\f/g;
	print $fh "$i\t$e\n";
}
close $fh;
$node->safe_psql('postgres', "COPY input FROM '$file'");
is($node->safe_psql('postgres', 'SELECT count(*) FROM input'), scalar(@inputs), 'all inputs loaded');

# Parse each one in its own subtransaction
my $res = $node->safe_psql('postgres', q{
	CREATE TABLE outcome (id int, ok bool, state text, roundtrip bool);
	DO $$
	DECLARE r record; v vector;
	BEGIN
		FOR r IN SELECT * FROM input ORDER BY id LOOP
			BEGIN
				v := r.s::vector;
				INSERT INTO outcome VALUES (r.id, true, NULL, v::text::vector = v AND v::text = v::text::vector::text);
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO outcome VALUES (r.id, false, SQLSTATE, NULL);
			END;
		END LOOP;
	END $$;
	SELECT id || ':' || ok || ':' || coalesce(state, '') || ':' || coalesce(roundtrip::text, '')
	FROM outcome ORDER BY id;
});
my %allowed = map { $_ => 1 } qw(22P02 22003 22000 54000);
my ($oks, $errors, $wrong, $badstate, $badtrip) = (0, 0, 0, 0, 0);
for my $line (split /\n/, $res)
{
	my ($id, $ok, $state, $trip) = split /:/, $line, 4;
	my $want = expect($inputs[$id]);
	if ($ok eq 'true')
	{
		$oks++;
		$badtrip++, diag("round trip failed: $inputs[$id]") if $trip ne 'true';
		$wrong++, diag("accepted but invalid: '$inputs[$id]'") if $want eq 'error';
	}
	else
	{
		$errors++;
		$badstate++, diag("unexpected SQLSTATE $state for '$inputs[$id]'") unless $allowed{$state};
		$wrong++, diag("rejected but valid: '$inputs[$id]' ($state)") if $want eq 'ok';
	}
}
is($oks + $errors, scalar(@inputs), 'every input has an outcome');
is($wrong, 0, "parser agrees with the grammar ($oks accepted, $errors rejected)");
is($badstate, 0, 'every rejection is a data error (22P02, 22003, 22000 or 54000)');
is($badtrip, 0, 'every accepted vector survives a text round trip');
cmp_ok($oks, '>', 100, 'a fair share of mutations are still valid');
cmp_ok($errors, '>', 1000, 'and many are rejected');

# typmod'd input: every accepted 3-d literal also reads as vector(3)
my ($n3, $bad3) = split /\|/, $node->safe_psql('postgres', q{
	WITH accepted AS MATERIALIZED (
		SELECT i.s FROM outcome o JOIN input i USING (id) WHERE o.ok)
	SELECT count(*), count(*) FILTER (WHERE s::vector(3) IS NULL)
	FROM accepted WHERE vector_dims(s::vector) = 3});
cmp_ok($n3, '>', 0, "some accepted inputs have 3 dimensions ($n3)");
is($bad3, '0', 'vector(3) accepts them all');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still up');
$node->stop;
done_testing();
