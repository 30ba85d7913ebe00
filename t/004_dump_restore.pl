# Copyright (c) 2026, usermap developers
#
# pg_dump of a database with user mappings and their history restores
# cleanly into a new database, in plain and custom format: the mappings
# come back with their options, the audit trail comes back whole, and each
# mapping's metadata is re-attached to the restored mapping (which has a
# new OID), with the original times and roles.  The restore's own CREATE
# USER MAPPING statements add their audit rows after the restored ones.
#
# Then the attack of the "catalog trust" issue, forced: the same dump goes
# into a fresh cluster where roles zed and amy have traded OIDs, as
# pg_dumpall --globals-only can make them do (it recreates roles in name
# order, and here zed was made first).  Chance decides whether that
# happens, so the test makes it certain: the fresh cluster's amy and zed
# are created in binary-upgrade mode with binary_upgrade_set_next_pg_authid_oid,
# amy with zed's old OID and zed with amy's.  usermap 1.0 looked a dumped
# row up by its mapping OID first and took it if the live mapping under
# that OID had the row's role and server OIDs; so that this lookup would
# really land on the wrong mapping, the restore also gives server um_swap
# its old OID and each of amy's and zed's mappings the other's old OID
# (pg_resetwal -o before each of those objects is restored).  Every OID in
# zed's dumped row then names amy's live mapping, and the other way round:
# the test checks that, and checks that a lookup done the 1.0 way does pick
# the wrong mapping, so the test cannot pass vacuously.  Metadata is
# matched by names, never by those OIDs, so each mapping keeps its own
# history; and the public mapping and a role named "PUBLIC" stay apart
# through every restore.

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
	CREATE ROLE regress_um_dba SUPERUSER;
});
# Server um_swap and the mappings of zed and amy get OIDs far above any the
# fresh cluster below hands out by itself, so that its restore can give
# them the same OIDs again (see there).
$node->stop;
command_ok([ 'pg_resetwal', '-o', '100000', $node->data_dir ],
	'pg_resetwal -o: the next objects get OIDs from 100000');
$node->start;
$node->safe_psql(
	'source', q{
	CREATE SERVER um_swap FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR zed SERVER um_swap OPTIONS (user 'zed', password 'z1');
});
# amy's mapping has another creator, and no secret, so that the two
# histories cannot be mistaken for each other
$node->safe_psql('source',
	q{SET SESSION AUTHORIZATION regress_um_dba;
	  CREATE USER MAPPING FOR amy SERVER um_swap OPTIONS (user 'amy')});
$node->safe_psql('source',
	q{ALTER USER MAPPING FOR zed SERVER um_swap OPTIONS (SET password 'z2')});
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
my $max_id = $node->safe_psql('source', 'SELECT max(id) FROM usermap.audit_log');
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
		'CREATE regress_um_bob um_other, CREATE PUBLIC um_pg, CREATE public um_pg, CREATE regress_um_alice um_pg, CREATE amy um_swap, CREATE zed um_swap',
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

# A data-only restore with --disable-triggers (the only restore where that
# option does anything): the schema's CREATE USER MAPPING statements have
# already given each mapping a fresh row, and the dumped rows arrive
# beside them, unattached, with the trigger off.  Each mapping is then
# described by its own fresh row, by OIDs and names; verify() reports the
# dumped rows as orphaned, and repair would delete them.  The way back is
# to load mapping_meta's data again with the trigger on, which replaces
# each fresh row with the dumped history; repair then removes the copies
# that came in with the trigger off.
$node->safe_psql('postgres', 'CREATE DATABASE restored_data_only');
$node->command_ok(
	[
		'pg_restore', '--exit-on-error', '--section=pre-data',
		'-d', $node->connstr('restored_data_only'), "$tempdir/source.custom"
	],
	'data-only: the schema first');
$node->command_ok(
	[
		'pg_restore', '--exit-on-error', '--data-only', '--disable-triggers',
		'-d', $node->connstr('restored_data_only'), "$tempdir/source.custom"
	],
	'data-only: then the data, with --disable-triggers');
is( $node->safe_psql(
		'restored_data_only', q{
	SELECT string_agg(DISTINCT problem, ',') || ' ' || count(*) FROM usermap.verify()}),
	'orphaned metadata 6',
	'data-only with --disable-triggers: the dumped rows are orphaned (their mappings have rows of their own)');
$node->command_ok(
	[
		'pg_restore', '--exit-on-error', '--data-only', '--schema=usermap',
		'--table=mapping_meta', '-d', $node->connstr('restored_data_only'),
		"$tempdir/source.custom"
	],
	'data-only: mapping_meta loaded again, trigger on');
