# Copyright (c) 2026, usermap developers
#
# The masker can never hurt the server: every input any login role can
# send is masked in bounded work, whatever its shape, and nothing in it
# can crash a backend, pin one beyond cancel, or slow the server beyond
# linear growth.  Written as the attacks of the second review (issue 17):
#
# - One 34 MB query, "SELECT mapping" and commas: a syntax error whose
#   STATEMENT line the log hook masks.  The old lexer's token array
#   outgrew the allocation limit inside error reporting, the error met a
#   catch block that flushed the report under way, and the backend died
#   of SIGSEGV, restarting the cluster.  Now: an ordinary syntax error,
#   the same postmaster, no signal in the log.
# - "mapping create/*create/*...": the message masker was quadratic, with
#   no interrupt check (640 kB: 17 s; 4 MB: 11 minutes, deaf to cancel,
#   terminate and statement_timeout).  Now it ends within a second, and
#   cancel, terminate and statement_timeout are honoured.
# - Growth: for each input shape that reaches a masker, the time of a
#   query at 1x, 10x and 100x its size, through the log hook (a syntax
#   error, whose message and STATEMENT the hook masks, with every
#   statement logged) and through the statement path (the text quoted in
#   a COMMENT: parse analysis, the masking hook, pg_stat_statements), must
#   grow at most linearly: the 100x time at most GROWTH_BOUND times the
#   10x time, both measured in one run (a quadratic masker gives 100,
#   a linear one about 10; the bound, 40, leaves room for a machine
#   loaded by other jobs, and each time is the best of five runs).
#   Sizes stay below the masker's 1 MB limit, so that the masker reads
#   every one; a text above it is hidden whole without being read.
#
# Controls: the same shapes through a session with usermap.redact = off
# are timed too, and a quadratic shape of this test's own, run through a
# deliberately quadratic Perl loop, must break the bound, so that the
# bound can fail.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use UsermapHygiene;
use UsermapProtocol;

# The 100x time may be at most this many times the 10x time.
my $GROWTH_BOUND = 40;

my ($node, $pgaudit) = UsermapHygiene::start_node(pgaudit => 'optional');
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE EXTENSION pg_stat_statements;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;
	CREATE ROLE mallory LOGIN;
	CREATE TABLE mallory_notes ();
	ALTER TABLE mallory_notes OWNER TO mallory;
});
$node->safe_psql('postgres', 'CREATE EXTENSION pgaudit') if $pgaudit;

my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my $log_start = -s $node->logfile;

# Send one simple query as mallory on a connection of its own; return the
# seconds until ReadyForQuery, and the replies.
sub timed_query
{
	my ($sql, %opt) = @_;
	my $c = UsermapProtocol->connect($node, user => 'mallory',
		params => $opt{options} ? { options => $opt{options} } : {});
	my $t0 = time;
	$c->query($sql);
	my @replies = $c->read_until_ready;
	my $elapsed = time - $t0;
	$c->terminate;
	return ($elapsed, @replies);
}

######################################################################
# The 34 MB query

{
	my $sql = 'SELECT mapping ' . (',' x (34 * 1024 * 1024));
	my ($elapsed, @replies) = timed_query($sql);
	my @errors = UsermapProtocol->errors(@replies);
	is_deeply(\@errors, ['ERROR: syntax error at or near ","'],
		'34 MB query: an ordinary syntax error');
	cmp_ok($elapsed, '<', 10, "34 MB query: answered in ${elapsed}s");
}

######################################################################
# Quadratic inputs of the old maskers: they end, and are interruptible

for my $size (640 * 1024, 4 * 1024 * 1024)
{
	my $unit = 'create/*';
	my $sql = 'SELECT mapping ' . ($unit x int($size / length $unit));
	my ($elapsed, @replies) =
	  timed_query($sql, options => '-c statement_timeout=1s');
	like((UsermapProtocol->errors(@replies))[0],
		qr/^ERROR: (syntax error at or near "create"|canceling statement)/,
		"mapping create/*create/* at $size bytes: an error");
	cmp_ok($elapsed, '<', 2,
		"mapping create/*create/* at $size bytes: answered in ${elapsed}s");
}

# cancel and terminate, sent while the client waits for the answer
for my $how ('pg_cancel_backend', 'pg_terminate_backend')
{
	my $c = UsermapProtocol->connect($node, user => 'mallory');
	my $unit = 'create/*';
	$c->query('SELECT mapping '
		  . ($unit x int(4 * 1024 * 1024 / length $unit)));
	usleep(100_000);
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT $how($c->{pid})");
	my @replies = eval { $c->read_until_ready };
	my $elapsed = time - $t0;
	cmp_ok($elapsed, '<', 2, "$how answered within ${elapsed}s");
	$c->terminate if $how eq 'pg_cancel_backend';
}

######################################################################
# Growth

