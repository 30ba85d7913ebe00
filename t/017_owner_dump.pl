# Copyright (c) 2026, usermap developers
#
# pg_dump by the database owner (issue 18, point 9).  The owner of a
# database where usermap is installed is not a superuser and may not read
# usermap's tables (the audit trail holds option values pg_user_mappings
# hides from her), and pg_dump dumps their data with the extension.  She
# cannot be let read them; what she gets must say what to do instead, and
# what it says must work: pg_dump as a superuser keeps the history, and
# pg_dump --exclude-table-data='usermap.*' dumps everything of hers
# without it, and restores (by a superuser) with usermap installed
# afresh.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->start;

$node->safe_psql('postgres', 'CREATE ROLE regress_um_dbo LOGIN');
$node->safe_psql('postgres', 'CREATE DATABASE owned OWNER regress_um_dbo');
$node->safe_psql(
	'owned', q{
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR regress_um_dbo SERVER um_srv OPTIONS (user 'u', password 'p');
	SET ROLE regress_um_dbo;
	CREATE TABLE owners_data (a int);
	INSERT INTO owners_data VALUES (42);
});

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my ($stdout, $stderr);
IPC::Run::run(
	[ 'pg_dump', '--file', "$tempdir/owner.sql", '--dbname', $node->connstr('owned'),
	  '--username', 'regress_um_dbo' ],
	'>', \$stdout, '2>', \$stderr);
isnt($?, 0, 'pg_dump of the whole database as its owner fails: she may not read the trail');
like($stderr, qr/permission denied for table usermap\.(audit_log|mapping_meta)/,
	'the error names the table');
like($stderr, qr/HINT:  To dump the database with usermap's history, run pg_dump as a superuser; to dump it without, run pg_dump with --exclude-table-data='usermap\.\*'\./,
	'and the hint says what to do');

# What the hint says works.
$node->command_ok(
	[ 'pg_dump', '--file', "$tempdir/owner.sql", '--dbname', $node->connstr('owned'),
	  '--username', 'regress_um_dbo', '--exclude-table-data=usermap.*' ],
	'pg_dump --exclude-table-data=\'usermap.*\' as the owner succeeds');
my $dump = slurp_file("$tempdir/owner.sql");
unlike($dump, qr/COPY usermap\./, 'without usermap\'s data');
like($dump, qr/COPY public\.owners_data/, 'with the owner\'s own');
$node->safe_psql('postgres', 'CREATE DATABASE owned_restored OWNER regress_um_dbo');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('owned_restored'),
	  '-f', "$tempdir/owner.sql" ],
	'it restores (as a superuser)');
is($node->safe_psql('owned_restored',
		q{SELECT (SELECT a FROM owners_data), (SELECT count(*) FROM pg_extension WHERE extname = 'usermap')}),
	'42|1', 'with the owner\'s data, and usermap installed afresh');
is($node->safe_psql('owned_restored', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'whose metadata describes every restored mapping');

$node->command_ok(
	[ 'pg_dump', '--file', "$tempdir/super.sql", '--dbname', $node->connstr('owned') ],
	'pg_dump as a superuser keeps the history');
like(slurp_file("$tempdir/super.sql"), qr/COPY usermap\.audit_log/, 'with the audit trail');

$node->stop;
done_testing();
