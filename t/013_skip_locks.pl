# Copyright (c) 2026, usermap developers
#
# A CREATE USER MAPPING IF NOT EXISTS that finds the mapping there and
# skips must hold nothing that blocks another role's DDL, as the server's
# own skip holds nothing: not in an open transaction (specs/create_skip),
# not in a prepared one, and not in a prepared one after a restart, where
# the locks a prepared transaction holds are taken again from its state
# file.  A role with nothing but USAGE on a server would otherwise block
# its owner's DROP SERVER ... CASCADE for as long as it left the prepared
# transaction alone.  Each check is made through usermap and, as a
# control, with usermap.enabled = off (the server's own code).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'usermap'
max_prepared_transactions = 4
});
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION usermap;
	CREATE FOREIGN DATA WRAPPER um_fdw;
	CREATE ROLE regress_um_owner;
	CREATE ROLE regress_um_user;
	GRANT USAGE ON FOREIGN DATA WRAPPER um_fdw TO regress_um_owner;
});

# A server owned by regress_um_owner, with the mapping regress_um_user
# (USAGE only) will try to create again.
sub make_server
{
	my ($server) = @_;
	$node->safe_psql(
		'postgres', qq{
		SET ROLE regress_um_owner;
		CREATE SERVER $server FOREIGN DATA WRAPPER um_fdw;
		GRANT USAGE ON FOREIGN SERVER $server TO regress_um_user;
		RESET ROLE;
		CREATE USER MAPPING FOR regress_um_user SERVER $server OPTIONS (user 'orig');
	});
}

# regress_um_user's skipped CREATE, in a transaction prepared as $gid.
sub prepare_skip
{
	my ($server, $gid, $enabled) = @_;
	my ($ret, $stdout, $stderr) = $node->psql(
		'postgres', qq{
		SET usermap.enabled = $enabled;
		SET ROLE regress_um_user;
		BEGIN;
		CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER $server OPTIONS (user 'again');
		PREPARE TRANSACTION '$gid';
	});
	is($ret, 0, "$gid: the skipped CREATE is prepared");
	like($stderr, qr/already exists for server "$server", skipping/,
		"$gid: the CREATE skipped");
}

# The locks the prepared transaction $gid holds on anything but relations
# (a prepared transaction keeps its virtual transaction id until a restart,
# and gets -1/xid after one: found through its transaction id's lock).
sub prepared_locks
{
	my ($gid) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SELECT coalesce(string_agg(l.locktype || ' ' || l.mode, ', ' ORDER BY l.locktype, l.mode), 'none')
		  FROM pg_locks l
		 WHERE l.pid IS NULL
		   AND l.locktype NOT IN ('relation', 'transactionid', 'virtualxid')
		   AND l.virtualtransaction IN
			   (SELECT x.virtualtransaction
				  FROM pg_locks x JOIN pg_prepared_xacts p ON x.transactionid = p.transaction
				 WHERE x.locktype = 'transactionid' AND p.gid = '$gid');
	});
}

# The owner's DROP SERVER ... CASCADE, which must not wait.
sub drop_server
{
	my ($server, $gid) = @_;
	my ($ret, $stdout, $stderr) = $node->psql(
		'postgres', qq{
		SET lock_timeout = '5s';
		SET ROLE regress_um_owner;
		DROP SERVER $server CASCADE;
	});
	is($ret, 0, "$gid: the owner's DROP SERVER ... CASCADE does not wait")
	  or diag($stderr);
}

foreach my $enabled ('on', 'off')
{
	my $what = $enabled eq 'on' ? 'usermap' : 'core';

	# prepared, no restart
	make_server("um_srv_${what}_1");
	prepare_skip("um_srv_${what}_1", "skip_${what}_1", $enabled);
	is(prepared_locks("skip_${what}_1"),
		'none', "skip_${what}_1: the prepared transaction holds no lock");
	drop_server("um_srv_${what}_1", "skip_${what}_1");
	$node->safe_psql('postgres', "COMMIT PREPARED 'skip_${what}_1'");

	# prepared, then a restart: the locks come back from the state file
	make_server("um_srv_${what}_2");
	prepare_skip("um_srv_${what}_2", "skip_${what}_2", $enabled);
	$node->restart;
	is(prepared_locks("skip_${what}_2"),
		'none',
		"skip_${what}_2: after a restart the prepared transaction holds no lock"
	);
	drop_server("um_srv_${what}_2", "skip_${what}_2");
	$node->safe_psql('postgres', "COMMIT PREPARED 'skip_${what}_2'");
}

# What the skipped statements left behind: the servers and mappings are
# gone, and no prepared transaction is left.
is( $node->safe_psql(
		'postgres',
		q{SELECT (SELECT count(*) FROM pg_foreign_server) + (SELECT count(*) FROM pg_user_mapping) + (SELECT count(*) FROM pg_prepared_xacts)}
	),
	'0',
	'no server, mapping or prepared transaction is left');

$node->stop;
done_testing();
