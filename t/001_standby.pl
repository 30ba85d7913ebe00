# Copyright (c) 2026, usermap developers
#
# Hot standby: user mappings made through usermap on the primary replicate
# like any catalog change, and so do usermap's metadata and audit trail;
# on the standby all three statements are refused with the server's own
# read-only error, with or without usermap, and nothing is recorded.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$primary->start;

$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE ROLE regress_um_alice;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (user 'alice');
	CREATE USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (user 'anyone');
});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# Changes made after the base backup arrive by streaming.
$primary->safe_psql(
	'postgres', q{
	ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (ADD password 'p');
	DROP USER MAPPING FOR PUBLIC SERVER um_srv;
	CREATE USER MAPPING FOR CURRENT_USER SERVER um_srv;
});
$primary->wait_for_catchup($standby);

my $mappings_query = q{
	SELECT string_agg(format('%s:%s', umuser::regrole, umoptions), ' ' ORDER BY 1)
	  FROM pg_user_mapping};
is( $standby->safe_psql('postgres', $mappings_query),
	$primary->safe_psql('postgres', $mappings_query),
	'standby has the same user mappings as the primary');
is($standby->safe_psql('postgres', 'SHOW usermap.enabled'),
	'on', 'usermap is active on the standby');

my $meta_query = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s', umid, server_name, user_name,
							 created_at, modified_at, secret_changed_at),
					  ' ' ORDER BY umid)
	  FROM usermap.mapping_meta};
my $audit_query = q{
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s', id, logged_at, action,
							 user_name, new_options, statement), ' ' ORDER BY id)
	  FROM usermap.audit_log};
is($standby->safe_psql('postgres', $meta_query),
	$primary->safe_psql('postgres', $meta_query),
	'the metadata arrives on the standby');
is($standby->safe_psql('postgres', $audit_query),
	$primary->safe_psql('postgres', $audit_query),
	'the audit trail arrives on the standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM usermap.audit_log'),
	'5', 'two changes from the base backup, three streamed after it');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'the standby sees no drift');

# Each statement, through usermap and through the server's own code, must
# fail with the same SQLSTATE and message.
my @statements = (
	[ 'CREATE USER MAPPING', q{CREATE USER MAPPING FOR PUBLIC SERVER um_srv} ],
	[
		'ALTER USER MAPPING',
		q{ALTER USER MAPPING FOR regress_um_alice SERVER um_srv OPTIONS (SET password 'q')}
	],
	[ 'DROP USER MAPPING', q{DROP USER MAPPING FOR regress_um_alice SERVER um_srv} ],
	[
		'DROP USER MAPPING',
		q{DROP USER MAPPING IF EXISTS FOR regress_um_nobody SERVER um_nosrv}
	],);

foreach my $enabled ('on', 'off')
{
	foreach my $case (@statements)
	{
		my ($tag, $sql) = @$case;
		my ($ret, $stdout, $stderr) = $standby->psql(
			'postgres',
			"SET usermap.enabled = $enabled; $sql",
			extra_params => [ '-v', 'VERBOSITY=verbose' ]);
		isnt($ret, 0, "usermap.enabled=$enabled: $sql fails on the standby");
		like(
			$stderr,
			qr/ERROR:  25006: cannot execute \Q$tag\E in a read-only transaction/,
			"usermap.enabled=$enabled: $tag gets the read-only error");
	}
}

is( $standby->safe_psql('postgres', $mappings_query),
	$primary->safe_psql('postgres', $mappings_query),
	'refused statements changed nothing on the standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM usermap.audit_log'),
	'5', 'and recorded nothing');

$standby->stop;
$primary->stop;

done_testing();