# Each shape: a text of about $n * 8 bytes, to be masked.
my %shapes = (
	long_constant => sub {
		"CREATE USER MAPPING FOR u SERVER s OPTIONS (password '"
		  . ('x' x (8 * $_[0])) . "')";
	},
	many_tokens => sub { 'SELECT mapping ' . (', ' x (4 * $_[0])) },
	deep_comments => sub {
		'SELECT mapping ' . ('/* ' x $_[0]) . ('*/ ' x $_[0]) . '+';
	},
	many_statements => sub {
		"SELECT 'create user mapping for u server s options (password ''p'')';"
		  x int($_[0] / 8);
	},
	many_comments => sub { 'SELECT mapping ' . ('/* c */ ' x $_[0]) . '+' },
	repeated_keywords => sub { 'SELECT mapping ' . ('create/*' x $_[0]) },
	repeated_statements => sub {
		'SELECT mapping ' . ('create user mapping for ' x int($_[0] / 3));
	},
	error_at_end => sub {
		'CREATE USER MAPPING FOR u SERVER s OPTIONS ('
		  . ("o 'v', " x $_[0])
		  . "password 'p' ,,";
	},
	quote_continuations => sub {
		"CREATE USER MAPPING FOR u SERVER s OPTIONS (password 'p') --"
		  . ("'--" x int(8 * $_[0] / 3));
	},
	dollar_tags => sub {
		'DO $redacted$ '
		  . join('', map { "\$redacted$_\$" } 1 .. int($_[0] / 2))
		  . " CREATE USER MAPPING FOR u SERVER s OPTIONS (password 'p') \$redacted\$";
	},
	declared_names => sub {
		"SET usermap.secret_options = '"
		  . join(',', map { "a$_" } 1 .. int($_[0] / 2))
		  . "'; CREATE USER MAPPING FOR u SERVER s OPTIONS ("
		  . join(', ', map { "o$_ 'v'" } 1 .. int($_[0] / 2)) . ')';
	},
	quoted_statements => sub {
		'SELECT ' . ('"create user mapping for x server s options (" ' x
			  int($_[0] / 6));
	},);

# The two paths: a syntax error through the log hook, and the text quoted
# in a statement that runs, through the statement path.
my %paths = (
	log_hook  => sub { "$_[0]\n; SELECT syntax error here" },
	statement => sub { "COMMENT ON TABLE mallory_notes IS \$um\$$_[0]\$um\$" },
);

# The fastest of three runs.
sub best_time
{
	my ($sql, %opt) = @_;
	my $best;
	for (1 .. 5)
	{
		my ($t) = timed_query($sql, %opt);
		$best = $t if !defined $best || $t < $best;
	}
	return $best;
}

my $base = 1000;    # 1x: about 8 kB; 100x: about 800 kB
for my $shape (sort keys %shapes)
{
	for my $path (sort keys %paths)
	{
		my @t = map { best_time($paths{$path}->($shapes{$shape}->($base * $_))) }
		  (1, 10, 100);
		my $ratio = $t[2] / ($t[1] > 0.001 ? $t[1] : 0.001);
		cmp_ok($ratio, '<=', $GROWTH_BOUND,
			sprintf('%s through the %s: 1x %.4fs, 10x %.4fs, 100x %.4fs (100x/10x %.1f)',
				$shape, $path, @t, $ratio));
	}
}

# Many statements that each run, each quoting a secret: every one's
# ExecutorEnd hands pg_stat_statements and auto_explain a masked text
# (this grew with the square of the string before its own review).
{
	my @t = map {
		best_time(
			"SELECT 'create user mapping for u server s options (password ''p'')';"
			  x (int($base / 8) * $_))
	} (1, 10, 100);
	my $ratio = $t[2] / ($t[1] > 0.001 ? $t[1] : 0.001);
	cmp_ok($ratio, '<=', $GROWTH_BOUND,
		sprintf('many statements, each run: 1x %.4fs, 10x %.4fs, 100x %.4fs (100x/10x %.1f)',
			@t, $ratio));
}

# A node dump of many NULL constants (":constvalue <>" has no byte list):
# finding each constant's bytes must not search the rest of the dump
# (this pinned a backend, deaf to cancel, inside the log hook).
{
	my @t = map {
		my $n = 3 * $base / 10 * $_;
		best_time(
			'SET debug_print_parse = on; SET debug_pretty_print = off; SELECT ARRAY['
			  . join(',', ('NULL::int') x $n) . '] IS NULL');
	} (1, 10, 100);
	my $ratio = $t[2] / ($t[1] > 0.001 ? $t[1] : 0.001);
	cmp_ok($ratio, '<=', $GROWTH_BOUND,
		sprintf('NULL constants in a node dump: 1x %.4fs, 10x %.4fs, 100x %.4fs (100x/10x %.1f)',
			@t, $ratio));
}

# Control: the bound catches quadratic growth.  A Perl loop quadratic in
# its input, timed at the same sizes (the fastest of three, as above),
# must break it.
{
	my $quadratic = sub {
		my $n = $_[0] / 4;
		my $best;
		for (1 .. 3)
		{
			my $t0 = time;
			my $x  = 0;
			for my $i (1 .. $n) { $x += $_ for 1 .. $n / 32 }
			my $t = time - $t0;
			$best = $t if !defined $best || $t < $best;
		}
		return $best;
	};
	my @t = map { $quadratic->($base * $_) } (1, 10, 100);
	my $ratio = $t[2] / ($t[1] > 0.001 ? $t[1] : 0.001);
	cmp_ok($ratio, '>', $GROWTH_BOUND,
		sprintf('control: a quadratic loop breaks the bound (100x/10x %.1f)',
			$ratio));
}

######################################################################
# The server survived all of it

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the postmaster never restarted');
my $log = slurp_file($node->logfile, $log_start);
unlike($log, qr/terminated by signal|server process .* was terminated/,
	'no backend died of a signal');

done_testing();
