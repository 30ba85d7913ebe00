# Copyright (c) 2026, usermap developers
#
# PostgreSQL 19's CREATE SUBSCRIPTION ... SERVER: the subscription takes
# its connection from its owner's user mapping on a foreign server, through
# the wrapper's connection function (postgres_fdw 1.3's
# postgres_fdw_connection).  A mapping's password is then a replication
# credential, and usermap must neither break replication nor leak it.
#
# A publisher that demands SCRAM over TCP on 127.0.0.1; a subscriber with
# usermap preloaded and created, logging every statement.  Rows replicate
# through a subscription over a server; the password is rotated on the
# publisher and with ALTER USER MAPPING on the subscriber; the old
# walsender is ended, so that the rows inserted next can only arrive over a
# connection made with the new password.  usermap.mappings and the audit
# trail must show the rotation, and no password may appear in the
# subscriber's logs, pg_stat_statements or pg_stat_activity.  Control: a
# password set with usermap.redact = off must be found in the log.
#
# Last, DROP USER MAPPING under a live subscription, through usermap and
# through the server's own code (usermap.enabled = off): the same outcome,
# the same messages, the subscription left in the same state.
#
# Before 19 there is no CREATE SUBSCRIPTION ... SERVER: skipped.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sub = PostgreSQL::Test::Cluster->new('subscriber');
# 19rc1 compares below 19 as a PostgreSQL::Version: compare majors
plan skip_all => 'CREATE SUBSCRIPTION ... SERVER is new in PostgreSQL 19'
  if $sub->pg_version->major < 19;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf(
	'postgresql.conf', q{
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
log_connections = 'authentication'
});
# The test's own sessions come through the Unix socket; the subscription
# must come over TCP and pass SCRAM.
open my $hba, '>', $pub->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all all trust\n";
print $hba "host all regress_um_repl 127.0.0.1/32 scram-sha-256\n";
close $hba;
$pub->start;

# secrets: each must be found nowhere on the subscriber but where allowed
my $first   = 'umsub_first_' . int(rand(1e9));
my $second  = 'umsub_second_' . int(rand(1e9));
my $control = 'umsub_control_' . int(rand(1e9));

$pub->safe_psql(
	'postgres', qq{
	CREATE ROLE regress_um_repl LOGIN REPLICATION PASSWORD '$first';
	CREATE TABLE t (id int PRIMARY KEY);
	GRANT SELECT ON t TO regress_um_repl;
	CREATE PUBLICATION um_pub FOR TABLE t;
	INSERT INTO t VALUES (1), (2);
});

$sub->init;
$sub->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'usermap,pg_stat_statements'
log_statement = 'all'
log_min_error_statement = error
pg_stat_statements.track = 'all'
pg_stat_statements.track_utility = on
compute_query_id = on
});
$sub->start;
my $pub_port = $pub->port;
$sub->safe_psql(
	'postgres', qq{
	CREATE EXTENSION usermap;
	CREATE EXTENSION postgres_fdw;
	CREATE EXTENSION pg_stat_statements;
	CREATE SERVER um_pubsrv FOREIGN DATA WRAPPER postgres_fdw
	  OPTIONS (host '127.0.0.1', port '$pub_port', dbname 'postgres');
	CREATE USER MAPPING FOR CURRENT_USER SERVER um_pubsrv
	  OPTIONS (user 'regress_um_repl', password '$first');
	CREATE TABLE t (id int PRIMARY KEY);
});
# an observer session, to read pg_stat_activity while the others run
my $observer = $sub->background_psql('postgres');

$sub->safe_psql('postgres',
	'CREATE SUBSCRIPTION um_sub SERVER um_pubsrv PUBLICATION um_pub');
$sub->wait_for_subscription_sync($pub, 'um_sub');
is($sub->safe_psql('postgres', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM t'),
	'1,2', 'the initial rows arrive through the subscription over the server');
like(
	$sub->safe_psql('postgres',
		q{SELECT s.subname || ' ' || fs.srvname FROM pg_subscription s JOIN pg_foreign_server fs ON fs.oid = s.subserver}),
	qr/^um_sub um_pubsrv$/,
	'the subscription uses the server');

$pub->safe_psql('postgres', 'INSERT INTO t VALUES (3)');
$pub->wait_for_catchup('um_sub');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'3', 'a row inserted after the subscription started arrives');
my $walsender_before = $pub->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_replication WHERE application_name = 'um_sub'});
ok($walsender_before, "the subscription's walsender runs ($walsender_before)");

# Rotation: the publisher first, then the mapping, from a session of its
# own whose pg_stat_activity row stays behind while it idles.  19 restarts
# a running apply worker when its mapping changes: usermap writes
# pg_user_mapping as the server does, so the walsender must change by
# itself.  Then end the walsender anyway, so that the rows inserted next
# can only arrive over a connection made with the new password.
my $secret_changed_before = $sub->safe_psql('postgres',
	q{SELECT secret_changed_at FROM usermap.mappings WHERE server_name = 'um_pubsrv'});
$pub->safe_psql('postgres',
	"ALTER ROLE regress_um_repl PASSWORD '$second'");
my $pub_log_offset = -s $pub->logfile;
my $rotator = $sub->background_psql('postgres');
my $rotator_pid = $rotator->query_safe('SELECT pg_backend_pid()');
$rotator->query_safe(
	"ALTER USER MAPPING FOR CURRENT_USER SERVER um_pubsrv OPTIONS (SET password '$second')");
