# Copyright (c) 2026, usermap developers
#
# pg_dump of a database with user mappings and their history restores
# cleanly into a new database, in plain and custom format: the mappings
# come back with their options, the audit trail comes back whole, and each
# mapping's metadata is re-attached to the restored mapping (which has a
# new OID), with the original times and roles.  The restore's own CREATE
# USER MAPPING statements add their audit rows after the restored ones.
#
# Then the same dump goes into a fresh cluster whose roles were recreated
# by pg_dumpall --globals-only, which creates them in name order: roles
# zed and amy, made in the other order here, get other OIDs there, and
# the OIDs in the dumped metadata belong to other roles.  Metadata
# is matched by names, never by those OIDs, so each keeps its own
# history; and the public mapping and a role named "PUBLIC" stay apart
# through both restores.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->start;

# zed and amy first, so that their OIDs are the first a cluster hands out
$node->safe_psql('postgres', 'CREATE ROLE zed; CREATE ROLE amy');
$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql(
	'source', q{
	CREATE ROLE regress_um_alice;
	CREATE ROLE "PUBLIC";
	CREATE ROLE regress_um_bob;
	CREATE EXTENSION postgres_fdw;
	CREATE SERVER um_pg FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_other FOREIGN DATA WRAPPER um_fdw;
	-- a mapping from before the extension: unknown history
	CREATE USER MAPPING FOR regress_um_bob SERVER um_other OPTIONS (note 'old');
	CREATE EXTENSION usermap;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_pg OPTIONS (user 'alice', password 'first');
	CREATE USER MAPPING FOR PUBLIC SERVER um_pg OPTIONS (user 'anyone');
	CREATE USER MAPPING FOR regress_um_bob SERVER um_pg;
	DROP USER MAPPING FOR regress_um_bob SERVER um_pg;
	CREATE USER MAPPING FOR "PUBLIC" SERVER um_pg OPTIONS (user 'role-public');
	CREATE USER MAPPING FOR zed SERVER um_other OPTIONS (user 'zed', password 'z1');
});
$node->safe_psql('source',
	q{CREATE USER MAPPING FOR amy SERVER um_other OPTIONS (user 'amy')});
$node->safe_psql('source',
	q{ALTER USER MAPPING FOR zed SERVER um_other OPTIONS (SET password 'z2')});
# later changes, in later statements, so times differ
$node->safe_psql('source',
	q{ALTER USER MAPPING FOR regress_um_alice SERVER um_pg OPTIONS (SET password 'second')});
$node->safe_psql('source',
	q{ALTER USER MAPPING FOR PUBLIC SERVER um_pg OPTIONS (ADD sslpassword 'keypass')});

# What must survive: mappings with options, metadata by mapping, the
# whole audit trail.
my $mappings_q = q{
	SELECT string_agg(format('%s|%s|%s', s.srvname,
							 coalesce(r.rolname, 'public'),
							 -- pg_dump writes options sorted by name
							 (SELECT array_agg(o ORDER BY o COLLATE "C")
								FROM unnest(m.umoptions) o)),
					  E'\n' ORDER BY s.srvname COLLATE "C",
					  coalesce(r.rolname, 'public') COLLATE "C")
	  FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
	  LEFT JOIN pg_roles r ON r.oid = m.umuser};
my $meta_q = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', server_name, user_name,
							 created_at, created_by, modified_at, modified_by,
							 secret_changed_at, options),
					  E'\n' ORDER BY server_name COLLATE "C", user_name COLLATE "C")
	  FROM usermap.mappings};
my $audit_q = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s', id, logged_at, action,
							 server_name, user_name, old_options, new_options,
							 changed_options, statement), E'\n' ORDER BY id)
	  FROM usermap.audit_log};

my $mappings = $node->safe_psql('source', $mappings_q);
my $meta     = $node->safe_psql('source', $meta_q);
my $audit    = $node->safe_psql('source', $audit_q);
my $audit_rows =
  $node->safe_psql('source', 'SELECT count(*) FROM usermap.audit_log');
is($audit_rows, '10', 'source has ten audit rows');
like($meta, qr/um_other\|regress_um_bob\|\|\|\|\|\|/,
	'the pre-existing mapping has unknown history in the source');

my $tempdir = PostgreSQL::Test::Utils::tempdir;

