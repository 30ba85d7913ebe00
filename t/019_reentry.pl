# Copyright (c) 2026, usermap developers
#
# A redaction inside a redaction.  The redactor serves interrupts while it
# works (redact_charge), so that a long text can be cancelled; an interrupt
# may report a message, a parallel worker's WARNING for one, and the log
# hook masks that message with the redactor before the outer redaction
# goes on.  The inner one used to leave the shared state as it set it: the
# outer, mask_statement() showing a reader the audit trail with every
# value masked, went on masking secrets only, and the reader read values
# pg_user_mappings hides from her.
#
# The attack, as the third review ran it: alice changes her mapping's
# non-secret option "host" many times; the server's owner, an auditor who
# may not see alice's values, reads the trail in a query whose parallel
# workers raise WARNINGs that name a user mapping (so that the log hook
# has to mask them) while the leader masks the rows.  No row may show a
# value.  Then the deterministic form the fourth review found: one
# statement of 20000 options masked while the messages are queued.
# Controls: the same rows read by the superuser hold the values (the
# probe would see one); the plan is parallel; log_min_messages = warning,
# so that the log hook runs for the workers' WARNINGs (the review found
# nothing leaks with them not logged), and client_min_messages = warning
# in the reader's session (with it at error nothing leaked here either);
# at least 100 WARNINGs from processes other than the leader reached the
# reader.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $changes = 3000;
my $rounds = 3;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'usermap'
max_worker_processes = 8
max_parallel_workers = 8
# the workers' WARNINGs must reach the log hook: it runs for what is logged
log_min_messages = warning
});
$node->start;

$node->safe_psql(
	'postgres', qq{
	CREATE EXTENSION usermap;
	CREATE ROLE owner LOGIN IN ROLE usermap_auditor;
	CREATE ROLE alice LOGIN;
	CREATE FOREIGN DATA WRAPPER w;
	GRANT USAGE ON FOREIGN DATA WRAPPER w TO owner;
	SET ROLE owner;
	CREATE SERVER s FOREIGN DATA WRAPPER w;
	GRANT USAGE ON FOREIGN SERVER s TO alice;
	RESET ROLE;
	SET ROLE alice;
	CREATE USER MAPPING FOR alice SERVER s OPTIONS (host 'HIDDEN-0');
	DO \$\$BEGIN
		FOR i IN 1..$changes LOOP
			EXECUTE format('ALTER USER MAPPING FOR alice SERVER s OPTIONS (SET host %L)',
						   'HIDDEN-' || i);
		END LOOP;
	END\$\$;
});

is( $node->safe_psql(
		'postgres', q{
	SET ROLE owner;
	SELECT umoptions IS NULL FROM pg_user_mappings WHERE usename = 'alice'}),
	't',
	'the server owner may not see alice\'s values');

is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM usermap.audit_trail WHERE statement LIKE '%HIDDEN-%'}),
	$changes + 1,
	'control: the superuser reads every value in the trail');

# The reader's query: the trail, and an EXISTS whose parallel scan calls a
# function that raises a WARNING naming a user mapping for every row.
my $attack = q{
SET client_min_messages = warning;
SET parallel_leader_participation = off;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.noisy(i int) RETURNS bool LANGUAGE plpgsql
PARALLEL SAFE COST 1000 AS $$
BEGIN
	PERFORM pg_sleep(0.0003);
	RAISE WARNING 'user mapping noise % from %', i, pg_backend_pid();
	RETURN true;
END$$;
};
my $query = q{
SELECT count(*) FILTER (WHERE t.statement LIKE '%HIDDEN%')
  FROM usermap.audit_trail t
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				WHERE pg_temp.noisy(a.attnum))};

like(
	$node->safe_psql(
		'postgres', "SET ROLE owner; $attack EXPLAIN (COSTS OFF) $query"),
	qr/Gather/,
	'control: the reader\'s query is parallel');

# Run the reader's query; return what it printed after the leader's pid,
# and check that WARNINGs came from at least one process other than the
# leader (its workers), many of them.
sub attack
{
	my ($round, $sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres',
		"SET ROLE owner; $attack SELECT pg_backend_pid(); $sql");
	is($ret, 0, "$round: the reader's query ran");
	my ($leader, $result) = split /\n/, $out, 2;
	my $from_workers = () = $err =~ /user mapping noise \d+ from (?!$leader\b)\d+/g;
	cmp_ok($from_workers, '>=', 100,
		"control: $round, WARNINGs from the workers reached the leader");
	return $result;
}

my $leaked = 0;
$leaked += attack("round $_", $query) for 1 .. $rounds;
is($leaked, 0,
	"no value of alice's in the trail as her server's owner reads it ($rounds rounds of $changes rows)"
);

# The same, deterministic (the review's stronger form): one statement of
# 20000 options masked by mask_statement(..., false) while the workers'
# messages are already queued, so that the masker serves many of them.
# Every value must be masked.
my $big = q{
SELECT count(*)
  FROM (SELECT usermap.mask_statement(big, false) AS m
		  FROM (SELECT 'ALTER USER MAPPING FOR alice SERVER s OPTIONS (' ||
					   string_agg(format('ADD o%s %L', i, 'VALUE-' || i), ', ') ||
					   ')' AS big
				  FROM generate_series(1, 20000) i) b
		 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
						WHERE pg_temp.noisy(a.attnum))) x,
	   regexp_matches(x.m, 'VALUE-[0-9]+', 'g')};
is(attack('one statement', $big), 0,
	'no value of a 20000-option statement shown while the masker served interrupts');

$node->stop;
done_testing();
