--
-- The oracle: a role that may change a mapping's option but not see its
-- value must not learn from usermap whether a value it SETs was the old
-- one.  Core's ALTER answers the same either way; so must every view,
-- table, function and column usermap shows it, inside its own
-- transaction too.  The attacker is a server owner (any role with USAGE on
-- a wrapper can create a server) who is also an auditor: she may change
-- every mapping on her server, and pg_user_mappings hides alice's option
-- values from her.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_owner IN ROLE usermap_auditor;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN DATA WRAPPER regress_um_fdw TO regress_um_owner;
SET ROLE regress_um_owner;
CREATE SERVER regress_um_hers FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_hers TO regress_um_alice;
RESET ROLE;
SET ROLE regress_um_alice;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_hers
  OPTIONS (user 'alice-login', password 'alice-pw');
RESET ROLE;

-- She may not see the values.
SET ROLE regress_um_owner;
SELECT usename, umoptions FROM pg_user_mappings WHERE srvname = 'regress_um_hers';
RESET ROLE;

-- Everything she can read about the mapping after her change, in her own
-- transaction: the trail's last row, the mapping's view row, its metadata
-- row, stale_secrets() and verify().  Times are compared with the
-- mapping's creation, as she would.
CREATE FUNCTION regress_um_observe() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(E'\n',
    (SELECT format('trail: %s %s %s changed=%s old=%s new=%s by %s/%s: %s',
                   t.action, t.server_name, t.user_name, t.changed_options,
                   t.old_options, t.new_options, t.session_role, t."current_role",
                   t.statement)
       FROM usermap.audit_trail t ORDER BY t.id DESC LIMIT 1),
    (SELECT format('mappings: options=%s modified=%s secret_changed=%s secret_options=%s',
                   m.options, m.modified_at > m.created_at,
                   m.secret_changed_at > m.created_at, m.secret_options)
       FROM usermap.mappings m WHERE m.user_name = 'regress_um_alice'),
    (SELECT format('mapping_meta: modified=%s secret_changed=%s',
                   mm.modified_at > mm.created_at,
                   mm.secret_changed_at > mm.created_at)
       FROM usermap.mapping_meta mm WHERE mm.user_name = 'regress_um_alice'),
    (SELECT format('stale_secrets(1 second): %s', count(*))
       FROM usermap.stale_secrets('1 second')),
    (SELECT format('verify: %s', count(*)) FROM usermap.verify()))
$$;
GRANT EXECUTE ON FUNCTION regress_um_observe() TO regress_um_owner;
-- let the creation's time lie in the past
SELECT pg_sleep(0.01);

SET ROLE regress_um_owner;
-- The guess for the secret: right, then wrong.
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hers
  OPTIONS (SET password 'alice-pw');
SELECT regress_um_observe() AS right_guess \gset
ROLLBACK;
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hers
  OPTIONS (SET password 'wrong-pw');
SELECT regress_um_observe() AS wrong_guess \gset
ROLLBACK;
SELECT :'right_guess' AS right_guess;
SELECT :'right_guess' = :'wrong_guess' AS secret_guesses_read_alike;

-- The same for a value that is not a secret but that she may not see.
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hers
  OPTIONS (SET user 'alice-login');
SELECT regress_um_observe() AS right_guess \gset
ROLLBACK;
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hers
  OPTIONS (SET user 'wrong-login');
SELECT regress_um_observe() AS wrong_guess \gset
ROLLBACK;
SELECT :'right_guess' AS right_guess;
SELECT :'right_guess' = :'wrong_guess' AS value_guesses_read_alike;
RESET ROLE;

-- What is recorded: a SET counts as a change whether or not the value was
-- the same, for every reader (usermap cannot tell readers apart when it
-- writes the row), and a SET of a secret moves secret_changed_at.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hers
  OPTIONS (SET password 'alice-pw', SET user 'alice-login');
SELECT action, changed_options FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
SELECT secret_changed_at = modified_at AS rotated FROM usermap.mappings
 WHERE user_name = 'regress_um_alice';

-- The reader's lexer settings.  The trail keeps the text of alice's
-- statement, and mask_statement reads it to mask her values for a reader
-- who may not see them.  Read under the reader's settings alone, a reader
-- who connects with standard_conforming_strings off (a backend that has
-- lexed under nothing else) would make alice's first value, which ends in
-- a backslash, swallow the quote after it, and read part of her second
-- value as an option name.  It is read under every setting.  (19 refuses
-- the setting off: there the second connection is a plain new backend.)
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_hers
  OPTIONS (ADD a 'x\', ADD b ', hidden ', ADD c ') --');
RESET ROLE;
SELECT format('dbname=%s options=', current_database()) AS new_backend,
	format('dbname=%s options=%s', current_database(),
		   CASE WHEN current_setting('server_version_num')::int < 190000
		   THEN '-cstandard_conforming_strings=off' END) AS scs_off_conninfo \gset
-- Controls: the stored text holds the value (the probe would find it),
-- and the reader's session reads with the setting off where it can.
SELECT position('hidden' IN statement) > 0 AS stored_with_value
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
\c :scs_off_conninfo
SELECT current_setting('standard_conforming_strings') =
	   CASE WHEN current_setting('server_version_num')::int < 190000
	   THEN 'off' ELSE 'on' END AS reader_setting_as_asked;
SET ROLE regress_um_owner;
SELECT position('hidden' IN statement) AS b_value_at,
       position(E'x\\' IN statement) AS a_value_at,
       position('''********''' IN statement) > 0 AS masked
  FROM usermap.audit_trail ORDER BY id DESC LIMIT 1;
RESET ROLE;
\c :new_backend
SET client_min_messages = notice;
SET SESSION AUTHORIZATION regress_um_admin;

-- Clean up
DROP FUNCTION regress_um_observe();
DROP SERVER regress_um_hers CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_owner, regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
