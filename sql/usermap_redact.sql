CREATE EXTENSION usermap;
--
-- usermap.redact(): the value of every secret option in CREATE and ALTER
-- USER MAPPING statements becomes '********'; everything else is kept byte
-- for byte.  Each query shows the redacted text, or "(unchanged)".
--
SET client_min_messages = notice;
-- Connections for sections that need a new backend: one that has lexed
-- only under the defaults, and one only under standard_conforming_strings
-- off.  19 refuses the setting off ("Force standard_conforming_strings to
-- always be ON"), from the startup packet too: there the second is a new
-- backend like the first, and the SETs of the setting below fail
-- (expected/usermap_redact_1.out).
SELECT format('dbname=%s options=', current_database()) AS new_backend,
	format('dbname=%s options=%s', current_database(),
		   CASE WHEN current_setting('server_version_num')::int < 190000
		   THEN '-cstandard_conforming_strings=off' END) AS scs_off_conninfo \gset
CREATE FUNCTION regress_um_redacted(q text) RETURNS text
LANGUAGE sql AS $f$
  SELECT CASE WHEN usermap.redact(q) = q THEN '(unchanged)'
              ELSE usermap.redact(q) END
$f$;
\pset tuples_only on
\pset format unaligned

--
-- Statements, option actions and names
--
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'secret')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER s OPTIONS (password 'secret', sslpassword 'secret2')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (ADD password 'a', SET sslpassword 'b', DROP user, SET user 'carol')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR USER SERVER s OPTIONS (password 'a')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR "Bob Smith" SERVER "My Server" OPTIONS (SET password 'a')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR "public" SERVER s OPTIONS (SET password 'a')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR CURRENT_ROLE SERVER s OPTIONS (SET password 'a')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR SESSION_USER SERVER s OPTIONS (SET password 'a')$q$);
-- Role and server names that are keywords of the statement itself.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR server SERVER options OPTIONS (password 'a')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR mapping SERVER mapping OPTIONS (password 'a')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR "for" SERVER "server" OPTIONS (password 'a')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR U&"b\006fb" SERVER U&"s!0031" UESCAPE '!' OPTIONS (password 'a')$q$);
-- Option names: keywords (PASSWORD unreserved, USER reserved), any case,
-- quoted names kept as written, Unicode-escaped names decoded.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (PASSWORD 'a', Password 'b', "password" 'c', "Password" 'd', USER 'e')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (U&"pass\0077ord" 'a', U&"pass!0077ord" UESCAPE '!' 'b')$q$);
-- An option named set (or add, drop) is an action missing its option name:
-- its value is masked too.  DROP takes no value.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET 'a', ADD $$b$$, DROP password)$q$);
-- No options, or DROP: nothing to mask.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s$q$);
SELECT regress_um_redacted($q$DROP USER MAPPING IF EXISTS FOR bob SERVER s$q$);

--
-- Every form of string constant; the mask replaces the whole constant,
-- including a UESCAPE clause.
--
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'it''s', user 'it''s')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password E'it\'s \\ \x41\n', user E'\x41')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password $$it's$$, sslpassword $pw$$$x$pw$, user $u$x$u$)$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password U&'d\0061t\+000061', sslpassword U&'d!0061ta' UESCAPE '!', user U&'x')$q$);
-- N'...' is not a string constant to the grammar here: a syntax error.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password N'national')$q$);
-- A string continued on the next line is one constant.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'first'
    'second' -- a comment between the parts
  'third', user 'bob')$q$);
-- A plain literal after UESCAPE '!' on the next line would continue '!',
-- so the mask gets an empty comment in between.
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (U&"pass!0077ord" UESCAPE '!'
E'secret')$q$);

