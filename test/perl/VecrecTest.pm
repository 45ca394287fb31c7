# VecrecTest.pm - helpers shared by vecrec's TAP tests (test/t/*.pl)
#
#   use FindBin;
#   use lib "$FindBin::Bin/../perl";
#   use VecrecTest;
package VecrecTest;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our @EXPORT = qw($VEC_FUNCTION_SQL hdvec_sql anon_rss_mb run_watching_memory);

# SQL creating vec(n): a deterministic pseudo-random 32-dimensional vector
# for each integer.  Coordinate d is fract(sin(...) * 43758.5453) - 0.5 (the
# usual shader hash), scaled by exp(-d / 10) for an effective dimension of
# 10-15.
our $VEC_FUNCTION_SQL = q{
	CREATE FUNCTION vec(n bigint) RETURNS vector IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
		SELECT array_agg(((x - floor(x) - 0.5) * exp(-d / 10.0))::real ORDER BY d)::vector
		FROM (SELECT d, sin(n * 12.9898 + d * 78.233) * 43758.5453 AS x FROM generate_series(1, 32) d) s
	$$;
};

# SQL creating hdvec(n, i): a deterministic n-dimensional vector for each
# integer i, for the given dimension counts (each a multiple of 32).  32
# hidden coordinates, scaled by exp(-k / 10) like those of vec(), each
# repeated over a block of n / 32 consecutive coordinates, blocks in a
# scrambled order (so that every part of the vector matters), plus small
# per-coordinate noise from a pool of 31 noise vectors per dimension count.
# Fast: the rows are put together by C functions (array_fill, array_cat,
# vector +), about a second per 5 million coordinates.
sub hdvec_sql
{
	my @dims = @_;
	my $values = join(', ', map { "($_)" } @dims);
	return qq{
	CREATE FUNCTION hdvec_latent(i bigint) RETURNS real[] IMMUTABLE PARALLEL SAFE LANGUAGE sql AS \$\$
		SELECT array_agg(((x - floor(x) - 0.5) * exp(-k / 10.0))::real ORDER BY k)
		FROM (SELECT k, sin(i * 12.9898 + k * 78.233) * 43758.5453 AS x FROM generate_series(0, 31) k) s
	\$\$;
	CREATE AGGREGATE hdvec_cat(real[]) (SFUNC = array_cat, STYPE = real[], INITCOND = '{}');
	CREATE TABLE hdvec_noise AS
		SELECT n AS dims, j, array_agg((0.02 * (y - floor(y) - 0.5))::real ORDER BY d)::vector AS noise
		FROM (VALUES $values) v(n), generate_series(0, 30) j,
			LATERAL (SELECT d, sin(j * 3.17 + d * 0.731) * 43758.5453 AS y FROM generate_series(1, n) d) dd
		GROUP BY n, j;
	CREATE FUNCTION hdvec(n int, i bigint) RETURNS vector STABLE PARALLEL SAFE LANGUAGE sql AS \$\$
		SELECT (SELECT hdvec_cat(array_fill(z[1 + (b * 7) % 32], ARRAY[n / 32]) ORDER BY b)
				FROM generate_series(0, 31) b)::vector + p.noise
		FROM hdvec_latent(i) z, hdvec_noise p WHERE p.dims = n AND p.j = i % 31
	\$\$;
	};
}

# Private resident memory of a process in MB (RssAnon), 0 if unknown
sub anon_rss_mb
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (<$fh>)
	{
		return int($1 / 1024) if /^RssAnon:\s+(\d+) kB/;
	}
	return 0;
}

# Run SQL in a psql of its own on $node while watching its backend's private
# memory; past $limit_mb the statement is cancelled (a runaway build then
# fails the test instead of exhausting the machine).  Returns (finished
# without error, psql's stderr, peak MB).
sub run_watching_memory
{
	my ($node, $sql, $limit_mb) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$in .= "SELECT pg_backend_pid();\n";
	$h->pump until $out =~ /^(\d+)\n/;
	my $pid = $1;
	$in .= "$sql\n\\echo __done__\n\\q\n";
	my ($peak, $cancelled) = (0, 0);
	while ($h->pumpable)
	{
		$h->pump_nb;
		my $mb = anon_rss_mb($pid);
		$peak = $mb if $mb > $peak;
		if ($mb > $limit_mb && !$cancelled)
		{
			$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
			$cancelled = 1;
		}
		usleep(50_000);
	}
	$h->finish;
	return ($out =~ /__done__/ ? 1 : 0, $err, $peak);
}

1;
