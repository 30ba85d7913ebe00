--
-- Who may read the catalog layer: superusers and members of
-- usermap_auditor.  Nobody else gets anything, and nobody but usermap
-- writes to it.  The view shows options as pg_user_mappings would show
-- them to the reader, with secrets masked; where pg_user_mappings would
-- hide them, every value is masked.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_auditor IN ROLE usermap_auditor;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_alice, regress_um_auditor;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (user 'alice', password 'alice-secret');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (user 'anyone');
CREATE USER MAPPING FOR regress_um_auditor SERVER regress_um_srv
  OPTIONS (user 'auditor', password 'auditor-secret');

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'usermap_auditor';

-- A superuser sees every non-secret value.
SELECT server_name, user_name, options FROM usermap.mappings ORDER BY 2;

-- An auditor sees every mapping and its history; option values only
-- where pg_user_mappings would show them (its own mapping), secrets never.
SET ROLE regress_um_auditor;
SELECT server_name, user_name, options, created_by FROM usermap.mappings ORDER BY 2;
SELECT srvname, usename, umoptions FROM pg_user_mappings ORDER BY 2;
-- The trail, through audit_trail, under the same rule; audit_log itself
-- is not the auditor's to read (catalog_visibility shows why).
SELECT action, user_name, new_options FROM usermap.audit_trail ORDER BY id;
SELECT action, user_name, new_options FROM usermap.audit_log ORDER BY id;
SELECT count(*) FROM usermap.mapping_meta;
SELECT count(*) FROM usermap.drift;
SELECT count(*) FROM usermap.stale_secrets('1 day');
SELECT count(*) FROM usermap.verify();
-- ... but writes nothing.
INSERT INTO usermap.audit_log (logged_at, action, server_name, user_name,
  session_role, "current_role", umid, transaction_id)
  VALUES (now(), 'DROP', 'x', 'y', 'z', 'z', 0, '0');
UPDATE usermap.audit_log SET statement = NULL;
DELETE FROM usermap.audit_log;
TRUNCATE usermap.audit_log;
UPDATE usermap.mapping_meta SET created_by = 'me';
DELETE FROM usermap.mapping_meta;
SELECT count(*) FROM usermap.verify(repair => true);
SELECT nextval('usermap.audit_log_id_seq');
RESET ROLE;

-- A role outside usermap_auditor gets nothing, not even for its own
-- mapping.
SET ROLE regress_um_alice;
SELECT * FROM usermap.mappings;
SELECT * FROM usermap.audit_log;
SELECT * FROM usermap.audit_trail;
SELECT * FROM usermap.mapping_meta;
SELECT * FROM usermap.drift;
SELECT * FROM usermap.stale_secrets('1 day');
SELECT * FROM usermap.verify();
SELECT usermap.mask_options('{password=x}', true);
DELETE FROM usermap.audit_log;
TRUNCATE usermap.mapping_meta;
-- Its own DDL is recorded all the same.
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (SET password 'rotated');
RESET ROLE;
SELECT action, user_name, changed_options, session_role, "current_role"
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
SELECT user_name, modified_by, modified_as, secret_changed_at > created_at AS rotated
  FROM usermap.mappings WHERE user_name = 'regress_um_alice';

-- Superusers count as members of every role, usermap_auditor included.
SELECT pg_has_role('regress_um_admin', 'usermap_auditor', 'MEMBER') AS member;

-- Clean up
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_auditor, regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
