# Copyright (c) 2026, usermap developers
#
# A storm of user-mapping DDL from several sessions, with some
# transactions rolled back on purpose, is cut short by SIGKILL to the
# postmaster.  After crash recovery pg_user_mapping, usermap's metadata and
# its audit trail must agree exactly: every committed change is in the
# trail, in a chain where each row starts from the options the previous
# one ended with, and nothing of a transaction that did not commit is
# anywhere.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'usermap'");
$node->start;

my $roles   = 6;
my $servers = 3;
$node->safe_psql(
	'postgres', qq{
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	SELECT format('CREATE ROLE regress_um_r%s', r) FROM generate_series(1, $roles) r \\gexec
	SELECT format('CREATE SERVER um_s%s FOREIGN DATA WRAPPER um_fdw', s)
	  FROM generate_series(1, $servers) s \\gexec
});

# Each transaction picks a mapping and does one of: create it, alter it,
# drop it, or alter it and roll back.  Errors (the mapping is not there)
# are caught inside the DO blocks so that no client stops early.
my $script = "$PostgreSQL::Test::Utils::tmp_check/storm.sql";
open(my $fh, '>', $script) or die "could not write $script: $!";
print $fh <<'SQL';
\set r random(1, 6)
\set s random(1, 3)
\set op random(1, 4)
\set v random(1, 1000000)
DO $$
BEGIN
  CASE :op
    WHEN 1 THEN
      CREATE USER MAPPING IF NOT EXISTS FOR regress_um_r:r SERVER um_s:s
        OPTIONS (user 'u:v', password 'p:v');
    WHEN 2 THEN
      ALTER USER MAPPING FOR regress_um_r:r SERVER um_s:s
        OPTIONS (SET password 'p:v');
    WHEN 3 THEN
      DROP USER MAPPING IF EXISTS FOR regress_um_r:r SERVER um_s:s;
    ELSE
      ALTER USER MAPPING FOR regress_um_r:r SERVER um_s:s
        OPTIONS (SET user 'rolled-back');
      RAISE EXCEPTION 'roll back on purpose';
  END CASE;
EXCEPTION
  WHEN undefined_object OR raise_exception THEN NULL;
END $$;
SQL
close $fh;

# Start the storm, let it commit for a while, then kill the postmaster.
my $storm_log = "$PostgreSQL::Test::Utils::tmp_check/storm.log";
my $storm = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '4', '-T', '60', '-f', $script,
		$node->connstr('postgres')
	],
	'>', $storm_log, '2>&1');

my $committed = 0;
for (my $i = 0; $i < 300 && $committed < 300; $i++)
{
	usleep(100_000);
	$committed = $node->safe_psql('postgres', 'SELECT count(*) FROM usermap.audit_log');
}
cmp_ok($committed, '>=', 300, 'the storm committed changes before the crash');

$node->kill9;
$storm->finish;
like(slurp_file($storm_log),
	qr/terminat|server closed the connection|connection to server/i,
	'the storm was cut short by the crash');

# Backends notice the postmaster's death on their own; until the last one
# has gone, a new postmaster refuses to start (as in PostgreSQL's own
# 017_shm.pl).
my $started = 0;
for (my $i = 0; $i < 120 && !$started; $i++)
{
	$started = $node->start(fail_ok => 1);
	next if $started;
	usleep(500_000);
	# a failed start leaves the stale PID recorded; clear it
	$node->stop('fast', fail_ok => 1);
}
ok($started, 'the server restarts after the crash');

# 1. Metadata and catalog agree exactly.
is($node->safe_psql('postgres', 'SELECT count(*) FROM usermap.verify()'),
	'0', 'no drift between pg_user_mapping and the metadata');

# 2. Each mapping's chain of audit rows is unbroken, and ends where the
#    catalog is.
is( $node->safe_psql(
		'postgres', q{
	WITH chain AS (
		SELECT a.*,
			   lag(action) OVER w AS prev_action,
			   lag(new_options) OVER w AS prev_new
		  FROM usermap.audit_log a
		WINDOW w AS (PARTITION BY server_name, user_name ORDER BY id))
	SELECT count(*) FROM chain
	 WHERE CASE action
			 WHEN 'CREATE' THEN prev_action IS NOT NULL AND prev_action <> 'DROP'
			 ELSE prev_action IS NULL OR prev_action = 'DROP'
				  OR old_options IS DISTINCT FROM prev_new
		   END}),
	'0',
	'every audit row starts from the options the previous one ended with');

is( $node->safe_psql(
		'postgres', q{
	WITH last AS (
		SELECT DISTINCT ON (server_name, user_name) *
		  FROM usermap.audit_log ORDER BY server_name, user_name, id DESC),
	live AS (
		SELECT s.srvname::text AS server_name, r.rolname::text AS user_name,
			   usermap.mask_options(m.umoptions, true) AS options
		  FROM pg_user_mapping m
		  JOIN pg_foreign_server s ON s.oid = m.umserver
		  JOIN pg_roles r ON r.oid = m.umuser)
	SELECT count(*) FROM last FULL JOIN live USING (server_name, user_name)
	 WHERE (live.options IS NOT NULL OR live.server_name IS NOT NULL)
		   AND (last.action IS NULL OR last.action = 'DROP'
				OR live.options IS DISTINCT FROM last.new_options)
		OR live.server_name IS NULL AND last.action <> 'DROP'}),
	'0',
	'the last audit row of every mapping matches the catalog');

# 3. Nothing from the transactions that rolled back.
is( $node->safe_psql(
		'postgres', q{
	SELECT (SELECT count(*) FROM usermap.audit_log
			 WHERE audit_log::text LIKE '%rolled-back%')
		 + (SELECT count(*) FROM pg_user_mapping
			 WHERE umoptions::text LIKE '%rolled-back%')}),
	'0',
	'no trace of rolled-back transactions');

# 4. Every audit row belongs to a committed transaction, and the metadata
#    rows point at live mappings with the secret time set.
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM usermap.audit_log
	 WHERE pg_xact_status(transaction_id) <> 'committed'}),
	'0',
	'all audit rows come from committed transactions');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM usermap.mappings
	 WHERE created_at IS NULL OR secret_changed_at IS NULL}),
	'0',
	'every surviving mapping has its creation and secret time');

# Recording goes on after recovery.
$node->safe_psql('postgres',
	q{CREATE USER MAPPING IF NOT EXISTS FOR regress_um_r1 SERVER um_s1 OPTIONS (user 'after')});
$node->safe_psql('postgres',
	q{ALTER USER MAPPING FOR regress_um_r1 SERVER um_s1 OPTIONS (SET user 'after-crash')});
is( $node->safe_psql(
		'postgres',
		q{SELECT new_options->>'user' FROM usermap.audit_log ORDER BY id DESC LIMIT 1}),
	'after-crash',
	'changes after recovery are recorded');

$node->stop;

done_testing();
