# Copyright (c) 2026, usermap developers
#
# The update path: CREATE EXTENSION usermap VERSION '1.0' followed by
# ALTER EXTENSION usermap UPDATE gives exactly the objects of a fresh 1.2
# install (compared as pg_dump --binary-upgrade --schema-only prints every
# member of the extension), and keeps 1.0's history, re-keyed: 1.0 wrote
# the public mapping as PUBLIC, which a role may also be called; 1.1 and later
# write it as public, as pg_user_mappings does.
#
# A pg_dump of the 1.0 database restored into a 1.2 server (pg_dump names
# no extension version, so 1.2's objects are made and 1.0's rows loaded)
# ends up exactly as the update does: history kept, the public mapping
# re-keyed to public in the metadata and the audit trail, a role named
# "PUBLIC" left as it is, the rows that cannot be told apart counted.
#
# Only the 1.2 library exists here, and it records nothing into 1.0
# objects, so the 1.0 history is written as 1.0 wrote it, by SQL with
# triggers off (session_replication_role = replica), from mappings made
# with usermap.enabled = off.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE updated');
$node->safe_psql('fresh', 'CREATE EXTENSION usermap');
$node->safe_psql('updated', q{CREATE EXTENSION usermap VERSION '1.0'});
is($node->safe_psql('updated', q{SELECT extversion FROM pg_extension WHERE extname = 'usermap'}),
	'1.0', 'version 1.0 can still be installed');

# 1.0's history: the public mapping and a role named "PUBLIC", both
# spelt PUBLIC, plus a dropped mapping of the role and an unrelated one.
$node->safe_psql(
	'updated', q{
	CREATE ROLE "PUBLIC";
	CREATE ROLE regress_um_alice;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
	SET usermap.enabled = off;
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (user 'p');
	CREATE USER MAPPING FOR "PUBLIC" SERVER um_srv OPTIONS (user 'r');
	CREATE USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (user 'a');
	SET session_replication_role = replica;
	TRUNCATE usermap.mapping_meta;
	INSERT INTO usermap.mapping_meta
	SELECT m.oid, m.umuser, m.umserver, 'um_srv',
		   CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE r.rolname END,
		   '2025-01-01', 'dba', 'dba', '2025-02-01', 'dba', 'dba',
		   CASE WHEN m.umuser = 0 THEN NULL ELSE '2025-02-01'::timestamptz END
	  FROM pg_user_mapping m LEFT JOIN pg_roles r ON r.oid = m.umuser;
	INSERT INTO usermap.audit_log (logged_at, action, server_name, user_name,
		session_role, "current_role", statement, umid, transaction_id)
	SELECT '2025-01-01', 'CREATE', 'um_srv',
		   CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE r.rolname END,
		   'dba', 'dba', 'CREATE USER MAPPING ...', m.oid, '1'
	  FROM pg_user_mapping m LEFT JOIN pg_roles r ON r.oid = m.umuser;
	-- a mapping of "PUBLIC" dropped long ago: ambiguous
	INSERT INTO usermap.audit_log (logged_at, action, server_name, user_name,
		session_role, "current_role", statement, umid, transaction_id)
	VALUES ('2024-01-01', 'DROP', 'um_gone', 'PUBLIC', 'dba', 'dba', 'DROP ...', 1, '1');
});

# A dump of the 1.0 database, restored into a new database of this 1.2
# server: pg_dump writes CREATE EXTENSION without a version, so the restore
# makes 1.2's objects and then loads 1.0's rows into them.  The
# re-attachment trigger sees that the metadata is 1.0's (only 1.0 wrote the
# public mapping, umuser 0, as PUBLIC) and re-keys it and its audit rows as
# ALTER EXTENSION UPDATE does; the comparison with the updated database
# itself comes after the update, below.
my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $max_id = $node->safe_psql('updated', 'SELECT max(id) FROM usermap.audit_log');
my $restored_trail_q = qq{
	SELECT string_agg(format('%s|%s|%s|%s', action, server_name, user_name, logged_at), E'\n' ORDER BY id)
	  FROM usermap.audit_log WHERE id <= $max_id};
my $restored_meta_q = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s', server_name, user_name, umuser = 0, created_at,
							 secret_changed_at), E'\n' ORDER BY user_name COLLATE "C")
	  FROM usermap.mapping_meta};
