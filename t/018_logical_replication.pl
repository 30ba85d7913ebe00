# Copyright (c) 2026, usermap developers
#
# Logical replication of usermap's tables (issue 18, point 7): the usual
# low-downtime upgrade path, CREATE PUBLICATION ... FOR ALL TABLES on the
# old primary and a subscriber whose schema comes from pg_dump
# --schema-only.  The subscriber's schema restore creates its mappings,
# which usermap records afresh; the initial sync of mapping_meta must then
# re-attach the publisher's rows to them by names, as a restore does,
# instead of failing forever on duplicate keys, and the subscriber must
# end with the publisher's history.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$sub->start;

$_->safe_psql('postgres', 'CREATE ROLE regress_um_alice') foreach ($pub, $sub);
$pub->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_a FOREIGN DATA WRAPPER um_fdw;
	CREATE SERVER um_b FOREIGN DATA WRAPPER um_fdw;
	CREATE USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (user 'on-a', password 'pa');
	CREATE USER MAPPING FOR PUBLIC SERVER um_b OPTIONS (user 'anyone');
	UPDATE usermap.mapping_meta SET created_by = 'history-of-' || server_name,
		   secret_changed_at = '2020-02-02';
	CREATE TABLE app_data (id int PRIMARY KEY);
	INSERT INTO app_data VALUES (1);
	CREATE PUBLICATION um_pub FOR ALL TABLES;
});

# The subscriber's schema, as the upgrade path makes it.
my ($schema, $dump_err);
IPC::Run::run([ 'pg_dump', '--schema-only', '--no-publications', '-d', $pub->connstr('postgres') ],
	'>', \$schema, '2>', \$dump_err) or die "pg_dump: $dump_err";
$sub->safe_psql('postgres', $schema);
my $trail_before = $pub->safe_psql('postgres', 'SELECT count(*) FROM usermap.audit_log');

my $pub_connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION um_sub CONNECTION '$pub_connstr' PUBLICATION um_pub");

# Wait for the initial sync, but not forever: it used to retry forever.
my $synced = 0;
foreach (1 .. 60)
{
	if ($sub->safe_psql('postgres', q{
		SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')}) eq 't')
	{
		$synced = 1;
		last;
	}
	sleep 1;
}
ok($synced, 'the initial sync of every table, usermap\'s included, completes');
unlike(slurp_file($sub->logfile), qr/duplicate key value violates unique constraint "mapping_meta_pkey"/,
	'without a duplicate key on mapping_meta');

my $history_q = q{
	SELECT string_agg(format('%s|%s|%s|%s', server_name, user_name, created_by, secret_changed_at),
					  E'\n' ORDER BY server_name)
	  FROM usermap.mappings};
is($sub->safe_psql('postgres', $history_q), $pub->safe_psql('postgres', $history_q),
	'the subscriber\'s mappings show the publisher\'s history');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify()'), '0',
	'and verify() finds no drift there');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM usermap.mapping_meta'), '2',
	'one metadata row per mapping');
cmp_ok($sub->safe_psql('postgres', 'SELECT count(*) FROM usermap.audit_log'), '>=', $trail_before,
	'the publisher\'s trail arrived');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM app_data'), '1', 'and so did the application\'s data');

# usermap writes its tables as the executor writes any table, the check
# of a published table's replica identity included: with mapping_meta
# published and its replica identity taken away, a change that would
# update or delete its row fails as an UPDATE would, and changes nothing.
$pub->safe_psql('postgres', 'ALTER TABLE usermap.mapping_meta REPLICA IDENTITY NOTHING');
my $before = $pub->safe_psql('postgres', q{SELECT umoptions FROM pg_user_mapping um
	JOIN pg_foreign_server s ON s.oid = um.umserver WHERE s.srvname = 'um_a'});
my ($rc, $out, $err) = $pub->psql('postgres',
	q{ALTER USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (SET user 'changed')});
like($err, qr/cannot update table "mapping_meta" because it does not have a replica identity and publishes updates/,
	'a published mapping_meta without replica identity refuses the update, as UPDATE would');
is($pub->safe_psql('postgres', q{SELECT umoptions FROM pg_user_mapping um
	JOIN pg_foreign_server s ON s.oid = um.umserver WHERE s.srvname = 'um_a'}), $before,
	'and the mapping is unchanged');
$pub->safe_psql('postgres', 'ALTER TABLE usermap.mapping_meta REPLICA IDENTITY DEFAULT');
$pub->safe_psql('postgres',
	q{ALTER USER MAPPING FOR regress_um_alice SERVER um_a OPTIONS (SET user 'changed')});
is($pub->safe_psql('postgres', q{SELECT count(*) FROM usermap.audit_log
	WHERE action = 'ALTER' AND new_options->>'user' = 'changed'}), '1',
	'with its replica identity back, the change is made and recorded once');

$sub->stop;
$pub->stop;
done_testing();
