# Copyright (c) 2026, usermap developers
#
# Where usermap goes in shared_preload_libraries.  Libraries listed later
# wrap the ones listed earlier, and usermap does not pass the statements it
# executes further down the chain.  So pg_stat_statements and pgaudit see
# user-mapping DDL only when they are listed after usermap; listed before
# it, pg_stat_statements misses the statements and pgaudit's event trigger
# makes them fail.  usermap warns about the wrong order at server start.
# This test pins down both orders, which the README's advice rests on.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
pgaudit.log = 'ddl, role'
pg_stat_statements.track_utility = on
});

# Run one user-mapping statement through a fresh server with the given
# load order; return what pg_stat_statements and pgaudit made of it, and
# whether usermap executed it.
sub run_with_order
{
	my ($order) = @_;

	$node->stop if defined $node->{_pid};
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = '$order'");
	$node->start;
	$node->safe_psql(
		'postgres', q{
		DROP EXTENSION IF EXISTS pg_stat_statements;
		CREATE EXTENSION pg_stat_statements;
		DROP SERVER IF EXISTS um_srv CASCADE;
		DROP FOREIGN DATA WRAPPER IF EXISTS um_fdw;
		CREATE FOREIGN DATA WRAPPER um_fdw;
		CREATE SERVER um_srv FOREIGN DATA WRAPPER um_fdw;
		SELECT pg_stat_statements_reset();
	});
	$node->safe_psql('postgres', 'CREATE EXTENSION IF NOT EXISTS pgaudit')
	  if $order =~ /pgaudit/;

	my $log_offset = -s $node->logfile;
	my ($ret, $usermap_ran, $stderr) = $node->psql(
		'postgres', q{
		BEGIN;
		CREATE USER MAPPING FOR PUBLIC SERVER um_srv OPTIONS (tag 'load-order');
		SELECT count(*) FROM pg_locks
		 WHERE pid = pg_backend_pid() AND locktype = 'userlock' AND objsubid = 30061;
		COMMIT;
	});
	my $pgss_calls = $node->safe_psql(
		'postgres', q{
		SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
		 WHERE query LIKE 'CREATE USER MAPPING%'});
	my $log = slurp_file($node->logfile, $log_offset);
	my $audited = () = $log =~ /AUDIT: SESSION,\d+,\d+,(?:DDL|ROLE),CREATE USER MAPPING,/g;

	return ($ret, $usermap_ran, $stderr, $pgss_calls, $audited);
}

my $order_warning =
  qr/WARNING:  usermap is not first among the libraries that hook utility statements/;

my $log_offset = -s $node->logfile;
my ($ret, $ran, $stderr, $pgss, $audit) =
  run_with_order('usermap, pg_stat_statements, pgaudit');
is($ret,   0,   'usermap first: the statement succeeds');
is($ran,   '1', 'usermap first: usermap executes it');
is($pgss,  '1', 'usermap first: pg_stat_statements counts it');
is($audit, 1,   'usermap first: pgaudit logs it once');
unlike(slurp_file($node->logfile, $log_offset),
	$order_warning, 'usermap first: no warning at start');

$log_offset = -s $node->logfile;
($ret, $ran, $stderr, $pgss, $audit) =
  run_with_order('pg_stat_statements, pgaudit, usermap');
like(slurp_file($node->logfile, $log_offset),
	$order_warning, 'usermap last: warning at server start');
isnt($ret, 0, 'usermap last: the statement fails');
like(
	$stderr,
	qr/pgaudit not loaded before call to pgaudit_ddl_command_end/,
	'usermap last: because pgaudit\'s event trigger never saw its own hook run');
is($pgss,  '0', 'usermap last: pg_stat_statements never counts it');
is($audit, 0,   'usermap last: pgaudit never logs it');

# Without pgaudit in the list, the wrong order "only" hides the statement
# from pg_stat_statements.
$node->safe_psql('postgres', 'DROP EXTENSION pgaudit');
$log_offset = -s $node->logfile;
($ret, $ran, $stderr, $pgss, $audit) =
  run_with_order('pg_stat_statements, usermap');
like(slurp_file($node->logfile, $log_offset),
	$order_warning, 'pg_stat_statements before usermap: warning at start');
is($ret,  0,   'pg_stat_statements before usermap: the statement succeeds');
is($ran,  '1', 'pg_stat_statements before usermap: usermap executes it');
is($pgss, '0', 'pg_stat_statements before usermap: it is not counted');

$node->stop;

done_testing();
