--
-- usermap's own surface: the extension, its version, the usermap.enabled
-- escape hatch and the locks it takes.  Runs through usermap only.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
-- The library's version is the control file's default_version.
SELECT usermap.library_version() = default_version AS version_matches
  FROM pg_available_extensions WHERE name = 'usermap';
SELECT extversion = usermap.library_version() AS installed_matches
  FROM pg_extension WHERE extname = 'usermap';

-- usermap.enabled: on by default, superuser-only, and the prefix is
-- reserved.
SHOW usermap.enabled;
SELECT setting, context, vartype FROM pg_settings WHERE name = 'usermap.enabled';
CREATE ROLE regress_um_alice;
SET ROLE regress_um_alice;
SET usermap.enabled = off;
SHOW usermap.enabled;
RESET ROLE;
SET usermap.enabld = off;

-- usermap.redact, the secret-hygiene switch: the same.
SELECT setting, context, vartype FROM pg_settings WHERE name = 'usermap.redact';
SET ROLE regress_um_alice;
SET usermap.redact = off;
SHOW usermap.redact;
RESET ROLE;

CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;

-- The locks usermap takes show that it ran the statement: for CREATE the
-- server in AccessShareLock and the (server, role) key in ExclusiveLock,
-- for ALTER and DROP the mapping itself.
CREATE VIEW regress_um_my_locks AS
  SELECT CASE WHEN l.locktype = 'userlock' THEN 'mapping key'
              ELSE l.classid::regclass::text END AS what,
         CASE WHEN l.locktype = 'userlock'
              THEN format('server=%s role=%s',
                          (SELECT srvname FROM pg_foreign_server WHERE oid = l.classid),
                          CASE WHEN l.objid = 0 THEN 'PUBLIC'
                               ELSE l.objid::oid::regrole::text END)
              END AS key,
         l.mode
    FROM pg_locks l
   WHERE l.pid = pg_backend_pid()
     AND (l.locktype = 'userlock' AND l.objsubid = 30061 -- 0x756d
          OR l.locktype = 'object'
             AND l.classid IN ('pg_foreign_server'::regclass, 'pg_user_mapping'::regclass))
   ORDER BY 1, 2;
BEGIN;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
SELECT * FROM regress_um_my_locks;
COMMIT;
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
SELECT * FROM regress_um_my_locks;
COMMIT;
BEGIN;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
SELECT * FROM regress_um_my_locks;
COMMIT;
BEGIN;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
SELECT * FROM regress_um_my_locks;
ROLLBACK;
-- With usermap.enabled off the server's own code runs: same result, none
-- of usermap's locks.  (Recent minor releases of the server lock the
-- server itself while recording the dependency, so that lock is left out.)
SET usermap.enabled = off;
BEGIN;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (by 'core');
SELECT * FROM regress_um_my_locks WHERE what <> 'pg_foreign_server';
COMMIT;
RESET usermap.enabled;
-- A mapping created by core is an ordinary mapping to usermap.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET by 'usermap');
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;
-- The setting can be changed per transaction.
BEGIN;
SET LOCAL usermap.enabled = off;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
SELECT * FROM regress_um_my_locks WHERE what <> 'pg_foreign_server';
COMMIT;
SHOW usermap.enabled;

-- Statements usermap does not own are untouched, whatever their text.
BEGIN;
SELECT 'CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv' AS not_a_statement;
COMMENT ON SERVER regress_um_srv IS 'USER MAPPING';
SELECT count(*) FROM regress_um_my_locks WHERE what = 'mapping key';
COMMIT;

-- Clean up
DROP VIEW regress_um_my_locks;
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_alice;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
