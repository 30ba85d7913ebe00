# Copyright (c) 2026, usermap developers
#
# pg_upgrade copies usermap's tables file by file but gives every user
# mapping and foreign server a new OID, so every metadata row comes out
# with OIDs of no live mapping.  No manual step may be needed (issue 18,
# point 8): each mapping is described by the one row that holds its
# names, in every view, verify() is clean straight away, the next change
# continues the mapping's history (and gives the row its OIDs), and
# verify(repair => true), if anyone runs it, re-keys the rest silently and
# deletes nothing.
#
# The old cluster's installation comes from UM_OLD_INSTALL (a directory
# with bin/ and the server's libraries, e.g. /usr/lib/postgresql/15),
# by default the same installation as the new one.  usermap must be
# installed there too; the test is skipped, with the reason, if it is not.

use strict;
use warnings;

use Cwd;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $new = PostgreSQL::Test::Cluster->new('new');
my $old_install = $ENV{UM_OLD_INSTALL};
my $old = PostgreSQL::Test::Cluster->new('old',
	defined $old_install ? (install_path => $old_install) : ());

my $old_bindir = $old->config_data('--bindir');
my $old_pkglibdir = $old->config_data('--pkglibdir');
plan skip_all => "usermap is not installed for the old cluster's server ($old_pkglibdir/usermap.so is absent)"
  unless -f "$old_pkglibdir/usermap.so";

$old->init;
$old->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$old->start;
$old->safe_psql(
	'postgres', q{
	CREATE ROLE regress_um_alice;
	CREATE ROLE "PUBLIC";
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (user 'a', password 'first');
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (user 'p');
	CREATE USER MAPPING FOR "PUBLIC" SERVER um_srv OPTIONS (user 'r', password 'r1');
});
# a rotation, in a later statement
$old->safe_psql('postgres',
	q{ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (SET password 'second')});

my $history_q = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s', server_name, user_name, created_at,
							 created_by, modified_at, secret_changed_at),
					  E'\n' ORDER BY server_name COLLATE "C", user_name COLLATE "C")
	  FROM usermap.mappings};
my $trail_q = q{
	SELECT string_agg(format('%s|%s|%s|%s', id, action, user_name, changed_options),
					  E'\n' ORDER BY id)
	  FROM usermap.audit_log};
my $stale_q = q{
	SELECT string_agg(format('%s|%s|%s', server_name, user_name, secret_changed_at), E'\n')
	  FROM usermap.stale_secrets('-1 day')};
my $history = $old->safe_psql('postgres', $history_q);
my $trail = $old->safe_psql('postgres', $trail_q);
my $stale = $old->safe_psql('postgres', $stale_q);
like($history, qr/um_srv\|regress_um_alice\|[^|]+\|[^|]+\|[^|]+\|[^|]+$/m,
	'the old cluster knows when alice\'s secret was rotated');
$old->stop;

# From 18 on initdb turns data checksums on by default; pg_upgrade needs
# the new cluster to agree with the old one.
$new->init(
	extra => ($new->pg_version >= 18 && $old->pg_version < 18)
	? ['--no-data-checksums']
	: []);
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");

my $cwd = getcwd();
chdir $new->basedir;
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $old_bindir, '-B', $new->config_data('--bindir'),
		'-s', $new->host, '-p', $old->port, '-P', $new->port
	],
	'pg_upgrade');
chdir $cwd;
$new->start;

isnt($new->safe_psql('postgres', q{
	SELECT count(*) FROM usermap.mapping_meta mm
	  JOIN pg_user_mapping m ON m.oid = mm.umid AND m.umserver = mm.umserver}),
	'3', 'pg_upgrade gave the mappings new OIDs (the case this test is about)');
is($new->safe_psql('postgres', $history_q), $history,
	'after pg_upgrade every mapping shows its history');
is($new->safe_psql('postgres', $stale_q), $stale,
	'stale_secrets() sees the same rotation times');
is($new->safe_psql('postgres', $trail_q), $trail, 'the audit trail is whole');
is($new->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'verify() is clean after pg_upgrade, without any repair');

# A change before the repair takes the detached row over.
$new->safe_psql('postgres',
	q{ALTER USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (ADD region 'eu')});
is( $new->safe_psql(
		'postgres', q{
	SELECT created_at IS NOT NULL AND modified_at > created_at FROM usermap.mappings
	 WHERE user_name = 'public'}),
	't', 'a change after pg_upgrade keeps the mapping\'s creation');

is($new->safe_psql('postgres', q{
	SELECT count(*) FROM usermap.mapping_meta mm
	  JOIN pg_user_mapping m ON m.oid = mm.umid AND m.umserver = mm.umserver}),
	'1', 'the change gave its row the mapping\'s OIDs');
is($new->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify(repair => true)'),
	'0', 'repair has nothing to report');
is($new->safe_psql('postgres', q{
	SELECT count(*) FROM usermap.mapping_meta mm
	  JOIN pg_user_mapping m ON m.oid = mm.umid AND m.umserver = mm.umserver}),
	'3', 'and gives the other rows their mappings\' OIDs');
is($new->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'no drift after the repair');
is($new->safe_psql('postgres', 'SELECT count(*) FROM usermap.mapping_meta'),
	'3', 'repair deleted no history');
my $after = $new->safe_psql('postgres', $history_q);
my ($alice_before) = $history =~ /^(um_srv\|regress_um_alice\|.*)$/m;
my ($alice_after) = $after =~ /^(um_srv\|regress_um_alice\|.*)$/m;
is($alice_after, $alice_before, 'alice\'s rotated secret is still known as rotated after the repair');
my ($role_before) = $history =~ /^(um_srv\|PUBLIC\|.*)$/m;
my ($role_after) = $after =~ /^(um_srv\|PUBLIC\|.*)$/m;
is($role_after, $role_before, 'the role "PUBLIC" keeps its own history');

$new->stop;
done_testing();
