# Copyright (c) 2026, usermap developers
#
# No secret given in a user-mapping statement reaches the server log (in
# any format), pg_stat_statements, pg_stat_activity or the audit trail.
#
# Every statement in the battery below carries a secret of its own, a
# string that occurs nowhere else; afterwards every place the server
# writes statement text is searched for each of them.  The battery runs
# statements that succeed and that fail (duplicate, bad option, permission
# denied, syntax error, aborted transaction), plain, several to a query
# string, inside a transaction, and from DO blocks and functions.  A last
# statement run with usermap.redact off shows that the search finds a
# secret when there is one.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use UsermapHygiene;

my ($node) = UsermapHygiene::start_node();

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE EXTENSION pg_stat_statements;
	CREATE EXTENSION pgaudit;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;
	CREATE ROLE regress_bob;
	CREATE ROLE regress_alice;
	CREATE ROLE regress_carol;
	-- what an event trigger reads as the current query
	CREATE TABLE seen (q text);
	CREATE FUNCTION remember() RETURNS event_trigger
	LANGUAGE plpgsql AS $f$BEGIN INSERT INTO seen VALUES (current_query()); END$f$;
	CREATE EVENT TRIGGER remember ON ddl_command_end
	  WHEN TAG IN ('CREATE USER MAPPING', 'ALTER USER MAPPING')
	  EXECUTE FUNCTION remember();
	CREATE FUNCTION rotate(role name, fail boolean) RETURNS void
	LANGUAGE plpgsql AS $f$
	BEGIN
		-- the secret is built here, so no statement text holds it but
		-- the one EXECUTE runs
		EXECUTE format('ALTER USER MAPPING FOR %I SERVER s OPTIONS (SET password %L)',
					   role, 'umsecret_' || CASE WHEN fail THEN 'fn_fail' ELSE 'fn_ok' END);
	END
	$f$;
});

my @secrets;

# Run SQL through psql; return its stderr.  The secrets it names are added
# to the list searched for later.  psql sends each statement on its own,
# except where "\;" joins them into one query string.
sub run
{
	my ($sql, @names) = @_;
	push @secrets, map { "umsecret_$_" } @names;
	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', $sql, on_error_stop => 0);
	return $stderr;
}

# succeeding and failing, plain
like(
	run(
		q{CREATE USER MAPPING FOR regress_bob SERVER s OPTIONS (user 'bob', password 'umsecret_create')},
		'create'),
	qr/^$/,
	'CREATE succeeds');
like(
	run(
		q{CREATE USER MAPPING FOR regress_bob SERVER s OPTIONS (user 'bob', password 'umsecret_duplicate')},
		'duplicate'),
	qr/already exists/,
	'duplicate CREATE fails');
like(
	run(
		q{ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password 'umsecret_alter')},
		'alter'),
	qr/^$/,
	'ALTER succeeds');
like(
	run(
		q{ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (ADD sslpassword 'umsecret_badopt', ADD nonsense 'x')},
		'badopt'),
	qr/invalid option "nonsense"/,
	'ALTER with an option the validator rejects fails');
like(
	run(
		q{SET ROLE regress_carol \; CREATE USER MAPPING FOR regress_carol SERVER s OPTIONS (password 'umsecret_denied')},
		'denied'),
	qr/permission denied/,
	'CREATE without USAGE fails, in a query string with another statement');
