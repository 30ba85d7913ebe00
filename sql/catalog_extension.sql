--
-- The extension's life cycle: what happens where it is not installed, on
-- CREATE EXTENSION (backfill), ALTER EXTENSION and DROP EXTENSION.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;

-- Without the extension, each change is a line in the server log, secrets
-- masked (t/014_unrecorded_log.pl reads it), never sent to the client,
-- even with client_min_messages = log.
SET client_min_messages = log;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (user 'alice', password 'not-in-the-log');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (SET password 'still-not-in-the-log');
-- ... unless usermap.log_unrecorded is off.
SET usermap.log_unrecorded = off;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD region 'eu');
RESET usermap.log_unrecorded;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
SET client_min_messages = notice;
CREATE ROLE regress_um_bob;
SET ROLE regress_um_bob;
SET usermap.log_unrecorded = off;
RESET ROLE;

-- CREATE EXTENSION records the mappings already there, times unknown.
CREATE EXTENSION usermap;
SELECT server_name, user_name, options, created_at, modified_at, secret_changed_at
  FROM usermap.mappings ORDER BY 2;
SELECT count(*) FROM usermap.audit_log;
SELECT count(*) FROM usermap.verify();
-- Its tables are dumped with the database.
SELECT c.relname, e.extcondition[x.n] AS dump_condition
  FROM pg_extension e
 CROSS JOIN LATERAL unnest(e.extconfig) WITH ORDINALITY AS x(cfg, n)
  JOIN pg_class c ON c.oid = x.cfg
 WHERE e.extname = 'usermap' ORDER BY 1;

-- ALTER EXTENSION: 1.2 is the latest version (t/008_update.pl tests the
-- update from 1.0).
ALTER EXTENSION usermap UPDATE;
ALTER EXTENSION usermap UPDATE TO '2.0';
-- The extension cannot be moved.
CREATE SCHEMA regress_um_elsewhere;
ALTER EXTENSION usermap SET SCHEMA regress_um_elsewhere;
DROP SCHEMA regress_um_elsewhere;
-- Its schema and objects cannot be dropped piecemeal.
DROP TABLE usermap.audit_log;
DROP SCHEMA usermap;

-- Changes after DROP EXTENSION are logged again (in the server log alone:
-- t/014_unrecorded_log.pl).  The mappings stay, and so
-- do the usermap_auditor role (roles belong to the cluster) and the empty
-- schema usermap (as for any extension whose control file names its
-- schema: the extension depends on it without owning it).
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET region 'us');
DROP EXTENSION usermap;
SELECT count(*) FROM pg_namespace WHERE nspname = 'usermap';
SELECT count(*) FROM pg_roles WHERE rolname = 'usermap_auditor';
SELECT count(*) FROM pg_user_mappings WHERE srvname = 'regress_um_srv';
SET client_min_messages = log;
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
SET client_min_messages = notice;
-- Installing again starts afresh: history is lost with the extension.
CREATE EXTENSION usermap;
SELECT server_name, user_name, created_at FROM usermap.mappings;
SELECT count(*) FROM usermap.audit_log;
-- Indexes an administrator adds to usermap's tables: one on plain columns
-- is maintained with every row usermap writes ...
CREATE INDEX regress_um_audit_at ON usermap.audit_log (logged_at);
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET region 'eu');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT action, changed_options FROM usermap.audit_log WHERE logged_at > '-infinity';
SELECT action, changed_options FROM usermap.audit_log WHERE logged_at > '-infinity';
RESET enable_seqscan;
DROP INDEX usermap.regress_um_audit_at;
-- ... and so are expression and partial indexes: rows go through every
-- index, as an INSERT's would.
CREATE INDEX regress_um_audit_lower ON usermap.audit_log (lower(server_name));
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET region 'us');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT action FROM usermap.audit_log WHERE lower(server_name) = 'regress_um_srv';
SELECT action, changed_options FROM usermap.audit_log
 WHERE lower(server_name) = 'regress_um_srv' ORDER BY id;
RESET enable_seqscan;
DROP INDEX usermap.regress_um_audit_lower;
CREATE INDEX regress_um_meta_partial ON usermap.mapping_meta (umid) WHERE umuser <> 0;
BEGIN;
DROP SERVER regress_um_srv CASCADE;
SELECT action, changed_options FROM usermap.audit_log ORDER BY id;
ROLLBACK;
DROP INDEX usermap.regress_um_meta_partial;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'regress_um_srv';
-- Dropping usermap and a wrapper's extension together, with CASCADE, drops
-- usermap's tables and the wrapper's mappings in one statement.
BEGIN;
CREATE SERVER regress_um_pg FOREIGN DATA WRAPPER postgres_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_pg OPTIONS (user 'a');
DROP EXTENSION usermap, postgres_fdw CASCADE;
SELECT count(*) FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
 WHERE s.srvname = 'regress_um_pg';
ROLLBACK;

-- Clean up
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_alice, regress_um_bob;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