my %restore_warnings;
foreach my $format ('plain', 'custom')
{
	my $file = "$tempdir/updated.$format";
	my $db = "restored_1_0_$format";
	$node->command_ok(
		[ 'pg_dump', '--format', $format, '--file', $file, '--dbname', $node->connstr('updated') ],
		"pg_dump of the 1.0 database ($format)");
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($stdout, $stderr);
	IPC::Run::run(
		$format eq 'plain'
		? [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $file ]
		# pg_restore shows the server's warnings only with --verbose
		: [ 'pg_restore', '--exit-on-error', '--verbose', '-d', $node->connstr($db), $file ],
		'>', \$stdout, '2>', \$stderr);
	is($?, 0, "$format: the 1.0 dump restores into the 1.2 server");
	$restore_warnings{$format} = $stderr;
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'usermap'}),
		'1.2', "$format: as 1.2");
}

# The re-keying of the audit rows happens when the metadata arrives, so it
# needs the trail loaded first: pg_dump orders the data by table name.
my $plain_dump = slurp_file("$tempdir/updated.plain");
ok( index($plain_dump, 'COPY usermap.audit_log ') >= 0
	  && index($plain_dump, 'COPY usermap.audit_log ') < index($plain_dump, 'COPY usermap.mapping_meta '),
	'the dump loads the audit trail before the metadata');

# Where no role is named "PUBLIC", 1.0's rows of dropped mappings that say
# PUBLIC can only be the public mapping's, and the restore re-keys them,
# as the update would.  (The role's own mapping cannot be restored then,
# so this restore goes on past that error.)
$node->safe_psql('postgres', 'ALTER ROLE "PUBLIC" RENAME TO regress_um_was_public');
$node->safe_psql('postgres', 'CREATE DATABASE restored_1_0_no_role');
my ($no_role_out, $no_role_err);
IPC::Run::run(
	[ 'psql', '-X', '-q', '-d', $node->connstr('restored_1_0_no_role'), '-f', "$tempdir/updated.plain" ],
	'>', \$no_role_out, '2>', \$no_role_err);
$node->safe_psql('postgres', 'ALTER ROLE regress_um_was_public RENAME TO "PUBLIC"');
like($no_role_err, qr/role "PUBLIC" does not exist/, 'without the role, its mapping is not restored');
is( $node->safe_psql('restored_1_0_no_role', $restored_trail_q),
	join("\n",
		'CREATE|um_srv|public|2025-01-01 00:00:00+00',
		'CREATE|um_srv|PUBLIC|2025-01-01 00:00:00+00',
		'CREATE|um_srv|regress_um_alice|2025-01-01 00:00:00+00',
		'DROP|um_gone|public|2024-01-01 00:00:00+00'),
	'no role "PUBLIC": the dropped mapping\'s row is the public mapping\'s; the role\'s CREATE row (not dropped, not under the public mapping\'s umid) stays PUBLIC');
unlike($no_role_err, qr/left as (it is|they are)/, 'and nothing is left ambiguous');

# The 1.2 library refuses to record into 1.0 objects, and says what to do.
my ($ret, $out, $err) = $node->psql('updated',
	q{ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (SET user 'b')});
isnt($ret, 0, 'user-mapping DDL is refused while the extension is at 1.0');
like($err, qr/extension "usermap" is at version 1\.0 in this database, but the loaded library is version 1\.2/,
	'the error names both versions');
like($err, qr/HINT:  Run ALTER EXTENSION usermap UPDATE in this database/, 'the hint gives the update');
is($node->safe_psql('updated',
		q{SELECT umoptions FROM pg_user_mappings WHERE usename = 'regress_um_alice'}),
	'{user=a}', 'and the refused change did not happen');

($ret, $out, $err) = $node->psql('updated', 'ALTER EXTENSION usermap UPDATE');
is($ret, 0, 'ALTER EXTENSION usermap UPDATE succeeds');
like($err, qr/1 audit rows of dropped mappings name "PUBLIC" and were left as they are/,
	'the rows that cannot be told apart are counted in a WARNING');
is($node->safe_psql('updated', q{SELECT extversion FROM pg_extension WHERE extname = 'usermap'}),
	'1.2', 'the extension is at 1.2');

