--
-- DROP USER MAPPING: lookups, IF EXISTS notices, removal.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;

CREATE VIEW regress_um_mappings AS
  SELECT s.srvname AS server,
         CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE m.umuser::regrole::text END AS usr
    FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
   WHERE s.srvname LIKE 'regress_um_%'
   ORDER BY 1, 2;

-- Errors without IF EXISTS: role, then server, then mapping.
DROP USER MAPPING FOR regress_um_nobody SERVER regress_um_nosrv;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_nosrv;
DROP USER MAPPING FOR regress_um_admin SERVER regress_um_nosrv;
CREATE ROLE regress_um_bob;
DROP USER MAPPING FOR regress_um_bob SERVER regress_um_srv;
-- The same with IF EXISTS: notices, and the first miss ends the statement.
DROP USER MAPPING IF EXISTS FOR regress_um_nobody SERVER regress_um_nosrv;
DROP USER MAPPING IF EXISTS FOR regress_um_alice SERVER regress_um_nosrv;
DROP USER MAPPING IF EXISTS FOR regress_um_bob SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_nosrv;
-- Keyword role forms never fail to resolve.
DROP USER MAPPING IF EXISTS FOR SESSION_USER SERVER regress_um_nosrv;
SELECT * FROM regress_um_mappings;

-- Each role form drops the mapping it names.
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
SELECT * FROM regress_um_mappings;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
DROP USER MAPPING FOR USER SERVER regress_um_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
DROP USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR SESSION_USER SERVER regress_um_srv;
SELECT * FROM regress_um_mappings;
-- Dropping again: error, or notice with IF EXISTS.
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR regress_um_alice SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_srv;

-- Several user mappings cannot be dropped in one statement.
DROP USER MAPPING FOR regress_um_alice, regress_um_bob SERVER regress_um_srv;

-- DROP in a transaction: gone at once inside, back after rollback.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
BEGIN;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
SELECT * FROM regress_um_mappings;
-- dropped then created again in the same transaction
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (again 'yes');
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;
ROLLBACK;
SELECT s.srvname, m.umoptions FROM pg_user_mapping m
  JOIN pg_foreign_server s ON s.oid = m.umserver
 WHERE m.umuser = 'regress_um_alice'::regrole;
BEGIN;
SAVEPOINT s1;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT * FROM regress_um_mappings;

-- Dropping a mapping removes its dependency records with it.
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
SELECT count(*) FROM pg_depend
 WHERE classid = 'pg_user_mapping'::regclass
   AND objid NOT IN (SELECT oid FROM pg_user_mapping);
SELECT count(*) FROM pg_shdepend
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND classid = 'pg_user_mapping'::regclass
   AND objid NOT IN (SELECT oid FROM pg_user_mapping);

-- Clean up
DROP VIEW regress_um_mappings;
DROP SERVER regress_um_srv;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_alice, regress_um_bob;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