--
-- Comments, whitespace and case are kept
--
SELECT regress_um_redacted($q$/* lead */ alter/*a*/user--b
mapping	FOR/* nested /* comment */ still comment */bob
SERVER s OPTIONS(SET/*c*/password/*d*/'x'/*e*/,sslpassword'y') -- trailing password 'z'
$q$);
SELECT regress_um_redacted($q$Create User Mapping For bob Server s Options (PassWord 'x')$q$);

--
-- Several statements in one text
--
SELECT regress_um_redacted($q$SELECT 'a;b'; CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'x;y'); SELECT 1;
ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'z'); ALTER ROLE bob PASSWORD 'kept'$q$);

--
-- usermap.secret_options: exact, case-sensitive names
--
SET usermap.secret_options = 'password, Token';
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', TOKEN 'b', "token" 'c', "Token" 'd', U&"Tok\0065n" 'e', password 'f', sslpassword 'g')$q$);
-- Names are matched as the server stores them: unquoted, folded to lower
-- case.
SET usermap.secret_options = 'odbc_pwd';
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (odbc_PWD 'a', "odbc_PWD" 'b', ODBC_pwd 'c')$q$);
SET usermap.secret_options = 'user';
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'a', "USER" 'b', password 'c')$q$);
RESET usermap.secret_options;

--
-- The redactor keeps its last few results, keyed by the settings they
-- depend on: the same text redacted after a change of setting must follow
-- the new setting, and after the change is undone, the old one again.
--
SELECT usermap.redact($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', password 'b')$q$);
SET usermap.secret_options = 'token';
SELECT usermap.redact($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', password 'b')$q$);
RESET usermap.secret_options;
SELECT usermap.redact($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', password 'b')$q$);
-- A name taken out of the list stays secret until the transaction that
-- took it out ends: the rest of its query string was lexed before.
BEGIN;
SET LOCAL usermap.secret_options = 'token';
SELECT usermap.redact($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', password 'b')$q$);
ROLLBACK;
SELECT usermap.redact($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (token 'a', password 'b')$q$);
-- 'a\' ends the string only where a backslash is not an escape.  A query
-- string is lexed when it arrives and may be redacted after a statement in
-- it changed the setting, so a text is read under every value this backend
-- has lexed under, and whatever any reading takes for a secret is masked:
-- once standard_conforming_strings has been off, 'a\' is read both ways,
-- and the option list fails closed.  A new backend reads it once again.
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user 'a\', password 'b')$q$);
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user 'a\', password 'b')$q$);
RESET escape_string_warning;
RESET standard_conforming_strings;
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user 'a\', password 'b')$q$);
\c :new_backend
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user 'a\', password 'b')$q$);
-- A text that names the setting may turn it off before the statement is
-- lexed (a DO block's SET LOCAL), so before 19 it is read both ways and
-- fails closed; 19 lexes every text with it on and reads it that way only.
SELECT usermap.redact($q$DO $$BEGIN SET LOCAL standard_conforming_strings = off; EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''a\'', password ''b'')'; END$$$q$);
-- \' is refused with backslash_quote off: the statement fails closed, and
-- from then on in this backend, where a text holds \'.
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user E'it\'s', password 'b')$q$);
SET backslash_quote = off;
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user E'it\'s', password 'b')$q$);
RESET backslash_quote;
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user E'it\'s', password 'b')$q$);
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user E'a\\b', password 'b')$q$);
\c :new_backend
SET client_min_messages = notice;
-- usermap.redact does not matter: the function always masks.
SET usermap.redact = off;
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$q$);
RESET usermap.redact;