like(
	run(
		q{CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (user 'alice', password 'umsecret_syntax'},
		'syntax'),
	qr/syntax error/,
	'a syntax error fails');

# Syntax errors quote the text at the error position, to the end of it
# for an unterminated constant; what they quote of a masked statement is
# masked, for the client as in the log.
my $stderr = run(
	q{CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (user 'alice', password 'umsecret_unterminated)},
	'unterminated');
like($stderr, qr/unterminated quoted string at or near "\*{8}"/,
	'an unterminated constant: the error quotes no secret');
$stderr = run(
	q{CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (password umsecret_bare)},
	'bare');
like($stderr, qr/syntax error at or near "\*{8}"/,
	'a value without quotes: the error quotes no secret');
$stderr = run(
	q{DO $$BEGIN EXECUTE 'CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (password umsecret_inner_bare)'; END$$},
	'inner_bare');
like($stderr, qr/syntax error at or near "\*{8}"/,
	'the same in a statement EXECUTE runs: the error quotes no secret');
like(
	run(
		q{SELEC 1 \; CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (password 'umsecret_other_error')},
		'other_error'),
	qr/syntax error at or near "SELEC"/,
	'an error before anything masked quotes the text as the server does');

# several to a query string, quoting forms, transactions
like(
	run(
		q{CREATE USER MAPPING FOR regress_alice SERVER s OPTIONS (password E'umsecret_multi1\\x41') \; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET "password" $pw$umsecret_multi2$pw$) \; SELECT 1},
		'multi1', 'multi2'),
	qr/^$/,
	'several statements in one query string succeed');
like(
	run(
		q{BEGIN; SELECT 1/0; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_aborted'); COMMIT},
		'aborted'),
	qr/current transaction is aborted/,
	'a statement in an aborted transaction fails');
like(
	run(
		q{BEGIN; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_rolledback'); ROLLBACK},
		'rolledback'),
	qr/^$/,
	'a statement rolled back');

# Settings changed earlier in the same query string: the server lexed the
# whole string before the SET ran, under the settings of that moment:
# 'a\' is the value of sslcert, and the password is ", ADD umsecret_scs_off ".
# Read with standard_conforming_strings off, the same text is a valid
# statement too, in which umsecret_scs_off is the name of an option and
# "--')" a comment.  19 refuses standard_conforming_strings = off ("Force
# standard_conforming_strings to always be ON"): there the SET fails, and
# the logged text, read as 19 reads it, must still hide the password.
# (major: 19rc1 compares below 19 as a version)
my $scs_always_on = $node->pg_version->major >= 19;
my $scs_ok =
  $scs_always_on
  ? qr/non-standard string literals are not supported/
  : qr/^$/;
like(
	run(
		q{SET standard_conforming_strings = off \; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (ADD sslcert 'a\', SET password ', ADD umsecret_scs_off ', ADD sslpassword ')--')},
		'scs_off'),
	$scs_ok,
	'a statement after SET standard_conforming_strings = off in its query string succeeds (19: the SET fails)'
);
like(
	run(
		q{SET usermap.secret_options = 'user' \; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_list_changed')},
		'list_changed'),
	qr/^$/,
	'a statement after SET usermap.secret_options in its query string succeeds'
);
like(
	run(
		q{DO $$BEGIN SET LOCAL standard_conforming_strings = off; SET LOCAL escape_string_warning = off; EXECUTE $e$ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (ADD sslkey 'a\\\\', SET password 'umsecret_do_local')$e$; END$$},
		'do_local'),
	$scs_ok,
	'EXECUTE after SET LOCAL in a DO block succeeds (19: the SET LOCAL fails)');

# debug_print_parse, _rewritten and _plan log the parse tree, every option
# value in it
like(
	run(
		q{SET debug_print_parse = on \; SET debug_print_rewritten = on \; SET debug_print_plan = on \; ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_debug_print') \; DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password ''umsecret_debug_do'')'; END$$},
		'debug_print', 'debug_do'),
	qr/^$/,
	'statements whose parse trees are logged succeed');

# Found by review: a secret whose literal also reads as the stretch between
# two other literals must not be masked in the wrong place.
run(q{CREATE ROLE regress_frank; CREATE ROLE regress_gina});
like(
	run(q{CREATE USER MAPPING FOR regress_frank SERVER s OPTIONS (user 'x', password ', password ')}),
	qr/^$/,
	'a secret that reads like the text between two literals: CREATE succeeds');

# A DO block that turns standard_conforming_strings off for the statement it
# runs: the block's text is logged and counted before the SET runs, and
# must be read both ways.  On 19, which lexes every text with the setting
# on, the only reading of that statement has "umsecret_do_scs" in a
# comment, not a password: no secret there, and the SET LOCAL fails.
like(
	run(
		q{DO $d$ BEGIN SET LOCAL standard_conforming_strings = off; SET LOCAL escape_string_warning = off; EXECUTE $x$CREATE USER MAPPING FOR regress_gina SERVER s OPTIONS (user 'a\' -- ', password 'umsecret_do_scs' --
)$x$; END $d$},
		$scs_always_on ? () : 'do_scs'),
	$scs_ok,
	'a DO block that sets standard_conforming_strings off before its statement succeeds (19: the SET LOCAL fails)'
);

# A parse tree logged without pretty printing, the secret holding a
# carriage return, which outToken() does not escape.
like(
	run(
		q{SET debug_print_parse = on \; SET debug_pretty_print = off \; ALTER USER MAPPING FOR regress_frank SERVER s OPTIONS (ADD sslpassword E'umsecret_cr\rafter')},
		'cr'),
	qr/^$/,
	'a statement whose secret holds a carriage return runs with debug_print_parse');

# An error in another statement of the query string quotes its own text as
# the server wrote it.
like(
	run(
		q{SELECT 1 \; CREATE USER MAPPING IF NOT EXISTS FOR regress_bob SERVER s OPTIONS (password 'umsecret_typeerr') \; SELECT 1::nosuchtype},
		'typeerr'),
	qr/type "nosuchtype" does not exist/,
	'an error in another statement of the string quotes its text as core does');

# duration logging prints the statement where statement logging did not
like(
	run(
		qq{SET log_statement = none;\nALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_duration');},
		'duration'),
	qr/^$/,
	'a statement logged with its duration');

# DO blocks and functions
like(
	run(
		q{DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password ''umsecret_do_ok'')'; END$$},
		'do_ok'),
	qr/^$/,
	'EXECUTE in a DO block succeeds');
like(
	run(
		q{DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR regress_carol SERVER s OPTIONS (SET password ''umsecret_do_fail'')'; END$$},
		'do_fail'),
	qr/does not exist.*\n.*CONTEXT:\s+SQL statement "ALTER USER MAPPING FOR regress_carol SERVER s OPTIONS \(SET password '\*{8}'\)"/,
	'EXECUTE in a DO block fails, and the error context the client gets is masked'
);
like(
	run(
		q{DO $$BEGIN ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password 'umsecret_do_static'); END$$},
		'do_static'),
	qr/^$/,
	'a statement written into a DO block succeeds');
like(run(q{SELECT rotate('regress_bob', false)}, 'fn_ok'),
	qr/^$/, 'EXECUTE in a function succeeds');
like(
	run(q{SELECT rotate('regress_carol', true)}, 'fn_fail'),
	qr/does not exist/,
	'EXECUTE in a function fails');

# The extended protocol: Bind publishes the statement's text again and
# points debug_query_string at it, and no parse analysis runs before
# Execute.  With track_activities off, nothing but the masking hook masks
# what current_query() returns to the event trigger.
push @secrets, 'umsecret_extended';
$node->pgbench(
	'--no-vacuum --client=1 --transactions=1 --protocol=extended',
	0,
	[qr{processed: 1/1}],
	[],
	'a statement through the extended protocol, with track_activities off',
	{
		'006_extended' => q{SET track_activities = off;
ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS (SET password 'umsecret_extended');
}
	});

# pg_stat_activity, read from another session: while the statement runs
# (waiting for a lock), and while its session is idle afterwards.
my $holder = $node->background_psql('postgres');
my $victim = $node->background_psql('postgres', on_error_stop => 0);
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
push @secrets, map { "umsecret_$_" } qw(waiting idle idle_syntax idle_do);

$holder->query_safe(
	q{BEGIN; ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET user 'held')}
);
$victim->{stdin} .=
  qq{ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password 'umsecret_waiting');\n};
$victim->{run}->pump_nb;
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $victim_pid}
	),
	'the statement waits for a lock');
my $activity = $node->safe_psql('postgres',
	"SELECT state || ': ' || query FROM pg_stat_activity WHERE pid = $victim_pid"
);
like(
	$activity,
	qr/^active: ALTER USER MAPPING .* \(SET password '\*{8}'\)/,
	'pg_stat_activity masks a running statement');
$holder->query_safe('COMMIT');
$holder->quit;

# let the waiting statement finish, then go idle after each statement
$victim->query_safe('SELECT 1');
for my $case (
	[
		q{ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password 'umsecret_idle')},
		q{ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password '********')},
		'after a statement'
	],
	[
		# a statement that does not parse is masked from its option list
		q{CREATE USER MAPPING FOR regress_bob SERVER s OPTIONS (password 'umsecret_idle_syntax') junk},
		q{CREATE USER MAPPING FOR regress_bob SERVER s OPTIONS ('********'},
		'after a syntax error'
	],
	[
		q{DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password ''umsecret_idle_do'')'; END$$},
		q{DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password ''********'')'; END$$},
		'after a DO block'
	])
{
	my ($sql, $masked, $what) = @$case;
	$victim->query($sql);
	$activity = $node->safe_psql('postgres',
		"SELECT state || ': ' || query FROM pg_stat_activity WHERE pid = $victim_pid"
	);
	# BackgroundPsql sends the statement with a line holding ";" after it
	like(
		$activity,
		qr/^idle: \Q$masked\E(\n;)?$/,
		"pg_stat_activity masks the query of an idle session $what");
}
$victim->quit;

# Grouping otherwise follows core's query ids.  From 16 on they are a
# jumble of the parse tree, so spelling (case, spaces) does not split an
# entry; in 15 they hash the text, and it does.  A non-secret value splits
# an entry on every major.
push @secrets, 'umsecret_g0', 'umsecret_g1', 'umsecret_g2';
$node->safe_psql(
	'postgres', q{
	CREATE ROLE regress_dave;
	CREATE USER MAPPING FOR regress_dave SERVER s OPTIONS (password 'umsecret_g0', user 'g0');
	ALTER USER MAPPING FOR regress_dave SERVER s OPTIONS (SET password 'umsecret_g1');
	alter  user mapping  for regress_dave server s options (set password 'umsecret_g2');
	ALTER USER MAPPING FOR regress_dave SERVER s OPTIONS (SET user 'g1');
	ALTER USER MAPPING FOR regress_dave SERVER s OPTIONS (SET user 'g2');
});
is( $node->safe_psql(
		'postgres', q{
	SELECT string_agg(query, E'\n') FROM pg_stat_statements WHERE query ~ 'regress_frank SERVER s OPTIONS \(user'}),
	q{CREATE USER MAPPING FOR regress_frank SERVER s OPTIONS (user 'x', password '********')},
	'pg_stat_statements masks that secret where it is, and nothing else');
my $dave_entries = $node->safe_psql(
	'postgres', q{
	SELECT string_agg(calls::text, ',' ORDER BY calls) FROM pg_stat_statements
	 WHERE toplevel AND query ILIKE 'alter %regress_dave%password%'});
is($dave_entries, $node->pg_version >= 16 ? '2' : '1,1',
	'statements differing in spelling and secret are grouped as core groups them');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM pg_stat_statements
	 WHERE toplevel AND query ~ '^ALTER USER MAPPING FOR regress_dave SERVER s OPTIONS \(SET user'}),
	'2',
	'statements differing in a non-secret value keep their own entries');

