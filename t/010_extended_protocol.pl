# Copyright (c) 2026, usermap developers
#
# Secret hygiene on every path of the wire protocol, written as the
# attack.  t/006 sends statements through psql (the simple protocol) and
# one through pgbench --protocol=extended, which always sends
# Parse/Bind/Describe/Execute/Sync together; t/009 uses psql's \bind.
# Here a raw protocol client (t/UsermapProtocol.pm) sends the messages in
# orders libpq never produces: Parse and Sync now, Bind and Execute
# later; a named statement executed twice; a simple Query changing
# standard_conforming_strings between Parse and Bind; an unnamed statement
# replaced before it is executed; Describe before Execute; a row limit;
# Bind left without Execute; statements that fail at Parse and at Execute,
# inside and outside a transaction block; a statement waiting for a lock.
#
# Every case carries secrets of its own, umext_<case>_<6 seeded random
# characters>, and its own role regress_ext_<case>, the case's marker.
# Every place README.md ("Secret hygiene") promises to mask is searched
# for each secret: the stderr, csv and json logs, pgaudit's AUDIT lines,
# the pg_stat_statements view and its query-text file, the audit trail,
# current_query() read by an event trigger, the messages the client was
# sent, and pg_stat_activity read from another session while the client
# holds its state (active, waiting, idle, idle in transaction, aborted).
# Where the case's statement must have reached a place, its marker is
# required there too, so that a place that was never written cannot pass.
#
# Controls: one case runs with usermap.redact = off and its secret must be
# found at every point (but the audit trail); README.md's admitted limit
# for Bind without Execute is asserted as README.md states it.
#
# This test first found leaks, since fixed in src/hygiene.c: Bind and
# Sync without Execute (the raw text stayed while idle; now masked when
# the transaction ends); a SELECT and a COMMENT holding a user-mapping
# statement in a string constant, whose text Bind and Execute publish raw
# again (now masked by the ExecutorStart and ExecutorRun hooks, and by the
# masking ProcessUtility hook for every utility statement whose text was
# not found clean); and pg_stat_statements, which was handed such a
# COMMENT unmasked (the masking hook now masks every statement's text that
# quotes a secret).  A TODO mechanism remains for whatever is found next.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
our $TODO;
use UsermapHygiene;
use UsermapProtocol;

my $seed = $ENV{UM_PROTO_SEED} // 20260612;
diag("extended protocol: UM_PROTO_SEED=$seed");

my ($node, $pgaudit) = UsermapHygiene::start_node(
	pgaudit     => 'optional',
	pgaudit_log => 'ddl, role, function',
	conf        => "log_parameter_max_length = -1\n"
	  . "log_parameter_max_length_on_error = -1\n");

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE EXTENSION pg_stat_statements;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;
	-- what an event trigger reads as the current query, for every command
	CREATE TABLE seen (q text);
	CREATE FUNCTION remember() RETURNS event_trigger
	LANGUAGE plpgsql AS $f$BEGIN INSERT INTO seen VALUES (current_query()); END$f$;
	CREATE EVENT TRIGGER remember ON ddl_command_end EXECUTE FUNCTION remember();
});
$node->safe_psql('postgres', 'CREATE EXTENSION pgaudit') if $pgaudit;

my $observer = $node->background_psql('postgres');

######################################################################
# Cases

my @alnum = ('a' .. 'z', '0' .. '9');
my @cases;
my $ncase = 0;

# A new case: its role (with a mapping holding no secret, for ALTER) and
# a generator of its secrets.  "expect" lists the points its marker must
# reach: log (every format), pgss (view and file), audit, evtrig, pgaudit.
sub new_case
{
	my ($name, @expect) = @_;
	my $case = {
		name    => $name,
		role    => "regress_ext_$name",
		secrets => [],
		snaps   => [],
		expect  => { map { $_ => 1 } @expect },
	};
	srand($seed + ++$ncase);
	$node->safe_psql('postgres',
		"CREATE ROLE $case->{role}; CREATE USER MAPPING FOR $case->{role} SERVER s OPTIONS (user 'setup')"
	);
	push @cases, $case;
	return $case;
}

sub secret
{
	my ($case) = @_;
	my $s = "umext_$case->{name}_" . join('', map { $alnum[ int(rand(36)) ] } 1 .. 6);
	push @{ $case->{secrets} }, $s;
	return $s;
}