is( $node->safe_psql(
		'restored_data_only', q{
	SELECT string_agg(DISTINCT problem || ' ' || repaired, ',') || ' ' || count(*)
	  FROM usermap.verify(repair => true)}),
	'orphaned metadata true 6',
	'data-only: repair removes the copies loaded with the trigger off');
is($node->safe_psql('restored_data_only', $meta_q), $meta,
	'data-only: and every mapping has its dumped history');
is($node->safe_psql('restored_data_only', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'data-only: no drift left');

# A fresh cluster where zed and amy trade OIDs.  What the source knows:
my ($zed_role, $amy_role) = split /\|/, $node->safe_psql('postgres',
	q{SELECT 'zed'::regrole::oid || '|' || 'amy'::regrole::oid});
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
my %old_row;    # user name => "umid umuser umserver" of its dumped row
foreach (split /\n/, $node->safe_psql('source', q{
	SELECT user_name || ' ' || umid || ' ' || umuser || ' ' || umserver
	  FROM usermap.mapping_meta WHERE server_name = 'um_swap'}))
{
	my ($user, @oids) = split / /;
	$old_row{$user} = [@oids];
}
my $swap_server = $node->safe_psql('source', q{SELECT oid FROM pg_foreign_server WHERE srvname = 'um_swap'});
is($old_row{zed}[2], $swap_server, 'the dumped rows name um_swap by its OID');

my $fresh = PostgreSQL::Test::Cluster->new('fresh');
$fresh->init;
$fresh->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");

# amy and zed first, in binary-upgrade mode (postgres -b), each with the
# other's old OID; binary_upgrade_set_next_pg_authid_oid works in no other
# mode, so this also shows the mode was on.
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-w', '-D', $fresh->data_dir,
	'-l', $fresh->logfile, '-o', '-b', 'start');
$fresh->safe_psql(
	'postgres', qq{
	SELECT binary_upgrade_set_next_pg_authid_oid($zed_role);
	CREATE ROLE amy;
	SELECT binary_upgrade_set_next_pg_authid_oid($amy_role);
	CREATE ROLE zed;
});
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-w', '-D', $fresh->data_dir,
	'-m', 'fast', 'stop');
$fresh->start;

# The rest of the roles from pg_dumpall --globals-only; its ALTER ROLE
# gives amy and zed their attributes.
$node->command_ok(
	[
		'pg_dumpall', '--globals-only', '--file', "$tempdir/globals.sql",
		'--dbname', $node->connstr('postgres')
	],
	'pg_dumpall --globals-only');
my $globals = slurp_file("$tempdir/globals.sql");
like($globals, qr/^CREATE ROLE amy;.*^CREATE ROLE zed;/ms,
	'pg_dumpall creates amy before zed (name order), the other way round from their creation');
$globals =~ s/^CREATE ROLE (amy|zed|\Q$superuser\E);$//mg;
append_to_file("$tempdir/globals-rest.sql", $globals);
$fresh->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $fresh->connstr('postgres'),
		'-f', "$tempdir/globals-rest.sql"
	],
	'the other roles restored into the fresh cluster');
is( $fresh->safe_psql('postgres', q{SELECT 'amy'::regrole::oid || ' ' || 'zed'::regrole::oid}),
	"$zed_role $amy_role",
	'the swap happened: amy has zed\'s old OID, zed has amy\'s');

# Restore the custom dump item by item in list order, giving server
# um_swap its old OID and amy's and zed's mappings each other's:
# pg_resetwal -o sets the next OID, and the one object restored next takes
# it (OIDs are unique per catalog; the fresh cluster has handed out none
# near 100000).
my %pin = (
	'SERVER - um_swap ' => $swap_server,
	'USER MAPPING amy SERVER um_swap ' => $old_row{zed}[0],
	'USER MAPPING zed SERVER um_swap ' => $old_row{amy}[0]);
my ($toc, $toc_err);
IPC::Run::run([ 'pg_restore', '-l', "$tempdir/source.custom" ], '>', \$toc, '2>', \$toc_err)
  or die "pg_restore -l: $toc_err";
