--
-- postgres_fdw's validator, through user-mapping DDL: unknown options,
-- the superuser-only password_required, and validation of the merged
-- option list on ALTER.  (postgres_fdw is created by pg_regress's
-- --load-extension.)
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_alice;
CREATE SERVER regress_um_pg FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (dbname 'regress_um_nowhere');
GRANT USAGE ON FOREIGN SERVER regress_um_pg TO regress_um_alice;

-- Valid and invalid options.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_pg
  OPTIONS (user 'alice', password 'secret', sslpassword 'sslsecret');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_pg OPTIONS (host 'elsewhere');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_pg OPTIONS (dbname 'x');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_pg OPTIONS (password_required 'maybe');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_pg OPTIONS (ADD sslmode 'require');
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;

-- sslcert and sslkey are for superusers to set.
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg OPTIONS (ADD sslcert 'client.crt');
RESET ROLE;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_pg
  OPTIONS (sslcert 'client.crt', sslkey 'client.key');

-- password_required = false is for superusers to set.
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg OPTIONS (ADD password_required 'false');
-- ... but true is anyone's to set, and to drop.
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg OPTIONS (ADD password_required 'true');
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg OPTIONS (DROP password_required);
RESET ROLE;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_pg OPTIONS (ADD password_required 'false');
-- Once false is there, a non-superuser's later ALTER of any option fails,
-- because the validator sees the whole merged list.
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg OPTIONS (SET password 'rotated');
-- Dropping it is allowed, since the result no longer holds it.
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_pg
  OPTIONS (DROP password_required, SET password 'rotated');
RESET ROLE;
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;

-- Dropping every option validates an empty list.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_pg
  OPTIONS (DROP user, DROP password, DROP sslpassword);
SELECT umoptions IS NULL AS no_options
  FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;

-- Who sees the options: pg_user_mappings shows them to the mapped role
-- (with USAGE) and to the server's owner.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_pg OPTIONS (ADD user 'alice');
SET ROLE regress_um_alice;
SELECT srvname, usename, umoptions FROM pg_user_mappings
 WHERE srvname = 'regress_um_pg' ORDER BY usename;
RESET ROLE;

-- DROP EXTENSION postgres_fdw CASCADE reaches the mappings.
DROP EXTENSION postgres_fdw;
BEGIN;
DROP EXTENSION postgres_fdw CASCADE;
SELECT count(*) FROM pg_user_mapping m
  WHERE NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.oid = m.umserver);
ROLLBACK;

-- Clean up
DROP SERVER regress_um_pg CASCADE;
DROP ROLE regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