# pg_stat_activity of the client, read from another session now; kept
# with the state it must be in.
sub snap
{
	my ($case, $c, $label, $state) = @_;
	my $row = $observer->query_safe(
		"SELECT coalesce(state, '') || ': ' || coalesce(query, '') FROM pg_stat_activity WHERE pid = $c->{pid}"
	);
	push @{ $case->{snaps} }, [ $label, $state, $row ];
	return $row;
}

# Send a batch ending in Sync and read the replies; return the errors.
sub synced
{
	my ($c) = @_;
	$c->sync;
	return UsermapProtocol->errors($c->read_until_ready);
}

sub simple
{
	my ($c, $sql) = @_;
	$c->query($sql);
	return UsermapProtocol->errors($c->read_until_ready);
}

my @all = qw(log pgss audit evtrig pgaudit);
my ($case, $c, $r);

# Every client connected, for the messages it was sent.
my @clients;

sub client
{
	my $c = UsermapProtocol->connect($node, @_);
	push @clients, $c;
	return $c;
}

# Parse/Bind/Execute/Sync, as drivers send it.
$case = new_case('pbes', @all);
$c    = client();
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'pbes: Parse/Bind/Execute/Sync succeeds');
snap($case, $c, 'idle after Sync', 'idle');

# Parse and Sync now; Bind, Execute and Sync in a later batch.
$case = new_case('parse_first', @all);
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
is(join(',', synced($c)), '', 'parse_first: Parse/Sync succeeds');
snap($case, $c, 'idle after Parse/Sync', 'idle');
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'parse_first: a later Bind/Execute/Sync succeeds');
snap($case, $c, 'idle after Bind/Execute/Sync', 'idle');

# A named statement, bound and executed twice, then closed.
$case = new_case('named', @all);
$c->parse('um_named',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD sslpassword '"
	  . secret($case)
	  . "')");
is(join(',', synced($c)), '', 'named: Parse of a named statement succeeds');
$c->bind('', 'um_named');
$c->execute('');
is(join(',', synced($c)), '', 'named: first execution succeeds');
snap($case, $c, 'idle after the first execution', 'idle');
$c->bind('um_portal', 'um_named');
$c->describe('P', 'um_portal');
$c->execute('um_portal');
like(join(',', synced($c)), qr/already exists|provided more than once/,
	'named: second execution fails (the option is there)');
snap($case, $c, 'idle after the second execution', 'idle');
$c->close('S', 'um_named');
is(join(',', synced($c)), '', 'named: Close succeeds');
$c->terminate;

# 19 refuses standard_conforming_strings = off ("Force
# standard_conforming_strings to always be ON"), from a SET and from the
# startup packet alike, so no text is ever lexed with it off and the two
# cases below cannot arise; the refusal itself is checked instead.
if ($node->pg_version->major >= 19)    # 19rc1 compares below 19
{
	$c = client();
	like(join(',', simple($c, 'SET standard_conforming_strings = off')),
		qr/non-standard string literals are not supported/,
		'19: SET standard_conforming_strings = off is refused');
	$c->terminate;
}
else
{
	# standard_conforming_strings changed by a simple Query between Parse and
	# Bind: the server lexed the text at Parse, and runs that parse tree.
	# (A named statement: a simple Query drops the unnamed one.)
	# Read with standard_conforming_strings on, 'a\' is sslcert and the secret
	# is in the password; read with it off, the secret is an option's name.
	$case = new_case('scs_on', @all);
	$c    = client();
	$c->parse('um_scs',
		    "ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD sslcert 'a\\', ADD password ', ADD "
		  . secret($case)
		  . " ', ADD sslpassword ')--')");
	is(join(',', synced($c)), '', 'scs_on: Parse under standard_conforming_strings on');
	simple($c, 'SET standard_conforming_strings = off');
	$c->bind('', 'um_scs');
	$c->execute('');
	is(join(',', synced($c)), '',
		'scs_on: Bind/Execute under standard_conforming_strings off succeeds');
	snap($case, $c, 'idle after Execute under off', 'idle');
	simple($c, 'SET standard_conforming_strings = on');
	snap($case, $c, 'idle after the setting is back', 'idle');
	$c->terminate;

	# The other way round, in a backend that never lexed under "on" before:
	# the startup packet turns it off.  Read with it off, the secret is in the
	# password; with it on, it is an option's name.
	$case = new_case('scs_off', @all);
	$c    = client(
		params => { options => '-c standard_conforming_strings=off -c escape_string_warning=off' });
	$c->parse('um_scs',
		    "ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD sslcert 'a\\', ADD sslkey ', ADD password ', ADD "
		  . secret($case)
		  . " ', ADD sslpassword ')--')");
	is(join(',', synced($c)), '', 'scs_off: Parse under standard_conforming_strings off');
	simple($c, 'SET standard_conforming_strings = on');
	$c->bind('', 'um_scs');
	$c->execute('');
	is(join(',', synced($c)), '',
		'scs_off: Bind/Execute under standard_conforming_strings on succeeds');
	snap($case, $c, 'idle after Execute under on', 'idle');
	$c->terminate;
}

