# Copyright (c) 2026, usermap developers
#
# usermap must be in shared_preload_libraries.  Without it CREATE EXTENSION
# fails with a hint, and loading the library some other way does not take
# over any statement.  With it, the layer works in every database, whether
# or not the extension was created there.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', 'CREATE EXTENSION usermap',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like(
	$stderr,
	qr/ERROR:  55000: usermap must be loaded via shared_preload_libraries/,
	'error says what is wrong, with SQLSTATE object_not_in_prerequisite_state');
like(
	$stderr,
	qr/HINT:  Add usermap to shared_preload_libraries in postgresql.conf and restart the server\./,
	'hint says how to fix it');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'usermap'}),
	'0', 'nothing was installed');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'usermap'}),
	'0',
	'not even the schema');

# A session-level LOAD does not install the hook: usermap's key lock is
# never taken.
my $key_locks = q{
	SELECT count(*) FROM pg_locks
	 WHERE pid = pg_backend_pid() AND locktype = 'userlock' AND objsubid = 30061};
$node->safe_psql('postgres',
	q{CREATE FOREIGN DATA WRAPPER um_fdw; CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;});
is( $node->safe_psql(
		'postgres', qq{
	LOAD 'usermap';
	BEGIN;
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv;
	$key_locks;
	ROLLBACK;}),
	'0',
	'LOAD alone does not take over user-mapping DDL');

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->restart;

is($node->safe_psql('postgres', 'CREATE EXTENSION usermap; SELECT usermap.library_version()'),
	$node->safe_psql('postgres',
		q{SELECT default_version FROM pg_available_extensions WHERE name = 'usermap'}),
	'CREATE EXTENSION works once preloaded');

# The layer applies in a database where the extension does not exist.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other',
	q{CREATE FOREIGN DATA WRAPPER um_fdw; CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;});
is( $node->safe_psql(
		'other', qq{
	BEGIN;
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv;
	$key_locks;
	COMMIT;}),
	'1',
	'usermap runs user-mapping DDL in a database without the extension');

# Loaded without being preloaded, usermap installs no hook, but
# usermap.user_name() still keeps the role names it read: a rename must
# reach that backend's cache too.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
is( $node->safe_psql(
		'postgres', q{
	CREATE ROLE um_erin;
	SELECT usermap.user_name('um_erin'::regrole);
	ALTER ROLE um_erin RENAME TO um_erin2;
	SELECT usermap.user_name('um_erin2'::regrole);
	DROP ROLE um_erin2;}),
	"um_erin\num_erin2",
	'usermap.user_name() sees a rename where usermap is not preloaded');

$node->stop;

done_testing();