--
-- Left alone: other statements, even with passwords
--
SELECT regress_um_redacted($q$ALTER ROLE bob PASSWORD 'x'$q$);
SELECT regress_um_redacted($q$ALTER USER bob WITH PASSWORD 'x'$q$);
-- "mapping" here is a role name: these are ALTER ROLE and CREATE ROLE.
SELECT regress_um_redacted($q$ALTER USER mapping PASSWORD 'x'$q$);
SELECT regress_um_redacted($q$CREATE USER mapping PASSWORD 'x'$q$);
SELECT regress_um_redacted($q$CREATE SERVER mapping FOREIGN DATA WRAPPER w OPTIONS (password 'x')$q$);
SELECT regress_um_redacted($q$ALTER SERVER s OPTIONS (SET password 'x'); ALTER FOREIGN DATA WRAPPER mapping OPTIONS (password 'x')$q$);
SELECT regress_um_redacted($q$SELECT 'password', mapping FROM user_mapping WHERE password = 'x'$q$);
SELECT regress_um_redacted($q$SELECT 'Don''t forget the mapping'$q$);
SELECT regress_um_redacted($q$SELECT 'an unterminated note on the mapping$q$);
-- A keyword cannot be split by a comment.
SELECT regress_um_redacted($q$ALTER USER MAP/**/PING FOR bob SERVER s OPTIONS (SET password 'x')$q$);
-- Comments are kept, even when they hold a statement.
SELECT regress_um_redacted($q$-- ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')
SELECT 1$q$);

--
-- String constants holding a statement are redacted too, whatever their
-- quoting: their value may be executed.  Their replacement is a standard
-- literal, or a dollar-quoted one if they were dollar-quoted.
--
SELECT regress_um_redacted($q$SELECT 'CREATE USER MAPPING FOR bob SERVER s OPTIONS (password ''x'')' AS ddl$q$);
SELECT regress_um_redacted($q$SELECT E'CREATE USER \x4dAPPING FOR bob SERVER s OPTIONS (password \'x\')'$q$);
SELECT regress_um_redacted($q$SELECT U&'CREATE USER \004dAPPING FOR bob SERVER s OPTIONS (password ''x'')'$q$);
SELECT regress_um_redacted($q$SELECT 'CREATE USER MAP'
'PING FOR bob SERVER s OPTIONS (password ''x'')'$q$);
SELECT regress_um_redacted($q$SELECT $x$CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'x')$x$$q$);

--
-- DO blocks and function bodies
--
SELECT regress_um_redacted($q$DO $$
BEGIN
  EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''x'')';
  IF true THEN
    ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET sslpassword 'y');
  END IF;