# An escape-string secret holding an escaped quote.
$case = new_case('escape', @all);
$c    = client();
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password E'"
	  . secret($case)
	  . "\\'b')");
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', "escape: a secret E'a\\'b' succeeds");
snap($case, $c, 'idle', 'idle');

# The unnamed statement replaced by another Parse before it is executed.
$case = new_case('replaced', @all);
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD sslpassword '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'replaced: the second Parse is executed');
snap($case, $c, 'idle', 'idle');

# Describe of the statement and of the portal before Execute, and a row
# limit on a DO block (which returns no rows: it completes).
$case = new_case('describe', @all);
$c->parse('',
	"DO \$\$BEGIN EXECUTE 'ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password ''"
	  . secret($case)
	  . "'')'; END\$\$");
$c->describe('S', '');
$c->bind('', '');
$c->describe('P', '');
$c->execute('', 1);
is(join(',', synced($c)), '', 'describe: Describe twice, Execute with a row limit');
snap($case, $c, 'idle', 'idle');

# Failing at Execute: no such server, and the validator.
$case = new_case('no_server', 'log');
$c->parse('',
	"CREATE USER MAPPING FOR $case->{role} SERVER um_no_such_server OPTIONS (password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
like(join(',', synced($c)), qr/server "um_no_such_server" does not exist/,
	'no_server: Execute fails');
snap($case, $c, 'idle after the error', 'idle');

$case = new_case('validator', 'log');
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case)
	  . "', ADD nonsense 'x')");
$c->bind('', '');
$c->execute('');
like(join(',', synced($c)), qr/invalid option "nonsense"/,
	'validator: Execute fails');
snap($case, $c, 'idle after the error', 'idle');

# Failing at Parse: an unterminated constant holding the secret.
$case = new_case('unterminated', 'log');
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD user 'u', ADD password '"
	  . secret($case)
	  . ")");
$c->bind('', '');
$c->execute('');
like(join(',', synced($c)), qr/unterminated quoted string at or near "\*{8}"/,
	'unterminated: Parse fails, and the error quotes no secret');
snap($case, $c, 'idle after the syntax error', 'idle');

# In a transaction block opened by a simple Query: idle in transaction,
# then idle in an aborted one.
$case = new_case('in_txn', @all);
simple($c, 'BEGIN');
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'in_txn: Execute in a transaction block');
snap($case, $c, 'idle in transaction', 'idle in transaction');
simple($c, 'COMMIT');

$case = new_case('in_txn_error', 'log');
simple($c, 'BEGIN');
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER um_no_such_server OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
like(join(',', synced($c)), qr/does not exist/,
	'in_txn_error: Execute fails in a transaction block');
snap($case, $c, 'idle in an aborted transaction',
	'idle in transaction (aborted)');
simple($c, 'ROLLBACK');
$c->terminate;

# Waiting for a lock: another session changes the same mapping and holds
# its lock; the client's statement runs (active, waiting) meanwhile.
$case = new_case('waiting', @all);
$c    = client();
my $holder = $node->background_psql('postgres');
$holder->query_safe(
	"BEGIN; ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (SET user 'held')"
);
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->execute('');
$c->sync;
ok( $node->poll_query_until(
		'postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $c->{pid}"
	),
	'waiting: the statement waits for a lock');
snap($case, $c, 'waiting for a lock', 'active');
$holder->query_safe('COMMIT');
$holder->quit;
is(join(',', UsermapProtocol->errors($c->read_until_ready)),
	'', 'waiting: the statement completes');
snap($case, $c, 'idle after the wait', 'idle');

# Bind without Execute.  README.md ("What cannot be masked"): "Bind
# publishes the prepared statement's raw text in pg_stat_activity again,
# and no hook runs until Execute, so a client that binds and then waits
# leaves the text there until it executes".  That is asserted as stated,
# and that Execute masks it.
$case = new_case('bind_wait', @all);
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
$c->flush;
$c->read_until('2', 'E');
$r = snap($case, $c, 'after Bind, before Execute (admitted)', 'active');
$case->{snaps}[-1][3] = 'admitted';
like($r, qr/\Q$case->{secrets}[0]\E/,
	'bind_wait: between Bind and Execute pg_stat_activity shows the raw text, as README.md admits'
);
$c->execute('');
$c->flush;
$c->read_until('C', 'E');
snap($case, $c, 'after Execute, before Sync', 'active');
is(join(',', synced($c)), '', 'bind_wait: Execute and Sync succeed');
snap($case, $c, 'idle after Sync', 'idle');

