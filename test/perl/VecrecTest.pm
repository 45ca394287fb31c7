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

our @EXPORT = qw($VEC_FUNCTION_SQL anon_rss_mb run_watching_memory);

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