END
$$ LANGUAGE plpgsql;$q$);
-- A body in a standard literal: quotes doubled twice over.
SELECT regress_um_redacted($q$DO 'BEGIN EXECUTE ''ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''''x'''')''; END'$q$);
SELECT regress_um_redacted($q$CREATE FUNCTION regress_um_f() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  -- rotate the secret
  EXECUTE 'CREATE USER MAPPING FOR bob SERVER s OPTIONS (user ''bob'', password ''it''''s'')';
END
$body$;$q$);
SELECT regress_um_redacted($q$CREATE PROCEDURE regress_um_p() LANGUAGE sql AS $$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$$$q$);
-- The new body would contain $$, so it gets another tag.
SELECT regress_um_redacted($q$DO $$BEGIN EXECUTE E'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''\x24\x24'', SET password ''x'')'; END$$$q$);
-- Statements built from a template: the template cannot be parsed to its
-- end, and the rest of the text holding it (here the DO body), where the
-- secret would be, is masked too.
SELECT regress_um_redacted($q$DO $$BEGIN
  EXECUTE format('ALTER USER MAPPING FOR %I SERVER s OPTIONS (SET password %L)', 'bob', 'x');
  RAISE NOTICE 'done';
END$$$q$);
SELECT regress_um_redacted($q$DO $$BEGIN
  RAISE NOTICE 'starting';
  EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ' || quote_literal('y') || ')';
END$$$q$);
-- A constant that ends in a CREATE without options, concatenated with more
-- text, is a statement assembled at run time: its options are in what
-- follows, which is masked.  Without the concatenation it is a statement
-- of its own, and nothing is masked.
SELECT regress_um_redacted($q$DO $$BEGIN EXECUTE 'CREATE USER MAPPING FOR bob SERVER s' || ' OPTIONS (password ''x'')'; END$$$q$);
SELECT regress_um_redacted($q$DO $$BEGIN EXECUTE concat('CREATE USER MAPPING FOR bob SERVER s', ' OPTIONS (password ''x'')'); END$$$q$);
SELECT regress_um_redacted($q$DO $$BEGIN EXECUTE 'CREATE USER MAPPING FOR bob SERVER s'; RAISE NOTICE 'done'; END$$$q$);
-- Nesting: four levels of constants are looked into, the fifth is masked.
SELECT regress_um_redacted($q$SELECT $a$SELECT $b$SELECT $c$SELECT $d$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$d$$c$$b$$a$$q$);
SELECT regress_um_redacted($q$SELECT $a$SELECT $b$SELECT $c$SELECT $d$SELECT $e$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$e$$d$$c$$b$$a$$q$);

--
-- Malformed statements fail closed: from the option list (or from MAPPING,
-- before the list) to the end of the text
--
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x'; SELECT 1$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x' 'y'); SELECT 1$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 42)$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x') garbage 'y'$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'y'$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS ( -- password 'x')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s password 'x'$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING IF EXISTS FOR bob SERVER s OPTIONS (password 'x')$q$);
SELECT regress_um_redacted($q$CREATE USER MAPPING FOR bob SERVER s; OPTIONS (password 'x')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s; SELECT 'x'$q$);
-- Text the lexer would reject: unterminated constants, identifiers and
-- comments, bad escapes, junk after numbers and parameters.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'it's')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password $$x)$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER "s OPTIONS (SET password 'x')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x') /* unterminated$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password E'\u12x', user 'bob')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user 1abc, SET password 'x')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user $1abc, SET password 'x')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password U&'\0000')$q$);
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password U&'x' UESCAPE 'ab')$q$);
-- Valid escapes are fine.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password E'\u00e9\U0001F600', user E'\u00e9')$q$);
-- An identifier long enough to be truncated would draw a NOTICE from the
-- lexer: the text is not lexed from there on, and no NOTICE appears.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER a_server_name_that_is_longer_than_sixty_three_bytes_so_it_is_truncated OPTIONS (SET password 'x')$q$);
-- An unlexable rest outside a user-mapping statement is masked when it
-- may hide one, and kept when it cannot.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x'); SELECT 'unterminated$q$);
SELECT regress_um_redacted($q$SELECT 1; SELECT 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''x'')$q$);
-- A mistyped quote in EXECUTE's argument: the secret ends up outside the
-- constant, and the rest of the DO body is masked.
SELECT regress_um_redacted($q$DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')'; END$$$q$);

--
-- standard_conforming_strings and backslash_quote are honoured; the lexer
-- issues no warning.  A backend that has lexed only under
-- standard_conforming_strings off reads a text only that way.
--
\c :scs_off_conninfo
SET client_min_messages = notice;
SHOW standard_conforming_strings;
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'it\'s', user 'a\\b')$q$);
-- The redacted value holds a backslash: an E'' literal keeps it one.
SELECT regress_um_redacted($q$SELECT 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''a\\\\b'', SET password ''x'')'$q$);
-- U&'' is an error with standard_conforming_strings off.
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password U&'x')$q$);
\c :new_backend
SET client_min_messages = notice;
SET backslash_quote = off;
SELECT regress_um_redacted($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', SET password E'it\'s')$q$);
RESET backslash_quote;
-- a new backend, which has lexed under the defaults only
\c :new_backend
SET client_min_messages = notice;

--
-- A rewritten constant reads back as the redacted value of the original,
-- and redacting twice changes nothing more
--
CREATE FUNCTION regress_um_reads_back(q text) RETURNS boolean
LANGUAGE plpgsql AS $f$
DECLARE
  original text;
  rewritten text;
BEGIN
  EXECUTE q INTO original;
  EXECUTE usermap.redact(q) INTO rewritten;
  RETURN rewritten = coalesce(usermap.redact(original), original)
     AND usermap.redact(q) <> q;
END
$f$;
SELECT regress_um_reads_back($q$SELECT 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''it''''s'')'$q$);
SELECT regress_um_reads_back($q$SELECT E'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''\x24\x24'', SET password ''x'')'$q$);
SELECT regress_um_reads_back($q$SELECT $$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user '$', SET password 'x')$$$q$);
SELECT regress_um_reads_back($q$SELECT U&'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''!00e9'', SET password ''x'')' UESCAPE '!'$q$);
SELECT regress_um_reads_back($q$SELECT 'ALTER USER MAPPING FOR bob SERVER s '
  -- continued
  'OPTIONS (SET password ''x'')'$q$);