# Bind, then Sync without Execute: the portal is dropped unexecuted, and
# the end of the transaction masks the text Bind published.
$case = new_case('bind_sync');
$c->parse('',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
$c->bind('', '');
is(join(',', synced($c)), '', 'bind_sync: Parse/Bind/Sync without Execute');
snap($case, $c, 'idle after Bind/Sync, never executed', 'idle');

# A statement in a string constant of a SELECT, masked through the simple
# protocol (post_parse_analyze_hook publishes the masked text).  Through the
# extended protocol Bind and Execute publish the raw text again; the
# ExecutorStart hook (which a SELECT's Bind runs) and the ExecutorRun hook
# (each Execute) mask it.  A row limit leaves the portal suspended between
# two Executes.
$case = new_case('select_constant', 'log');
my $select =
  "SELECT g FROM generate_series(1, 3) g WHERE 'ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (SET password ''%s'')' <> ''";
is(join(',', simple($c, sprintf($select, secret($case)))), '',
	'select_constant: through the simple protocol');
snap($case, $c, 'idle after the simple Query', 'idle');
$c->parse('', sprintf($select, secret($case)));
$c->bind('', '');
$c->execute('', 1);
$c->flush;
is(join(',', map { $_->{type} } $c->read_until('s', 'C', 'E')), '1,2,D,s',
	'select_constant: Execute with a row limit suspends the portal');
snap($case, $c, 'portal suspended', 'active');
$c->execute('');
is(join(',', synced($c)), '', 'select_constant: the rest of the portal');
snap($case, $c, 'idle after Execute', 'idle');
$c->terminate;

# A statement in a string constant of a COMMENT, a utility statement that
# is no user-mapping statement: the masking hook masks its text for the
# libraries below it, and after Execute republished the raw text, what
# current_query() reads (with track_activities off, nothing else would)
# and pg_stat_activity (with event triggers off, session_replication_role
# = replica, which also stops pgaudit's, no other statement's parse
# analysis masks it by the way).
$case = new_case('comment_constant', 'log', 'pgss', 'evtrig', 'pgaudit');
my $comment =
  "COMMENT ON SERVER s IS 'ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (SET password ''%s'')'";
$c = client();
simple($c, 'SET track_activities = off');
$c->parse('', sprintf($comment, secret($case)));
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'comment_constant: with track_activities off');
simple($c, 'SET track_activities = on; SET session_replication_role = replica');
$c->parse('', sprintf($comment, secret($case)));
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'comment_constant: with event triggers off');
snap($case, $c, 'idle, event triggers off', 'idle');
$c->terminate;

# Execute copies its portal's text into the message's memory, so after a
# clean Execute the next one's text lands at the same address: what was
# found clean in one message says nothing of the next (found by review).
# A statement prepared earlier, executed after an unnamed SELECT 1 in the
# same transaction: idle in transaction afterwards; in one pipeline,
# waiting for a lock; and with track_activities off, the event trigger's
# current_query().
$case = new_case('after_clean_execute', @all);
$c = client();
$c->parse('um_later',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
is(join(',', synced($c)), '', 'after_clean_execute: Parse');
simple($c, 'BEGIN');
$c->parse('', 'SELECT 1');
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'after_clean_execute: a clean Execute');
$c->bind('', 'um_later');
$c->execute('');
is(join(',', synced($c)), '', 'after_clean_execute: then the prepared one');
snap($case, $c, 'idle in transaction after both', 'idle in transaction');
simple($c, 'COMMIT');