# Same objects as a fresh install.
sub schema_dump
{
	my ($db) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_dump', '--schema-only', '--binary-upgrade',
		'-d', $node->connstr($db) ], '>', \$stdout, '2>', \$stderr)
	  or die "pg_dump $db: $stderr";
	# OIDs, xids and the per-run restrict key differ between databases
	my @lines = grep { !/^(\\restrict|\\unrestrict|-- Dumped|SELECT pg_catalog\.binary_upgrade_set_next)/ }
	  split /\n/, $stdout;
	s/relfrozenxid = '\d+'/relfrozenxid = 'X'/g foreach @lines;
	s/\b\d{4,}\b/N/g foreach @lines;
	return join("\n", @lines);
}
my $fresh_dump = schema_dump('fresh');
# the test's own objects are not the extension's: drop them from the
# updated database's dump by dumping after removing them in a copy
$node->safe_psql('postgres', 'CREATE DATABASE updated_copy TEMPLATE updated');
$node->safe_psql('updated_copy', q{
	SET usermap.enabled = off;
	DROP SERVER um_srv CASCADE;
	DROP FOREIGN DATA WRAPPER um_fdw;
});
my $updated_dump = schema_dump('updated_copy');
like($fresh_dump, qr/CREATE VIEW usermap\.audit_trail/, 'the dump shows the extension\'s members');
is($updated_dump, $fresh_dump, '1.0 updated to 1.2 has exactly the objects of a fresh 1.2');