ok( $pub->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 AND bool_and(pid <> $walsender_before)
		  FROM pg_stat_replication WHERE application_name = 'um_sub'}),
	'the apply worker reconnected by itself when the mapping changed');
my $walsender_restarted = $pub->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_replication WHERE application_name = 'um_sub'});
$pub->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'um_sub'});
$pub->safe_psql('postgres', 'INSERT INTO t VALUES (4), (5)');
$pub->wait_for_catchup('um_sub');
is($sub->safe_psql('postgres', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM t'),
	'1,2,3,4,5', 'rows inserted after the rotation arrive');
my $walsender_after = $pub->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_replication WHERE application_name = 'um_sub'});
ok($walsender_after && $walsender_after ne $walsender_restarted,
	"a walsender started after the old one ended serves them ($walsender_after)");
my $pub_log = slurp_file($pub->logfile, $pub_log_offset);
my $scram_logins = () = $pub_log =~
  /connection authenticated: identity="regress_um_repl" method=scram-sha-256/g;
cmp_ok($scram_logins, '>=', 2,
	'both new connections passed SCRAM, which only the new password can since the publisher changed it'
);

isnt(
	$sub->safe_psql('postgres',
		q{SELECT secret_changed_at FROM usermap.mappings WHERE server_name = 'um_pubsrv'}),
	$secret_changed_before,
	'usermap.mappings shows the rotation');
my $trail = $sub->safe_psql(
	'postgres', q{
	SELECT string_agg(format('%s %s %s', action, server_name, changed_options), E'\n' ORDER BY id)
	  FROM usermap.audit_log WHERE server_name = 'um_pubsrv'});
note("audit trail:\n$trail");
like($trail, qr/^CREATE um_pubsrv .*\nALTER um_pubsrv .*password/s,
	'the audit trail shows the creation and the rotation');

# Control: with usermap.redact off, a password reaches the log,
# pg_stat_activity and pg_stat_statements.  On a mapping of its own, which
# the subscription does not use, from another idle session.
$sub->safe_psql('postgres', 'CREATE ROLE regress_um_other');
my $controller = $sub->background_psql('postgres');
my $controller_pid = $controller->query_safe('SELECT pg_backend_pid()');
$controller->query_safe('SET usermap.redact = off');
$controller->query_safe(
	"CREATE USER MAPPING FOR regress_um_other SERVER um_pubsrv OPTIONS (password '$control')");

# pg_stat_activity, read while the rotating and the controlling sessions
# idle after their statements
my $activity = $observer->query_safe(
	qq{SELECT string_agg(pid || ': ' || coalesce(query, ''), E'\n') FROM pg_stat_activity
	    WHERE pid IN ($rotator_pid, $controller_pid)});
like($activity, qr/^$rotator_pid: ALTER USER MAPPING/m,
	"pg_stat_activity shows the rotating session's statement");
like($activity, qr/\Q$control\E/,
	'control: with usermap.redact = off the password is in pg_stat_activity');
my $pgss = $sub->safe_psql('postgres',
	q{SELECT string_agg(query, E'\n') FROM pg_stat_statements});
my $audit = $sub->safe_psql('postgres',
	q{SELECT string_agg(a::text, E'\n') FROM usermap.audit_log a});

# DROP USER MAPPING under the live subscription, through usermap and then
# through the server's own code, on the same state.
sub drop_outcome
{
	my ($settings) = @_;
	my ($ret, $stdout, $stderr) = $sub->psql('postgres',
		"$settings DROP USER MAPPING FOR CURRENT_USER SERVER um_pubsrv",
		on_error_stop => 0);
	my $state = $sub->safe_psql(
		'postgres', q{
		SELECT format('%s server=%s enabled=%s mappings=%s', s.subname,
					  fs.srvname, s.subenabled,
					  (SELECT count(*) FROM pg_user_mapping m
						WHERE m.umserver = fs.oid AND m.umuser = s.subowner))
		  FROM pg_subscription s LEFT JOIN pg_foreign_server fs ON fs.oid = s.subserver});
	$stderr =~ s/^psql:<stdin>:\d+: //mg;
	return "ret=$ret\n$stderr\n$state";
}
my $through_usermap = drop_outcome('');
$sub->safe_psql('postgres',
	"CREATE USER MAPPING FOR CURRENT_USER SERVER um_pubsrv OPTIONS (user 'regress_um_repl', password '$second')");
my $through_core = drop_outcome('SET usermap.enabled = off;');
note("DROP USER MAPPING under a live subscription:\n$through_core");
is($through_usermap, $through_core,
	'DROP USER MAPPING under a live subscription: the same outcome as the server\'s own code');

$_->quit for ($observer, $rotator, $controller);
$sub->stop;
my $log = slurp_file($sub->logfile);

like($log, qr/\Q$control\E/,
	'control: with usermap.redact = off the password is in the log');
like($pgss, qr/\Q$control\E/,
	'control: with usermap.redact = off the password is in pg_stat_statements');
for my $secret ($first, $second)
{
	unlike($log, qr/\Q$secret\E/, "$secret is not in the subscriber's log");
	unlike($pgss, qr/\Q$secret\E/, "$secret is not in pg_stat_statements");
	unlike($activity, qr/\Q$secret\E/, "$secret is not in pg_stat_activity");
	unlike($audit, qr/\Q$secret\E/, "$secret is not in the audit trail");
}

$pub->stop;
done_testing();
