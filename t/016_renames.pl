# Copyright (c) 2026, usermap developers
#
# Renames before a dump (issue 18, point 3).  A restore re-attaches each
# metadata row to its mapping by the server and user names the row holds,
# and a server owner may rename her servers at any time: after the
# superuser's verify(repair => true), she swaps the names of two of her
# servers, and the dump is taken.  The names in mapping_meta must be
# current when the dump is taken, so that after the restore each mapping
# keeps its own history.  The same for a role renamed by a superuser.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql(
	'source', q{
	CREATE EXTENSION usermap;
	CREATE ROLE regress_um_owner;
	CREATE ROLE regress_um_alice;
	CREATE ROLE regress_um_bob;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	GRANT USAGE ON FOREIGN DATA WRAPPER um_fdw TO regress_um_owner;
	SET ROLE regress_um_owner;
	CREATE SERVER um_a FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_b FOREIGN DATA WRAPPER um_fdw;
	-- two histories that cannot be mistaken for each other: on um_a a
	-- secret rotated at a known time, on um_b none
	CREATE USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (user 'on-a', password 'pa');
	CREATE USER MAPPING FOR regress_um_alice SERVER um_b OPTIONS (user 'on-b');
	CREATE USER MAPPING FOR regress_um_bob SERVER um_a OPTIONS (user 'bob-on-a');
	RESET ROLE;
	UPDATE usermap.mapping_meta SET secret_changed_at = '2020-02-02', created_by = 'history-of-a'
	 WHERE server_name = 'um_a' AND user_name = 'regress_um_alice';
	UPDATE usermap.mapping_meta SET created_by = 'history-of-b'
	 WHERE server_name = 'um_b' AND user_name = 'regress_um_alice';
	UPDATE usermap.mapping_meta SET created_by = 'history-of-bob'
	 WHERE user_name = 'regress_um_bob';
});
is($node->safe_psql('source', 'SELECT count(*) FROM usermap.verify(repair => true)'),
	'0', 'no drift before the renames');

# The server owner swaps her servers' names; a superuser renames a role.
$node->safe_psql(
	'source', q{
	SET ROLE regress_um_owner;
	ALTER SERVER um_a RENAME TO um_tmp;
	ALTER SERVER um_b RENAME TO um_a;
	ALTER SERVER um_tmp RENAME TO um_b;
	RESET ROLE;
	ALTER ROLE regress_um_bob RENAME TO regress_um_carol;
});

my $history_q = q{
	SELECT string_agg(format('%s|%s|%s|%s', m.server_name, m.user_name, m.created_by,
							 m.secret_changed_at), E'\n' ORDER BY m.options->>'user')
	  FROM usermap.mappings m};
my $expected = join("\n",
	'um_b|regress_um_carol|history-of-bob|',
	'um_b|regress_um_alice|history-of-a|2020-02-02 00:00:00+00',
	'um_a|regress_um_alice|history-of-b|');
# ordered by the mapping's own user option: bob-on-a, on-a, on-b
is($node->safe_psql('source', $history_q), $expected,
	'in the source, each mapping has its own history under its new names');
is($node->safe_psql('source', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'and the names in mapping_meta are current: verify() reports no stale names');

my $tempdir = PostgreSQL::Test::Utils::tempdir;
foreach my $format ('plain', 'custom')
{
	my $file = "$tempdir/source.$format";
	my $db = "restored_$format";
	$node->command_ok(
		[ 'pg_dump', '--format', $format, '--file', $file, '--dbname', $node->connstr('source') ],
		"pg_dump ($format)");
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->command_ok(
		$format eq 'plain'
		? [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $file ]
		: [ 'pg_restore', '--exit-on-error', '-d', $node->connstr($db), $file ],
		"restore ($format)");
	is($node->safe_psql($db, $history_q), $expected,
		"$format: after the restore each mapping keeps its own history, not the other server's");
	is($node->safe_psql($db, 'SELECT count(*) FROM usermap.verify()'),
		'0', "$format: no drift after the restore");
}

# Renames usermap did not see can leave two rows holding one mapping's
# names: um_a is renamed away and um_b renamed to um_a unseen, then a
# change to the mapping on the new um_a gives its row the current names,
# while the row of the mapping now on um_x still says um_a.  verify()
# reports the stale name; dumped without the repair, the restore must not
# guess: neither row is taken for the mapping on um_a, a WARNING says so,
# and verify() reports the mapping without metadata (the mapping on um_x
# keeps the row its restored CREATE wrote: no name holds it).
$node->safe_psql('postgres', 'CREATE DATABASE ambiguous');
$node->safe_psql(
	'ambiguous', q{
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_a FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_b FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (user 'first-on-a');
	CREATE USER MAPPING FOR regress_um_alice SERVER um_b OPTIONS (user 'first-on-b');
	SET usermap.enabled = off;
	ALTER SERVER um_a RENAME TO um_x;
	ALTER SERVER um_b RENAME TO um_a;
	RESET usermap.enabled;
	ALTER USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (SET user 'now-on-a');
});
is($node->safe_psql('ambiguous', q{SELECT string_agg(problem || ' ' || server_name, ',') FROM usermap.verify()}),
	'stale names um_a', 'the source reports the stale name');
is($node->safe_psql('ambiguous', q{SELECT count(*) FROM usermap.mapping_meta WHERE server_name = 'um_a'}),
	'2', 'two rows hold the names of the mapping on um_a');
$node->command_ok(
	[ 'pg_dump', '--file', "$tempdir/ambiguous.sql", '--dbname', $node->connstr('ambiguous') ],
	'pg_dump without the repair');
$node->safe_psql('postgres', 'CREATE DATABASE ambiguous_restored');
my ($amb_out, $amb_err);
IPC::Run::run(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('ambiguous_restored'),
	  '-f', "$tempdir/ambiguous.sql" ],
	'>', \$amb_out, '2>', \$amb_err);
is($?, 0, 'the restore succeeds');
like($amb_err, qr/WARNING:  metadata of user mapping for regress_um_alice on server um_a not restored/,
	'a WARNING says the mapping on um_a got neither row');
is( $node->safe_psql(
		'ambiguous_restored', q{
	SELECT string_agg(problem || ' ' || server_name, ',' ORDER BY server_name) FROM usermap.verify()}),
	'missing metadata um_a',
	'verify() reports the mapping on um_a without metadata: nothing was guessed');

# A rename with usermap.enabled off is not seen: verify() reports it.
$node->safe_psql('source', q{
	SET usermap.enabled = off;
	ALTER SERVER um_a RENAME TO um_c;
});
is($node->safe_psql('source', q{SELECT string_agg(problem || ' ' || server_name, ',') FROM usermap.verify()}),
	'stale names um_a', 'a rename usermap did not see is reported as stale names');

$node->stop;
done_testing();