# What other libraries and the audit trail kept
my $pgss = $node->safe_psql('postgres',
	q{SELECT string_agg(query, E'\n') FROM pg_stat_statements});
my $audit = $node->safe_psql('postgres',
	q{SELECT string_agg(statement, E'\n') FROM usermap.audit_log});
my $seen = $node->safe_psql('postgres', q{SELECT string_agg(q, E'\n') FROM seen});
like(
	$seen,
	qr/^ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS \(SET password '\*{8}'\)$/m,
	'current_query() in an event trigger reads the masked statement');
like(
	$pgss,
	qr/^ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS \(SET password '\*{8}'\)$/m,
	'pg_stat_statements counts the statements, masked');
like(
	$pgss,
	qr/^DO \$\$BEGIN EXECUTE 'ALTER USER MAPPING .*''\*{8}''\)'; END\$\$$/m,
	'pg_stat_statements counts DO blocks, masked');
# Three top-level statements ('alter', 'waiting' and 'idle') that differ
# only in the secret: core would give each its own query id, from its text.
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) || ' entry, ' || sum(calls) || ' calls' FROM pg_stat_statements
	 WHERE toplevel
	   AND query = 'ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password ''********'')'}
	),
	'1 entry, 3 calls',
	'statements that differ only in the secret share one entry (and query id)'
);
like(
	$audit,
	qr/^ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS \(SET password '\*{8}'\)$/m,
	'the audit trail records the statements, masked');