foreach my $format ('plain', 'custom')
{
	my $target = "restored_$format";
	my $file   = "$tempdir/source.$format";

	$node->command_ok(
		[
			'pg_dump', '--format', $format, '--file', $file,
			'--dbname', $node->connstr('source')
		],
		"pg_dump ($format)");
	$node->safe_psql('postgres', "CREATE DATABASE $target");

	my ($stdout, $stderr);
	if ($format eq 'plain')
	{
		$node->command_ok(
			[
				'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
				'-d', $node->connstr($target), '-f', $file
			],
			"restore with psql ($format)");
	}
	else
	{
		$node->command_ok(
			[
				'pg_restore', '--exit-on-error',
				'-d', $node->connstr($target), $file
			],
			"restore with pg_restore ($format)");
	}

	is($node->safe_psql($target, $mappings_q),
		$mappings, "$format: the mappings and their options are restored");
	is($node->safe_psql($target, $meta_q),
		$meta, "$format: each mapping's metadata is re-attached with its original history");
	is($node->safe_psql($target, 'SELECT count(*) FROM usermap.verify()'),
		'0', "$format: no drift after the restore");

	# The restored trail is the source's, followed by one CREATE row per
	# mapping the restore itself created.
	my $restored_prefix = $node->safe_psql(
		$target, qq{
		SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s', id, logged_at, action,
								 server_name, user_name, old_options, new_options,
								 changed_options, statement), E'\\n' ORDER BY id)
		  FROM (SELECT * FROM usermap.audit_log ORDER BY id LIMIT $audit_rows) a});
	is($restored_prefix, $audit, "$format: the audit trail is restored whole");
	is( $node->safe_psql(
			$target, qq{
		SELECT string_agg(action || ' ' || user_name || ' ' || server_name, ', '
						  ORDER BY server_name COLLATE "C", user_name COLLATE "C")
		  FROM (SELECT * FROM usermap.audit_log ORDER BY id OFFSET $audit_rows) a}),
		'CREATE amy um_other, CREATE regress_um_bob um_other, CREATE zed um_other, CREATE PUBLIC um_pg, CREATE public um_pg, CREATE regress_um_alice um_pg',
		"$format: the restore's own CREATEs follow, numbered after the restored rows");
	is( $node->safe_psql(
			$target,
			'SELECT count(*) = count(DISTINCT id) FROM usermap.audit_log'),
		't',
		"$format: audit ids stay unique");

	# The restored database keeps recording.
	$node->safe_psql($target,
		q{ALTER USER MAPPING FOR regress_um_alice SERVER um_pg OPTIONS (SET password 'third')});
	is( $node->safe_psql(
			$target, q{
		SELECT action || ' ' || changed_options::text FROM usermap.audit_log
		 ORDER BY id DESC LIMIT 1}),
		'ALTER {password}',
		"$format: changes after the restore are recorded");
}

# A fresh cluster: roles from pg_dumpall --globals-only (name order, so
# the roles get other OIDs than here), then the database.
my $fresh = PostgreSQL::Test::Cluster->new('fresh');
$fresh->init;
$fresh->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$fresh->start;
$node->command_ok(
	[
		'pg_dumpall', '--globals-only', '--file', "$tempdir/globals.sql",
		'--dbname', $node->connstr('postgres')
	],
	'pg_dumpall --globals-only');
$fresh->command_ok(
	[ 'psql', '-X', '-q', '-d', $fresh->connstr('postgres'), '-f', "$tempdir/globals.sql" ],
	'roles restored into the fresh cluster');
my $zed_oid = $node->safe_psql('postgres', q{SELECT 'zed'::regrole::oid});
my $holder = $fresh->safe_psql('postgres', "SELECT rolname FROM pg_roles WHERE oid = $zed_oid");
isnt($holder, 'zed',
	"in the fresh cluster zed's old OID belongs to another role ($holder): the dumped OIDs mean other roles there");
$fresh->safe_psql('postgres', 'CREATE DATABASE source');
$fresh->command_ok(
	[
		'pg_restore', '--exit-on-error', '-d', $fresh->connstr('source'),
		"$tempdir/source.custom"
	],
	'restore into the fresh cluster');
is($fresh->safe_psql('source', $meta_q), $meta,
	'fresh cluster: every mapping keeps its own history (zed\'s is not amy\'s)');
is($fresh->safe_psql('source', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'fresh cluster: verify() finds no drift');
is($fresh->safe_psql('source', 'SELECT count(*) FROM usermap.verify(repair => true)'),
	'0', 'fresh cluster: and repair changes nothing');
is( $fresh->safe_psql(
		'source', q{
	SELECT string_agg(m.user_name || ':' || (mm.umuser = 0), ',' ORDER BY m.user_name COLLATE "C")
	  FROM usermap.mappings m JOIN usermap.mapping_meta mm ON mm.umid = m.umid
	 WHERE m.server_name = 'um_pg'}),
	'PUBLIC:false,public:true,regress_um_alice:false',
	'fresh cluster: the public mapping and the role "PUBLIC" stay apart');
$fresh->stop;

# No secret value anywhere in a dump.
my $plain = slurp_file("$tempdir/source.plain");
unlike($plain, qr/'first'/, 'the superseded password is not in the dump');

$node->stop;

done_testing();