my @batch;
my $list_no = 0;
my $restore_list = sub {
	my $list = "$tempdir/list." . $list_no++;
	append_to_file($list, join("\n", @_) . "\n");
	$fresh->command_ok(
		[
			'pg_restore', '--exit-on-error', '-L', $list,
			'-d', $fresh->connstr('source'), "$tempdir/source.custom"
		],
		"restore into the fresh cluster, part $list_no");
};
$fresh->safe_psql('postgres', 'CREATE DATABASE source');
my $pinned = 0;
foreach my $entry (grep { /^\d+;/ } split /\n/, $toc)
{
	my ($key) = grep { index($entry, $_) >= 0 } keys %pin;
	if (!defined $key)
	{
		push @batch, $entry;
		next;
	}
	$restore_list->(@batch) if @batch;
	@batch = ();
	$fresh->stop;
	PostgreSQL::Test::Utils::system_or_bail('pg_resetwal', '-o', $pin{$key}, $fresh->data_dir);
	$fresh->start;
	$restore_list->($entry);
	$pinned++;
}
$restore_list->(@batch) if @batch;
is($pinned, 3, 'the server and both mappings were restored under chosen OIDs');

# Every OID in each dumped row now names the other role's live mapping.
my $holder_q = q{
	SELECT coalesce((SELECT r.rolname FROM pg_user_mapping m JOIN pg_roles r ON r.oid = m.umuser
					  WHERE m.oid = %s AND m.umuser = %s AND m.umserver = %s), 'none')};
is($fresh->safe_psql('source', sprintf($holder_q, @{ $old_row{zed} })),
	'amy', 'zed\'s dumped umid, umuser and umserver all name amy\'s mapping in the fresh cluster');
is($fresh->safe_psql('source', sprintf($holder_q, @{ $old_row{amy} })),
	'zed', 'and amy\'s name zed\'s');
# The control: 1.0's lookup (src/reattach.c before 1.1: the live mapping
# under the row's umid, if its umuser and umserver are the row's, else by
# names) done on each dumped row, in SQL.  It would have put zed's
# history on amy's mapping and amy's on zed's.
my $oid_first_q = q{
	SELECT coalesce((SELECT r.rolname FROM pg_user_mapping m JOIN pg_roles r ON r.oid = m.umuser
					  WHERE m.oid = %s AND m.umuser = %s AND m.umserver = %s),
					(SELECT r.rolname FROM pg_user_mapping m JOIN pg_roles r ON r.oid = m.umuser
					   JOIN pg_foreign_server s ON s.oid = m.umserver
					  WHERE s.srvname = 'um_swap' AND r.rolname = '%s'))};
is( join(',',
		map { "$_->" . $fresh->safe_psql('source', sprintf($oid_first_q, @{ $old_row{$_} }, $_)) }
		  sort keys %old_row),
	'amy->zed,zed->amy',
	'control: OID-first matching (usermap 1.0) would have swapped the two histories');

# What 1.1 did: each mapping has its own history.
is($fresh->safe_psql('source', $meta_q), $meta,
	'fresh cluster: every mapping keeps its own history');
is( $fresh->safe_psql(
		'source', q{
	SELECT string_agg(format('%s|%s|%s', user_name, created_by, secret_changed_at IS NOT NULL), ','
					  ORDER BY user_name)
	  FROM usermap.mappings WHERE server_name = 'um_swap'}),
	"amy|regress_um_dba|f,zed|$superuser|t",
	'fresh cluster: amy\'s mapping was made by regress_um_dba and never rotated, zed\'s by its creator and rotated');
my $swap_trail_q = q{
	SELECT string_agg(format('%s %s %s', user_name, action, changed_options), ', ' ORDER BY id)
	  FROM usermap.audit_trail WHERE server_name = 'um_swap'};
is($fresh->safe_psql('source', $swap_trail_q . " AND id <= $max_id"),
	'zed CREATE {user,password}, amy CREATE {user}, zed ALTER {password}',
	'fresh cluster: the restored audit rows name their own mappings');
is( $fresh->safe_psql(
		'source', q{
	SELECT string_agg(m.user_name || ':' || (mm.umid = m.umid AND mm.umuser = r.oid), ','
					  ORDER BY m.user_name)
	  FROM usermap.mappings m JOIN usermap.mapping_meta mm ON mm.umid = m.umid
	  JOIN pg_roles r ON r.rolname = m.user_name
	 WHERE m.server_name = 'um_swap'}),
	'amy:true,zed:true',
	'fresh cluster: each row is attached, by OIDs, to the mapping it names');
my $meta_rows_q = q{
	SELECT string_agg(format('%s', mm), E'\n' ORDER BY umid) FROM usermap.mapping_meta mm};
my $meta_rows = $fresh->safe_psql('source', $meta_rows_q);
is($fresh->safe_psql('source', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'fresh cluster: verify() finds no drift');
is($fresh->safe_psql('source', 'SELECT count(*) FROM usermap.verify(repair => true)'),
	'0', 'fresh cluster: repair finds nothing to do');
is($fresh->safe_psql('source', $meta_rows_q), $meta_rows,
	'fresh cluster: and changes no row');
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
