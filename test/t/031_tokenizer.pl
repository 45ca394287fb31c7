# The tokenizer of vecrec.embed_text built outside the server
# (test/tokenize/test_tokenize, built by "make tap"): every code point,
# malformed UTF-8, random bytes, fixed sentences.  Then the same sentences
# through vecrec.tokenize in the server.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use Test::More;

my $bin = "$FindBin::Bin/../tokenize/test_tokenize";
plan skip_all => "$bin not built (make test/tokenize/test_tokenize)" unless -x $bin;

my @lines = `$bin`;
my $rc = $? >> 8;
for my $line (@lines)
{
	chomp $line;
	next unless $line =~ /^(not ok|ok) \d+ - (.*)$/;
	ok($1 eq 'ok', "standalone: $2");
}
is($rc, 0, 'standalone tokenizer test exits 0');

my $node = PostgreSQL::Test::Cluster->new('tokenizer');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec');
is($node->safe_psql('postgres', q{SELECT array_to_string(vecrec.tokenize('Summer PATIO furniture, under 500!'), '|')}),
	'summer|patio|furniture|under|500', 'the server splits the same way');
# a database in SQL_ASCII: bytes that are not UTF-8 separate words
$node->safe_psql('postgres', q{CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('ascii', 'CREATE EXTENSION vecrec');
is($node->safe_psql('ascii', q{SELECT array_to_string(vecrec.tokenize(E'ab\\xffcd\\xc3 \\xc3\\x9cber'), '|')}),
	"ab|cd|\xc3\xbcber", 'SQL_ASCII: invalid UTF-8 bytes are separators, valid UTF-8 is lower-cased');
$node->stop;
done_testing();
