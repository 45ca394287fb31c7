# Distance kernels: every compiled table against an exact reference
# (test/kernels/test_kernels, built by "make test"), then the same
# distances in the server with each supported kernel forced by the GUC.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use Test::More;

my $bin = "$FindBin::Bin/../kernels/test_kernels";
plan skip_all => "$bin not built (make test/kernels/test_kernels)" unless -x $bin;

# Standalone kernels: relay each TAP line of the binary
my @lines = `$bin`;
my $rc = $? >> 8;
my ($checked, $skipped) = (0, 0);
for my $line (@lines)
{
	chomp $line;
	next unless $line =~ /^(not ok|ok) \d+ (.*)$/;
	my ($status, $desc) = ($1, $2);
	if ($desc =~ /# skip (.*)/)
	{
		$skipped++;
		note("kernel skipped: $1");
		next;
	}
	$checked++;
	ok($status eq 'ok', "kernel $desc") if $status ne 'ok';
}
is($rc, 0, 'kernel binary exits 0');
cmp_ok($checked, '>=', 2 * 5 * 2 * 36, "at least two kernel tables fully checked ($checked checks, $skipped tables skipped)");

# In the server: every supported kernel gives the same distances
my $node = PostgreSQL::Test::Cluster->new('kernels');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrec');
$node->safe_psql('postgres', q{
	CREATE TABLE v AS
	SELECT d, i,
		('[' || string_agg(round(sin(i * 7 + j * 13)::numeric, 5)::text, ',' ORDER BY j) || ']')::vector AS a,
		('[' || string_agg(round(cos(i * 3 + j * 11)::numeric, 5)::text, ',' ORDER BY j) || ']')::vector AS b
	FROM unnest(ARRAY[1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 384, 1536, 16000]) d,
		generate_series(1, 5) i, generate_series(1, d) j
	GROUP BY d, i;
	CREATE TABLE ref AS
	SELECT d, i, a <-> b AS l2, a <=> b AS cos, a <#> b AS ip, a <+> b AS l1
	FROM v;
});

my @kernels = split /\n/, $node->safe_psql('postgres',
	'SELECT name FROM vecrec.kernels() WHERE supported ORDER BY name');
ok(scalar(@kernels) >= 1, 'at least one supported kernel: ' . join(',', @kernels));
for my $k (@kernels)
{
	my $bad = $node->safe_psql('postgres', qq{
		SET vecrec.kernel = '$k';
		SELECT count(*) FROM v JOIN ref USING (d, i)
		WHERE abs((a <-> b) - l2) > 1e-5 * greatest(1, abs(l2))
		   OR abs((a <=> b) - cos) > 1e-5
		   OR abs((a <#> b) - ip) > 1e-5 * greatest(1, abs(ip), d)
		   OR abs((a <+> b) - l1) > 1e-5 * greatest(1, abs(l1));
	});
	is($bad, '0', "kernel $k agrees with the default kernel on 80 vector pairs");
	my $active = $node->safe_psql('postgres',
		"SET vecrec.kernel = '$k'; SELECT name FROM vecrec.kernels() WHERE active");
	is($active, $k, "SET vecrec.kernel = '$k' makes it the only active kernel");
}

# (before the library is loaded, SET only records a placeholder)
my ($ret, $out, $err) = $node->psql('postgres', "LOAD 'vecrec'; SET vecrec.kernel = 'nosuch'");
isnt($ret, 0, 'unknown kernel is rejected');
like($err, qr/invalid value for parameter "vecrec.kernel"/, 'with a clear message');

$node->stop;
done_testing();