$case = new_case('after_clean_execute_waiting', @all);
$c->parse('um_later_w',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
is(join(',', synced($c)), '', 'after_clean_execute_waiting: Parse');
$holder = $node->background_psql('postgres');
$holder->query_safe(
	"BEGIN; ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (SET user 'held')"
);
$c->parse('', 'SELECT 1');
$c->bind('', '');
$c->execute('');
$c->bind('', 'um_later_w');
$c->execute('');
$c->sync;
ok( $node->poll_query_until(
		'postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $c->{pid}"
	),
	'after_clean_execute_waiting: the second Execute waits for a lock');
snap($case, $c, 'waiting, after a clean Execute', 'active');
$holder->query_safe('COMMIT');
$holder->quit;
is(join(',', UsermapProtocol->errors($c->read_until_ready)),
	'', 'after_clean_execute_waiting: the pipeline completes');

$case = new_case('after_clean_execute_evtrig', 'log', 'pgss', 'audit', 'evtrig', 'pgaudit');
simple($c, 'SET track_activities = off');
$c->parse('um_later_e',
	"ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD password '"
	  . secret($case) . "')");
is(join(',', synced($c)), '', 'after_clean_execute_evtrig: Parse');
simple($c, 'BEGIN');
$c->parse('', 'SELECT 1');
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'after_clean_execute_evtrig: a clean Execute');
$c->bind('', 'um_later_e');
$c->execute('');
is(join(',', synced($c)), '', 'after_clean_execute_evtrig: then the prepared one');
simple($c, 'COMMIT');
$c->terminate;

# The control: usermap.redact off (a superuser setting) in the client's
# session.  The secret must then be found at every point but the audit
# trail, which is masked regardless: the search would find a leak.
$case = new_case('control', @all);
$case->{control} = 1;
$c = client();
simple($c, 'SET usermap.redact = off');
# A DO block: pgaudit itself writes <REDACTED> for the options of a
# user-mapping statement, but logs a DO block (class FUNCTION) as it is.
$c->parse('',
	"DO \$\$BEGIN EXECUTE 'ALTER USER MAPPING FOR $case->{role} SERVER s OPTIONS (ADD sslpassword ''"
	  . secret($case)
	  . "'')'; END\$\$");
$c->bind('', '');
$c->execute('');
is(join(',', synced($c)), '', 'control: with usermap.redact off, the statement runs');
snap($case, $c, 'idle', 'idle');
$c->terminate;

######################################################################
# What was kept

my %text = UsermapHygiene::kept_texts($node, sub { $observer->quit });
ok(length($text{log_csv} // '') && length($text{log_json} // ''),
	'csvlog and jsonlog files exist');
like(
	$text{log_stderr},
	qr/LOG:  execute <unnamed>: ALTER USER MAPPING FOR regress_ext_pbes SERVER s OPTIONS \(ADD password '\*{8}'\)/,
	'log_statement logs Execute, masked');
$text{pgaudit} = join("\n", grep { /AUDIT: / } split /\n/, $text{log_stderr});
$text{client} = join('', map { $_->{client_text} } @clients);

# The points, and the expectation that names each.
my %expects = (
	log_stderr => 'log',
	log_csv    => 'log',
	log_json   => 'log',
	pgss_view  => 'pgss',
	pgss_file  => 'pgss',
	audit      => 'audit',
	evtrig     => 'evtrig',
	pgaudit    => 'pgaudit',
	client     => 'client');
my @points = sort keys %expects;
@points = grep { $_ ne 'pgaudit' } @points unless $pgaudit;

for my $case (@cases)
{
	my $name = $case->{name};
	for my $point (@points)
	{
		my $want = $case->{expect}{ $expects{$point} };
		my @found = grep { index($text{$point}, $_) >= 0 } @{ $case->{secrets} };
		if ($case->{control})
		{
			next if $point eq 'client';
			if ($point eq 'audit')
			{
				is("@found", '',
					"control: the audit trail is masked with usermap.redact off");
			}
			else
			{
				is( scalar(@found),
					1,
					"control: with usermap.redact off, the secret is in $point");
			}
			next;
		}
		{
			local $TODO = $case->{todo}{$point};
			is("@found", '', "$name: no secret in $point");
		}
		ok(index($text{$point}, $case->{role}) >= 0,
			"$name: the statement reached $point")
		  if $want;
	}
	for my $s (@{ $case->{snaps} })
	{
		my ($label, $state, $row, $admitted) = @$s;
		my @found = grep { index($row, $_) >= 0 } @{ $case->{secrets} };
		like($row, qr/^\Q$state\E: /, "$name: pg_stat_activity $label: $state");
		next if ($admitted // '') eq 'admitted';
		local $TODO = $1 if ($admitted // '') =~ /^todo: (.*)/s;
		if ($case->{control})
		{
			is(scalar(@found), 1,
				"control: with usermap.redact off, the secret is in pg_stat_activity $label"
			);
			next;
		}
		is("@found", '', "$name: no secret in pg_stat_activity $label")
		  or diag("pg_stat_activity showed: $row");
	}
}

done_testing();