# A parallel worker publishes its leader's whole query string in its own
# pg_stat_activity row; usermap's ExecutorStart hook, which runs in the
# worker too, masks it there.  The control: with usermap.redact off in the
# leader's session (its workers inherit its settings) the row shows the
# secret, so the row read is the worker's.
my $parallel_guc =
  $node->pg_version >= 16 ? 'debug_parallel_query' : 'force_parallel_mode';
for my $redact ('on', 'off')
{
	my $secret = "umsecret_parallel_$redact";
	push @secrets, $secret if $redact eq 'on';
	my $leader = $node->background_psql('postgres');
	$leader->query_safe("SET $parallel_guc = on");
	$leader->query_safe("SET usermap.redact = $redact");
	# "\;" keeps the statements one query string
	$leader->{stdin} .=
	  "ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password '$secret') \\; SELECT pg_sleep(3);\n";
	$leader->{run}->pump_nb;
	ok( $node->poll_query_until(
			'postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE backend_type = 'parallel worker' AND query LIKE '%pg_sleep%'}
		),
		"a parallel worker runs the leader's query (usermap.redact $redact)");
	my $row = $node->safe_psql(
		'postgres', q{
	SELECT query FROM pg_stat_activity
	WHERE backend_type = 'parallel worker' AND query LIKE '%pg_sleep%'});
	if ($redact eq 'on')
	{
		like(
			$row,
			qr/^ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS \(SET password '\*{8}'\) ; SELECT pg_sleep\(3\);?$/,
			"a parallel worker's pg_stat_activity row is masked");
	}
	else
	{
		like($row, qr/\Q$secret\E/,
			"control: with usermap.redact off the worker's row shows the secret");
	}
	$leader->quit;
}