# Borrowed privileges.  A 1.1 installation made under default privileges
# of the installing role (global, and for the schema once it exists)
# handed its objects to the grantee; the update to 1.2 takes back every
# grant its scripts did not make, and leaves exactly a fresh 1.2's
# objects and privileges.  Then verify() reports a grant added later.
$node->safe_psql('postgres', 'CREATE ROLE regress_um_mallory');
$node->safe_psql('postgres', 'CREATE DATABASE borrowed');
$node->safe_psql(
	'borrowed', q{
	ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_um_mallory;
	ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO regress_um_mallory;
	ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO regress_um_mallory;
	ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO regress_um_mallory;
	CREATE EXTENSION usermap VERSION '1.1';
	ALTER DEFAULT PRIVILEGES IN SCHEMA usermap GRANT ALL ON TABLES TO regress_um_mallory;
});
my $mallory_q = q{
	SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'usermap'
	   AND has_table_privilege('regress_um_mallory', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')};
isnt($node->safe_psql('borrowed', $mallory_q), '0',
	'control: under 1.1, default privileges give the extension\'s tables to their grantee');
$node->safe_psql('borrowed', 'ALTER EXTENSION usermap UPDATE');
is($node->safe_psql('borrowed', $mallory_q), '0',
	'after the update to 1.2 the grantee holds nothing on any table or view');
is( $node->safe_psql(
		'borrowed', q{
	SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname = 'usermap'
	   AND has_function_privilege('regress_um_mallory', p.oid, 'EXECUTE')
	   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')}),
	'0', 'nor on any function');
is($node->safe_psql('borrowed', q{SELECT has_schema_privilege('regress_um_mallory', 'usermap', 'USAGE')}),
	'f', 'nor on the schema');
is($node->safe_psql('borrowed', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'and verify() finds nothing to report');
$node->safe_psql(
	'borrowed', q{
	ALTER DEFAULT PRIVILEGES IN SCHEMA usermap REVOKE ALL ON TABLES FROM regress_um_mallory;
	ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM regress_um_mallory;
	ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM regress_um_mallory;
	ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM regress_um_mallory;
	ALTER DEFAULT PRIVILEGES REVOKE USAGE ON SCHEMAS FROM regress_um_mallory;
});
is(schema_dump('borrowed'), $fresh_dump,
	'1.1 installed under default privileges, updated to 1.2: exactly the objects and privileges of a fresh 1.2');
$node->safe_psql('borrowed', 'GRANT SELECT ON usermap.audit_log TO regress_um_mallory');
is($node->safe_psql('borrowed', 'SELECT problem, detail FROM usermap.verify()'),
	'unexpected privilege|GRANT SELECT ON TABLE usermap.audit_log TO regress_um_mallory',
	'verify() reports a grant made after the update');

# 1.0's history is kept, and re-keyed.
is( $node->safe_psql(
		'updated', q{
	SELECT string_agg(format('%s|%s|%s', user_name, umuser = 0, created_at), E'\n'
					  ORDER BY user_name COLLATE "C")
	  FROM usermap.mapping_meta}),
	join("\n",
		'PUBLIC|f|2025-01-01 00:00:00+00',
		'public|t|2025-01-01 00:00:00+00',
		'regress_um_alice|f|2025-01-01 00:00:00+00'),
	'mapping_meta: the public mapping is now public, the role PUBLIC stays PUBLIC');
is( $node->safe_psql(
		'updated', q{
	SELECT string_agg(a.user_name || ':' || coalesce(m.umuser::text, 'gone'), ',' ORDER BY a.id)
	  FROM usermap.audit_log a LEFT JOIN pg_user_mapping m ON m.oid = a.umid}),
	join(',', 'public:0', 'PUBLIC:' . $node->safe_psql('updated', q{SELECT '"PUBLIC"'::regrole::oid}),
		'regress_um_alice:' . $node->safe_psql('updated', q{SELECT 'regress_um_alice'::regrole::oid}),
		'PUBLIC:gone'),
	'audit_log: each row names its own mapping');
is($node->safe_psql('updated', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'no drift after the update');
is( $node->safe_psql(
		'updated', q{
	SELECT string_agg(user_name || ' ' || (created_at IS NOT NULL), ', ' ORDER BY user_name COLLATE "C")
	  FROM usermap.mappings}),
	'PUBLIC true, public true, regress_um_alice true',
	'the views show the kept history');

# The 1.0 dumps, restored, hold what the update made of the same rows.
my $updated_trail = $node->safe_psql('updated', $restored_trail_q);
is( $updated_trail,
	join("\n",
		'CREATE|um_srv|public|2025-01-01 00:00:00+00',
		'CREATE|um_srv|PUBLIC|2025-01-01 00:00:00+00',
		'CREATE|um_srv|regress_um_alice|2025-01-01 00:00:00+00',
		'DROP|um_gone|PUBLIC|2024-01-01 00:00:00+00'),
	'the updated trail, to compare the restores with');
my $updated_meta = $node->safe_psql('updated', $restored_meta_q);
foreach my $format ('plain', 'custom')
{
	my $db = "restored_1_0_$format";
	is($node->safe_psql($db, $restored_trail_q), $updated_trail,
		"$format: the restored 1.0 trail is re-keyed as the update re-keyed it: public for the public mapping, PUBLIC for the role");
	is($node->safe_psql($db, $restored_meta_q), $updated_meta,
		"$format: and so is the metadata, with 1.0's times");
	like($restore_warnings{$format},
		qr/WARNING:  1 audit row of dropped mappings names "PUBLIC" and was left as it is/,
		"$format: the row that cannot be told apart is left, and counted in a WARNING, as by the update");
	is($node->safe_psql($db, 'SELECT count(*) FROM usermap.verify()'),
		'0', "$format: no drift after the restore");
	is( $node->safe_psql(
			$db, q{
		SELECT string_agg(format('%s|%s', user_name, created_at), ',' ORDER BY user_name COLLATE "C")
		  FROM usermap.mappings}),
		'PUBLIC|2025-01-01 00:00:00+00,public|2025-01-01 00:00:00+00,regress_um_alice|2025-01-01 00:00:00+00',
		"$format: every mapping shows its 1.0 history");
	is( $node->safe_psql(
			$db, qq{
		SELECT string_agg(action || ' ' || user_name, ', ' ORDER BY user_name COLLATE "C")
		  FROM usermap.audit_log WHERE id > $max_id}),
		'CREATE PUBLIC, CREATE public, CREATE regress_um_alice',
		"$format: the restore's own rows, written by 1.2, are left alone");
}

# And it records again.
$node->safe_psql('updated',
	q{ALTER USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (SET user 'q')});
is( $node->safe_psql(
		'updated', q{
	SELECT action || ' ' || user_name || ' ' || changed_options::text
	  FROM usermap.audit_log ORDER BY id DESC LIMIT 1}),
	'ALTER public {user}',
	'changes after the update are recorded, public as public');
is( $node->safe_psql(
		'updated', q{
	SELECT created_at FROM usermap.mappings WHERE user_name = 'public'}),
	'2025-01-01 00:00:00+00',
	'and the public mapping keeps its 1.0 history');

$node->stop;
done_testing();
