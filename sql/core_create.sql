--
-- CREATE USER MAPPING: role forms, lookups, duplicates, options, catalog row.
--
-- This file and every core_*.sql file run twice: through usermap, and with
-- usermap.enabled = off (the server's own code).  Both must produce this
-- same expected output.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_owner;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE FOREIGN DATA WRAPPER regress_um_vfdw VALIDATOR postgresql_fdw_validator;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_vsrv FOREIGN DATA WRAPPER regress_um_vfdw;

-- A view of the mappings that does not show OIDs, which vary between runs.
CREATE VIEW regress_um_mappings AS
  SELECT s.srvname AS server,
         CASE WHEN m.umuser = 0 THEN 'PUBLIC'
              WHEN m.umuser = (SELECT oid FROM pg_roles WHERE rolname = session_user)
              THEN '(session user)'
              ELSE m.umuser::regrole::text END AS usr,
         m.umoptions
    FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
   WHERE s.srvname LIKE 'regress_um_%'
   ORDER BY 1, 2;

-- Every role form the grammar accepts.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR USER SERVER regress_um_srv;
DROP USER MAPPING FOR USER SERVER regress_um_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
CREATE USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv;
DROP USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv;
CREATE USER MAPPING FOR SESSION_USER SERVER regress_um_srv;
-- CURRENT_USER and SESSION_USER differ after SET ROLE
SET ROLE regress_um_alice;
SELECT current_user AS current_user_is, current_user = session_user AS same;
RESET ROLE;
GRANT regress_um_alice TO CURRENT_USER;
SET ROLE regress_um_alice;
-- alice has no USAGE and does not own the server
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_vsrv;
RESET ROLE;
-- a quoted name is a name, not a keyword
CREATE USER MAPPING FOR "regress_um_owner" SERVER regress_um_srv OPTIONS ("user" 'x');
SELECT * FROM regress_um_mappings;

-- Unknown role, unknown server; the role is resolved first.
CREATE USER MAPPING FOR regress_um_nobody SERVER regress_um_srv;
CREATE USER MAPPING FOR regress_um_nobody SERVER regress_um_nosrv;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_nosrv;
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_nobody SERVER regress_um_srv;
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_alice SERVER regress_um_nosrv;
-- even quoted, "public" means PUBLIC to the grammar
CREATE USER MAPPING FOR "public" SERVER regress_um_srv;

-- Duplicates: an error, or with IF NOT EXISTS a notice and no change.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_alice SERVER regress_um_srv OPTIONS (b '2');
CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER regress_um_srv OPTIONS (b '2');
SELECT * FROM regress_um_mappings;

-- Options: names unique, no "=" in a name; values keep their text.
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (user 'a', user 'b');
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_srv2 OPTIONS (a '1');
CREATE SERVER regress_um_srv2 FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_srv2 OPTIONS ("a=b" '1');
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_srv2
  OPTIONS ("x" 'a=b', y '', "Mixed Case" 'it''s', z E'tab\there');
-- an option list may not be given empty
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2 OPTIONS ();
-- action keywords are not allowed in CREATE
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2 OPTIONS (ADD a '1');
SELECT * FROM regress_um_mappings WHERE server = 'regress_um_srv2';

-- The wrapper's validator runs, with its own messages.
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (host 'x');
-- From 16 on the hint names the closest valid option instead of all of them.
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (passwrd 'x');
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (user 'u', password 'p');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_vsrv;
SELECT * FROM regress_um_mappings WHERE server = 'regress_um_vsrv';

-- Failed statements changed nothing, and inside a transaction the
-- mapping is visible at once and gone after rollback.
BEGIN;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (user 'in_txn');
SELECT * FROM regress_um_mappings WHERE usr = 'regress_um_alice';
ROLLBACK;
SELECT * FROM regress_um_mappings WHERE usr = 'regress_um_alice';
BEGIN;
SAVEPOINT s1;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (user 'in_sp');
ROLLBACK TO SAVEPOINT s1;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (user 'after_sp');
COMMIT;
SELECT * FROM regress_um_mappings WHERE usr = 'regress_um_alice';

-- Catalog shape: one row per mapping, unique OIDs, the user-mapping views.
SELECT count(*) = count(DISTINCT oid) AS oids_unique,
       bool_and(oid > 16383) AS oids_user_range
  FROM pg_user_mapping;
SELECT srvname, usename = session_user AS is_session_user, umoptions
  FROM pg_user_mappings
 WHERE srvname LIKE 'regress_um_%' AND usename <> 'regress_um_alice'
 ORDER BY 1, 2, 3;

-- The server sends the client nothing for these statements, even with
-- client_min_messages = log: usermap's line about a change it could not
-- record (no extension in this database) is for the server log alone.
CREATE ROLE regress_um_logged;
SET client_min_messages = log;
CREATE USER MAPPING FOR regress_um_logged SERVER regress_um_srv
  OPTIONS (user 'logged', password 'not-for-the-client');
ALTER USER MAPPING FOR regress_um_logged SERVER regress_um_srv
  OPTIONS (SET password 'nor-this');
DROP USER MAPPING FOR regress_um_logged SERVER regress_um_srv;
SET client_min_messages = notice;
DROP ROLE regress_um_logged;

-- A syntax error at an empty delimited identifier quotes it as "", which
-- holds nothing secret, wherever it is in the statement; the secret after
-- it stays out of the message.  The same statements with usermap.redact
-- off show the server's own messages.
CREATE USER MAPPING FOR "" SERVER regress_um_srv OPTIONS (password 'secret-1');
ALTER USER MAPPING FOR regress_um_alice SERVER "" OPTIONS (password 'secret-2');
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS ("" 'secret-3');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'secret-4', "" 'x');
SET usermap.redact = off;
CREATE USER MAPPING FOR "" SERVER regress_um_srv OPTIONS (password 'secret-1');
ALTER USER MAPPING FOR regress_um_alice SERVER "" OPTIONS (password 'secret-2');
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS ("" 'secret-3');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'secret-4', "" 'x');
RESET usermap.redact;

-- Clean up
DROP USER MAPPING FOR SESSION_USER SERVER regress_um_srv;
DROP SERVER regress_um_srv, regress_um_srv2, regress_um_vsrv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw, regress_um_vfdw;
DROP VIEW regress_um_mappings;
DROP ROLE regress_um_owner, regress_um_alice;