# The control: with usermap.redact off, the secret is written out, which
# shows that the search below would find a leak.  The audit trail is masked
# even then.  Two queries, so that the second one's "statement:" line is
# written after redaction went off.
run(
	q{SET usermap.redact = off; ALTER USER MAPPING FOR regress_bob SERVER s OPTIONS (SET password 'umsecret_control')}
);
unlike(
	$node->safe_psql(
		'postgres', q{SELECT string_agg(statement, E'\n') FROM usermap.audit_log}
	),
	qr/umsecret_control/,
	'the audit trail is masked with usermap.redact off');

# The server log: every file, every format, complete once the server is
# down.
$node->stop;
my $logdir = $node->data_dir . '/log';
my @logfiles = ($node->logfile, glob("$logdir/*"));
ok(scalar(grep { /\.csv$/ } @logfiles) && scalar(grep { /\.json$/ } @logfiles),
	'csvlog and jsonlog files exist');
my %log;
$log{$_} = slurp_file($_) for @logfiles;
my $all_logs = join('', values %log);

is(scalar(grep { index($log{$_}, 'umsecret_control') >= 0 } keys %log),
	3, 'with usermap.redact off, the secret is in the stderr, csv and json logs');
like(
	$all_logs,
	qr/AUDIT: SESSION,\d+,\d+,(?:DDL|ROLE),ALTER USER MAPPING,.*ALTER USER MAPPING FOR regress_bob SERVER s/,
	'pgaudit logs the statements');
like(
	$all_logs,
	qr/STATEMENT:  CREATE USER MAPPING FOR regress_bob SERVER s OPTIONS \(user 'bob', password '\*{8}'\)/,
	'the STATEMENT line of an error is masked');
like(
	$all_logs,
	qr/duration: [0-9.]+ ms  statement: ALTER USER MAPPING FOR regress_alice SERVER s OPTIONS \(SET password '\*{8}'\)/,
	'duration logging is masked');

for my $secret (@secrets)
{
	my @leaks = grep { index($log{$_}, $secret) >= 0 } sort keys %log;
	is("@leaks", '', "$secret is in no log file");
	unlike($pgss, qr/\Q$secret\E/, "$secret is not in pg_stat_statements");
	unlike($audit, qr/\Q$secret\E/, "$secret is not in the audit trail");
	unlike($seen, qr/\Q$secret\E/, "$secret is not in current_query()");
}

done_testing();
