# Copyright (c) 2026, usermap developers
#
# UsermapHygiene: what the secret-hygiene tests (t/006, t/009, t/010)
# share.  A server that writes every statement it is sent to every log
# format, hands it to pg_stat_statements and to pgaudit, and the places
# where it keeps statement text once the statements have run, so that each
# test searches the same places for its secrets.
#
#   my ($node, $pgaudit) = UsermapHygiene::start_node(pgaudit => 'required');
#   ... run statements ...
#   my %text = UsermapHygiene::kept_texts($node, sub { $observer->quit });

package UsermapHygiene;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Initialise and start a node named "main" whose logs and statistics see
# every statement.  Options:
#   pgaudit      'required' (the default: preloaded whether installed or
#                not, so that a missing pgaudit fails the test) or
#                'optional' (preloaded only if installed)
#   pgaudit_log  pgaudit.log ['ddl, role']
#   conf         more postgresql.conf lines
# Returns the node, and whether pgaudit is preloaded.
sub start_node
{
	my (%opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new('main');
	$node->init;

	my $pgaudit = 1;
	if (($opt{pgaudit} // 'required') eq 'optional')
	{
		$pgaudit = -e $node->config_data('--pkglibdir') . '/pgaudit.so';
		diag('pgaudit is not installed: its AUDIT lines are not observed')
		  unless $pgaudit;
	}
	my $preload = 'usermap,pg_stat_statements' . ($pgaudit ? ',pgaudit' : '');
	my $audit_log = $opt{pgaudit_log} // 'ddl, role';

	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = '$preload'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_statement = 'all'
log_min_duration_statement = 0
log_min_error_statement = error
pg_stat_statements.track = 'all'
pg_stat_statements.track_utility = on
compute_query_id = on
}
		  . ($pgaudit ? "pgaudit.log = '$audit_log'\n" : '')
		  . ($opt{conf} // ''));
	$node->start;
	return ($node, $pgaudit);
}

# The statement text the node keeps, by place: pg_stat_statements' view
# and its query-text file (and, once the node has stopped, the file it
# dumps its entries to), the audit trail, what the tests' event trigger
# stored in table "seen", and the server log in each format (log_stderr,
# log_csv, log_json), complete once the node is down.  Stops the node,
# calling $before_stop (if given) first, to close the test's other
# sessions.
sub kept_texts
{
	my ($node, $before_stop) = @_;
	my %text;

	$text{pgss_view} = $node->safe_psql('postgres',
		q{SELECT string_agg(query, E'\n') FROM pg_stat_statements});
	$text{audit} = $node->safe_psql('postgres',
		q{SELECT string_agg(a::text, E'\n') FROM usermap.audit_log a});
	$text{evtrig} =
	  $node->safe_psql('postgres', q{SELECT string_agg(q, E'\n') FROM seen});
	my $pgss_texts = $node->data_dir . '/pg_stat_tmp/pgss_query_texts.stat';
	$text{pgss_file} = -e $pgss_texts ? slurp_file($pgss_texts) : '';
	$before_stop->() if $before_stop;
	$node->stop;
	my $dump = $node->data_dir . '/pg_stat/pg_stat_statements.stat';
	$text{pgss_file} .= slurp_file($dump) if -e $dump;
	for my $f ($node->logfile, glob($node->data_dir . '/log/*'))
	{
		my $point =
			$f =~ /\.csv$/  ? 'log_csv'
		  : $f =~ /\.json$/ ? 'log_json'
		  :                   'log_stderr';
		$text{$point} .= slurp_file($f);
	}
	return %text;
}

1;
