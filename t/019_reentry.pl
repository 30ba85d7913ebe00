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
# value.  Controls: the same rows read by the superuser hold the values
# (the probe would see one), the plan is parallel, and the workers'
# WARNINGs reached the reader while the trail was read (sent to the
# client too, as the review found it: with client_min_messages = error
# the leader did not mask them where the trail's masking could be
# interrupted, and nothing leaked).

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
	RAISE WARNING 'user mapping noise %', i;
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

my $leaked = 0;
for my $round (1 .. $rounds)
{
	my ($ret, $out, $err) =
	  $node->psql('postgres', "SET ROLE owner; $attack $query");
	is($ret, 0, "round $round: the reader's query ran");
	like(
		$err,
		qr/WARNING:  user mapping noise/,
		"control: round $round, the workers' WARNINGs reached the reader");
	$leaked += $out;
}
is($leaked, 0,
	"no value of alice's in the trail as her server's owner reads it ($rounds rounds of $changes rows)"
);

$node->stop;
done_testing();
