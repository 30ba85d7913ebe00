# Copyright (c) 2026, usermap developers
#
# In a database without the extension, each user-mapping change is one
# line in the server log (usermap.log_unrecorded), its secrets masked.  The
# line is for the server log alone: a client gets nothing for these
# statements from the server's own code, whatever its client_min_messages,
# and nothing from usermap either (sql/core_create.sql shows the client's
# side through usermap and through the server's code).  This test reads
# the server's side: the lines are there, masked, without the statement
# (log_min_error_statement = log would otherwise add it), and absent where
# usermap.log_unrecorded is off.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'usermap'
log_min_error_statement = log
log_statement = none
});
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
	CREATE ROLE regress_um_alice;
});

my $offset = -s $node->logfile;
my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', q{
	SET client_min_messages = log;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_srv
	  OPTIONS (user 'alice', password 'not-in-the-log');
	ALTER USER MAPPING FOR regress_um_alice SERVER um_srv
	  OPTIONS (SET password 'still-not-in-the-log');
	SET usermap.log_unrecorded = off;
	ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (ADD region 'eu');
	RESET usermap.log_unrecorded;
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv;
	DROP USER MAPPING FOR PUBLIC SERVER um_srv;
	DROP USER MAPPING FOR regress_um_alice SERVER um_srv;
});
is($ret, 0, 'the statements succeed');
is($stderr, '', 'the client gets no message, with client_min_messages = log');

my $log = slurp_file($node->logfile, $offset);
my @lines = ($log =~ /LOG:  (\w+) USER MAPPING not recorded/g);
is( join(' ', @lines),
	'CREATE ALTER CREATE DROP DROP',
	'one line per change, none where usermap.log_unrecorded is off');
like(
	$log,
	qr/LOG:  CREATE USER MAPPING not recorded: extension "usermap" is not installed in database "postgres"\n[^\n]*DETAIL:  Server um_srv, user regress_um_alice; old options null; new options \{"user": "alice", "password": "\*\*\*\*\*\*\*\*"\}; changed options \{user,password\}; session role \S+, current role \S+; statement: CREATE USER MAPPING FOR regress_um_alice SERVER um_srv\n\s+OPTIONS \(user 'alice', password '\*\*\*\*\*\*\*\*'\)\n/,
	'the CREATE line: options and statement masked');
like(
	$log,
	qr/DETAIL:  Server um_srv, user regress_um_alice; old options \{"user": "alice", "password": "\*\*\*\*\*\*\*\*"\}; new options \{"user": "alice", "password": "\*\*\*\*\*\*\*\*"\}; changed options \{password\};/,
	'the ALTER line: options masked, the changed one named');
like(
	$log,
	qr/DETAIL:  Server um_srv, user public; old options null; new options null; changed options \{\}; [^\n]*statement: DROP USER MAPPING FOR PUBLIC SERVER um_srv\n/,
	'the DROP line of the public mapping');
unlike($log, qr/not-in-the-log/, 'no secret in the server log');
unlike($log, qr/STATEMENT:/, 'no statement line follows them');

# Recorded while the extension is there, logged again once it is dropped.
$offset = -s $node->logfile;
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (user 'recorded');
	DROP EXTENSION usermap;
	ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (SET user 'logged');
});
$log = slurp_file($node->logfile, $offset);
@lines = ($log =~ /LOG:  (\w+) USER MAPPING not recorded/g);
is(join(' ', @lines), 'ALTER',
	'nothing logged while the extension records, logged again after DROP EXTENSION');

$node->stop;
done_testing();