-- The keyword itself split by a continuation: the text never spells
-- MAPPING, its decoded value does.  With a comment line between the parts,
-- and with carriage returns for newlines.
SELECT regress_um_reads_back($q$SELECT 'ALTER USER MAP'
  'PING FOR bob SERVER s OPTIONS (SET password ''x'')'$q$);
SELECT regress_um_reads_back($q$SELECT 'ALTER USER MAP' -- one
  -- two

  'PING FOR bob SERVER s OPTIONS (SET password ''x'')'$q$);
SELECT regress_um_reads_back(E'SELECT ''ALTER USER MAP''\r  ''PING FOR bob SERVER s OPTIONS (SET password ''''x'''')''');
-- From 17 on a vertical tab is whitespace to the lexer, also between the
-- parts of a continued constant; before, it is no whitespace and the text
-- no statement.  Either way the redactor reads what the server reads: it
-- masks the text exactly when the server runs it as one constant.
CREATE FUNCTION regress_um_runs(q text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE q;
  RETURN true;
EXCEPTION WHEN syntax_error THEN
  RETURN false;
END
$f$;
SELECT regress_um_runs(q) = (coalesce(usermap.redact(q), q) <> q) AS reads_as_the_server
FROM (VALUES (E'SELECT ''ALTER USER MAP''\n\v''PING FOR bob SERVER s OPTIONS (SET password ''''x'''')'''),
             (E'SELECT ''ALTER USER MAP''\v\n''PING FOR bob SERVER s OPTIONS (SET password ''''x'''')''')) v(q);
DROP FUNCTION regress_um_runs(text);
SELECT regress_um_reads_back($q$SELECT $a$SELECT $b$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$b$$a$$q$);
\c :scs_off_conninfo
SET escape_string_warning = off;
SELECT regress_um_reads_back($q$SELECT 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''\\\\'', SET password ''x'')'$q$);
\c :new_backend
SET client_min_messages = notice;
SELECT q AS not_idempotent
  FROM (VALUES
    ($q$CREATE USER MAPPING FOR bob SERVER s OPTIONS (U&"pass!0077ord" UESCAPE '!'
E'secret')$q$),
    ($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x' 'y'); SELECT 1$q$),
    ($q$DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')'; END$$$q$),
    ($q$DO $$BEGIN EXECUTE E'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user ''\x24\x24'', SET password ''x'')'; END$$$q$),
    ($q$SELECT $a$SELECT $b$SELECT $c$SELECT $d$SELECT $e$ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x')$e$$d$$c$$b$$a$$q$)
  ) AS t(q)
 WHERE usermap.redact(usermap.redact(q)) <> usermap.redact(q);

--
-- Log messages (usermap.redact(text, true), what the log hook applies):
-- statements quoted in double quotes, which SQL text would read as an
-- identifier, are redacted from their first keyword to the closing quote.
--
CREATE FUNCTION regress_um_message(q text) RETURNS text
LANGUAGE sql AS $f$
  SELECT CASE WHEN usermap.redact(q, true) = q THEN '(unchanged)'
              ELSE usermap.redact(q, true) END
$f$;
-- As SQL text, a short quoted statement is an identifier, kept; a long
-- one cannot be lexed, and the rest of the text is masked.
SELECT regress_um_redacted($q$SQL statement "CREATE USER MAPPING FOR b SERVER s OPTIONS (password 'x')"$q$);
SELECT regress_um_redacted($q$SQL statement "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'secret')"$q$);
-- As a message, both are redacted and the rest of the message is kept:
-- PL/pgSQL's error context,
SELECT regress_um_message($q$SQL statement "CREATE USER MAPPING FOR b SERVER s OPTIONS (password 'x')"$q$);
SELECT regress_um_message($q$SQL statement "ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET user 'bob', SET password 'secret')"
PL/pgSQL function inline_code_block line 3 at EXECUTE$q$);
-- pgaudit's CSV field, one statement or several, and its bare field;
SELECT regress_um_message($q$AUDIT: SESSION,1,1,DDL,CREATE USER MAPPING,USER MAPPING,bob on server s,"CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'secret');",<not logged>$q$);
SELECT regress_um_message($q$AUDIT: SESSION,1,1,DDL,CREATE USER MAPPING,,,"CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'a'); ALTER USER MAPPING FOR al SERVER s OPTIONS (SET password 'b')",<not logged>$q$);
SELECT regress_um_message($q$AUDIT: SESSION,1,1,DDL,ALTER USER MAPPING,,,ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'secret');,<not logged>$q$);
-- statement logging, bare SQL at the end of the message, nested or not;
SELECT regress_um_message($q$duration: 0.123 ms  statement: CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'secret')$q$);
SELECT regress_um_message($q$statement: DO $$BEGIN EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''secret'')'; END$$$q$);
-- two quoted statements, keywords split by comments and case.
SELECT regress_um_message($q$between "CREATE USER MAPPING FOR a SERVER s OPTIONS (password 'x')" and "alter /* c */ user -- c
mapping for b server s options (set password 'y')" end$q$);
-- Where the quoted statement does not end cleanly (a quote doubled inside,
-- a statement cut short), the rest of the message is masked.
SELECT regress_um_message($q$AUDIT: SESSION,1,1,DDL,CREATE USER MAPPING,,,"CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', ""password"" 'secret')",<not logged>$q$);
SELECT regress_um_message($q$SQL statement "CREATE USER MAPPING FOR b SERVER s OPTIONS (password 'x' junk)" more$q$);
SELECT regress_um_message($q$SQL statement "ALTER USER MAPPING FOR b SERVER s OPTIONS (SET password 'x$q$);
-- A quoted statement without options, and messages that only mention
-- mappings, stay unchanged.
SELECT regress_um_message($q$SQL statement "CREATE USER MAPPING FOR b SERVER s"$q$);
SELECT regress_um_message($q$relation "usermap.mapping_meta" does not exist$q$);
SELECT regress_um_message($q$user mapping for "bob" already exists for server "s"$q$);
SELECT regress_um_message($q$"create user mapping" is a command tag$q$);
-- Prose the lexer gives up on: as SQL, a rest with escapes is masked in
-- case it spells a statement; in a message only a rest that spells one out
-- (CREATE or ALTER USER MAPPING FOR): other messages are never rewritten,
-- like postgres_fdw's hint with its apostrophe.
SELECT regress_um_message($q$Target server's authentication method must be changed or password_required=false set in the user mapping attributes.$q$);
SELECT regress_um_redacted($q$JSON data, line 1: "\u000g...$q$);
SELECT regress_um_message($q$JSON data, line 1: "\u000g...$q$);
SELECT regress_um_message($q$user said: "ALTER USER \x4dAPPING FOR b SERVER s OPTIONS (SET password 'x')$q$);
SELECT regress_um_message($q$user said: "ALTER USER mapping, FOR b SERVER s OPTIONS (SET password 'x')$q$);
-- Many quoted statements: past sixteen, the rest is masked whole.
SELECT regress_um_message(string_agg(format($m$"ALTER USER MAPPING FOR u%s SERVER s OPTIONS (SET password 'p%s')"$m$, i, i), ' ')) ~ $r$u16 SERVER s OPTIONS \(SET password '\*+'\)"'\*+'$$r$ AS sixteen_then_masked
  FROM generate_series(1, 20) AS i;
SELECT regress_um_message(string_agg(format($m$"ALTER USER MAPPING FOR u%s SERVER s OPTIONS (SET password 'p%s')"$m$, i, i), ' ')) ~ $r$'p[0-9]$r$ AS any_secret_left
  FROM generate_series(1, 20) AS i;
DROP FUNCTION regress_um_message(text);

--
-- NULL in, NULL out; text with nothing to mask comes back as it was
--
SELECT usermap.redact(NULL) IS NULL AS null_in_null_out;
SELECT regress_um_redacted($q$SELECT 1$q$);

--
-- Bounded work (redact_internal.h).  A text longer than 1 MB that could
-- hold a statement is hidden whole, unread; one of 1 MB or less is read;
-- one that cannot hold a statement is never touched, however long.
--
SELECT usermap.redact('CREATE USER MAPPING FOR u SERVER s OPTIONS (password ''p'') --' || repeat('x', 1024 * 1024)) AS over_one_mb;
SELECT left(r, 70) AS at_one_mb, length(r) AS length
  FROM usermap.redact('CREATE USER MAPPING FOR u SERVER s OPTIONS (password ''p'') --' || repeat('x', 1000000)) AS r;
SELECT length(usermap.redact(repeat('x', 2000000))) AS never_touched;
-- A text that would take more than its budget to read (here, an
-- unterminated comment after every CREATE of a log message, which the
-- quoted-statement scan would follow to the end from each) is hidden whole.
SELECT usermap.redact('mapping ' || repeat('create/*', 20000), log_message => true) AS over_budget;
SELECT length(usermap.redact('mapping ' || repeat('create/*', 20), log_message => true)) AS within_budget;
-- A text that declares more than sixteen names secret itself makes every
-- option secret; sixteen are followed one by one.
SELECT usermap.redact('SET usermap.secret_options = ''' || string_agg('a' || i, ',') || '''; CREATE USER MAPPING FOR u SERVER s OPTIONS (user ''bob'', a16 ''x'')') AS sixteen_names
  FROM generate_series(1, 16) AS i;
SELECT usermap.redact('SET usermap.secret_options = ''' || string_agg('a' || i, ',') || '''; CREATE USER MAPPING FOR u SERVER s OPTIONS (user ''bob'', a16 ''x'')') AS seventeen_names
  FROM generate_series(1, 17) AS i;
-- A dollar-quoted body is written back with its own tag.
SELECT usermap.redact($q$DO $redacted$ CREATE USER MAPPING FOR u SERVER s OPTIONS (password 'p') $redacted$$q$) AS tag_kept;

\pset tuples_only off
\pset format aligned

--
-- The server's own code gets the text the client sent, not the masked
-- copy other libraries see: an error position in a statement that holds a
-- secret is the same with usermap.redact off (the server alone) and on.
--
SET usermap.redact = off;
DO $$BEGIN IF false THEN EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''a secret much longer than its mask'')'; END IF; END$$ LANGUAGE plpgsql LANGUAGE plpgsql;
RESET usermap.redact;
DO $$BEGIN IF false THEN EXECUTE 'ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ''a secret much longer than its mask'')'; END IF; END$$ LANGUAGE plpgsql LANGUAGE plpgsql;
DROP FUNCTION regress_um_redacted(text);
DROP FUNCTION regress_um_reads_back(text);
DROP EXTENSION usermap;
