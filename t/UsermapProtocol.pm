# Copyright (c) 2026, usermap developers
#
# UsermapProtocol: a minimal client of the frontend/backend protocol 3.0,
# over the Unix socket of a PostgreSQL::Test::Cluster node with trust
# authentication, for tests that must send messages in orders libpq never
# does (a Bind left without its Execute, a Parse replaced before it is
# executed, a simple Query between Parse and Bind, ...).
#
# Each message is one method; nothing is sent until it is called, and
# nothing is read until a read_* method is.  What the server sends back is
# returned as a list of hashes { type => 'E', ... }, and every error and
# notice the client was sent is kept in ->{client_text}, for tests that
# search what the client saw.
#
#   my $c = UsermapProtocol->connect($node);
#   $c->parse('', 'SELECT 1'); $c->bind('', ''); $c->execute('');
#   $c->sync;
#   my @replies = $c->read_until_ready;

package UsermapProtocol;

use strict;
use warnings;

use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use PostgreSQL::Test::Utils;

# Connect to the node's socket and finish the startup.  Options: dbname
# (postgres), user (the OS user, initdb's default superuser), and any
# further startup parameters in "params" (e.g. { options => '-c x=y' }).
sub connect
{
	my ($class, $node, %opt) = @_;
	my $path = $node->host . '/.s.PGSQL.' . $node->port;
	my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path)
	  or die "could not connect to $path: $!";
	my $self = bless {
		sock        => $sock,
		inbuf       => '',
		client_text => '',
		pid         => undef,
	}, $class;

	my %params = (
		user => $opt{user} // scalar(getpwuid($<)),
		database => $opt{dbname} // 'postgres',
		application_name => 'usermap_protocol',
		%{ $opt{params} // {} });
	# StartupMessage: no type byte; length, protocol 3.0, name/value pairs
	my $body = pack('N', 3 << 16)
	  . join('', map { "$_\0$params{$_}\0" } sort keys %params) . "\0";
	$self->_write(pack('N', 4 + length $body) . $body);
	for my $m ($self->read_until_ready)
	{
		die "startup failed: $m->{message}" if $m->{type} eq 'E';
		die "authentication other than trust requested"
		  if $m->{type} eq 'R' && $m->{auth} != 0;
	}
	return $self;
}

sub _write
{
	my ($self, $data) = @_;
	while (length $data)
	{
		my $n = syswrite($self->{sock}, $data);
		die "write to server failed: $!" unless defined $n;
		substr($data, 0, $n) = '';
	}
}

# A message: type byte, int32 length (itself included), body.
sub _send
{
	my ($self, $type, $body) = @_;
	$self->_write($type . pack('N', 4 + length $body) . $body);
}

# Parse: statement name ('' is the unnamed one), query text, parameter
# type OIDs (none: the server infers them).
sub parse
{
	my ($self, $name, $sql, @types) = @_;
	$self->_send('P',
		"$name\0$sql\0" . pack('n', scalar @types) . pack('N*', @types));
}

# Bind: portal, statement, parameter values in text format (undef: NULL),
# results in text format.
sub bind
{
	my ($self, $portal, $name, @params) = @_;
	my $body = "$portal\0$name\0" . pack('n', 0) . pack('n', scalar @params);
	$body .= defined $_ ? pack('N', length $_) . $_ : pack('l>', -1)
	  for @params;
	$self->_send('B', $body . pack('n', 0));
}

# Describe and Close: $kind is 'S' (statement) or 'P' (portal).
sub describe { my ($self, $kind, $name) = @_; $self->_send('D', "$kind$name\0") }
sub close    { my ($self, $kind, $name) = @_; $self->_send('C', "$kind$name\0") }

# Execute a portal, returning at most $maxrows rows (0: all).
sub execute
{
	my ($self, $portal, $maxrows) = @_;
	$self->_send('E', "$portal\0" . pack('N', $maxrows // 0));
}

sub sync  { $_[0]->_send('S', '') }
sub flush { $_[0]->_send('H', '') }

# Simple query: one or more statements, answered up to ReadyForQuery.
sub query { my ($self, $sql) = @_; $self->_send('Q', "$sql\0") }

sub terminate
{
	my ($self) = @_;
	$self->_send('X', '');
	CORE::close($self->{sock});
}

# Read one message, waiting at most the test suite's default timeout.
sub read_message
{
	my ($self) = @_;
	my $sel = IO::Select->new($self->{sock});
	while (length $self->{inbuf} < 5
		|| length $self->{inbuf} < 1 + unpack('N', substr($self->{inbuf}, 1, 4)))
	{
		die "timed out waiting for the server"
		  unless $sel->can_read($PostgreSQL::Test::Utils::timeout_default);
		my $n = sysread($self->{sock}, $self->{inbuf}, 65536,
			length $self->{inbuf});
		die "read from server failed: " . ($n // $!) unless $n;
	}
	my ($type, $len) = unpack('a N', $self->{inbuf});
	my $body = substr($self->{inbuf}, 5, $len - 4);
	substr($self->{inbuf}, 0, 1 + $len) = '';

	my $m = { type => $type, body => $body };
	if ($type eq 'E' || $type eq 'N')
	{
		# fields: a code byte and a string each, ended by a zero byte
		while ($body =~ /\G([^\0])([^\0]*)\0/gc)
		{
			$m->{fields}{$1} = $2;
		}
		$m->{message}  = $m->{fields}{M} // '';
		$m->{severity} = $m->{fields}{V} // $m->{fields}{S} // '';
		$self->{client_text} .=
		  join("\n", map { "$_: $m->{fields}{$_}" } sort keys %{ $m->{fields} })
		  . "\n";
	}
	elsif ($type eq 'R')
	{
		$m->{auth} = unpack('N', $body);
	}
	elsif ($type eq 'K')
	{
		$self->{pid} = unpack('N', $body);
	}
	elsif ($type eq 'Z')
	{
		$m->{status} = $body;    # I (idle), T (in a transaction), E (failed)
	}
	elsif ($type eq 'C')
	{
		($m->{tag}) = $body =~ /^([^\0]*)/;
	}
	return $m;
}

# Read messages up to and including the first of one of the given types;
# return them all.  After a Flush, wait for the reply of the last message
# sent ('1' ParseComplete, '2' BindComplete, 'C' CommandComplete, ...),
# or 'E' for an error.
sub read_until
{
	my ($self, @types) = @_;
	my @m;
	do { push @m, $self->read_message }
	  until grep { $_ eq $m[-1]{type} } @types;
	return @m;
}

sub read_until_ready { return $_[0]->read_until('Z') }

# The errors among replies, as "SEVERITY: message" strings.
sub errors
{
	my ($class, @replies) = @_;
	return map { "$_->{severity}: $_->{message}" }
	  grep { $_->{type} eq 'E' } @replies;
}

1;
