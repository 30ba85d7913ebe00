--
-- The catalog layer: metadata and audit trail for every change, written in
-- the same transaction, with secrets masked.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_owner;
CREATE ROLE regress_um_alice;
CREATE ROLE regress_um_bob;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE FOREIGN DATA WRAPPER regress_um_vfdw VALIDATOR postgresql_fdw_validator;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_vsrv FOREIGN DATA WRAPPER regress_um_vfdw;
GRANT USAGE ON FOREIGN SERVER regress_um_vsrv TO regress_um_alice;

-- A mapping that exists before the extension: its history is unknown.
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_vsrv
  OPTIONS (user 'bob', password 'before-the-extension');
CREATE EXTENSION usermap;
SELECT server_name, user_name, options, created_at, created_by, modified_at,
       modified_by, secret_changed_at, secret_options
  FROM usermap.mappings;

-- The audit trail without its volatile columns, and the metadata with
-- times turned into "was it set".
CREATE VIEW regress_um_audit AS
  SELECT action, server_name, user_name, old_options, new_options,
         changed_options, session_role, "current_role", statement
    FROM usermap.audit_log ORDER BY id;
CREATE VIEW regress_um_meta AS
  SELECT server_name, user_name,
         created_at IS NOT NULL AS created, created_by, created_as,
         modified_at IS NOT NULL AS modified, modified_by, modified_as,
         secret_changed_at IS NOT NULL AS secret_changed
    FROM usermap.mappings ORDER BY 1, 2;

-- CREATE, ALTER, DROP, each recorded once.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (user 'alice');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD region 'eu');
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
SELECT * FROM regress_um_audit;
SELECT * FROM regress_um_meta;
-- Times come from the statement that made the change.
SELECT count(*) AS rows_with_bad_times FROM usermap.audit_log
 WHERE logged_at > statement_timestamp() OR logged_at IS NULL;
-- One transaction id per statement here, and it is a real one.
SELECT count(DISTINCT transaction_id) AS transactions FROM usermap.audit_log;
TRUNCATE usermap.audit_log;

-- Who: the session role and the current role are both kept.
GRANT regress_um_owner TO regress_um_alice;
ALTER SERVER regress_um_srv OWNER TO regress_um_owner;
SET SESSION AUTHORIZATION regress_um_alice;
SET ROLE regress_um_owner;
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (user 'b');
RESET ROLE;
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (ADD user 'p');
SET SESSION AUTHORIZATION regress_um_admin;
SELECT * FROM regress_um_audit;
SELECT * FROM regress_um_meta;
TRUNCATE usermap.audit_log;

-- Secrets: masked in both option columns; secret_changed_at moves when a
-- secret is added, set or dropped, and not otherwise.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (user 'alice');
SELECT secret_changed_at IS NULL AS no_secret_yet FROM usermap.mappings
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (ADD password 'first-secret');
SELECT secret_changed_at AS first_rotation FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv' \gset
-- a change of another option is no rotation
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET user 'alice2');
SELECT secret_changed_at = :'first_rotation' AS unchanged FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
-- setting the secret is, even to the value it already has: whether a SET
-- matched the old value must not show (catalog_oracle)
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET password 'first-secret');
SELECT secret_changed_at > :'first_rotation' AS rotated FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT secret_changed_at AS first_rotation FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv' \gset
-- a new value is
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET password 'second-secret');
SELECT secret_changed_at > :'first_rotation' AS rotated FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT secret_changed_at AS second_rotation FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv' \gset
-- and so is dropping it
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (DROP password);
SELECT secret_changed_at > :'second_rotation' AS rotated FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT action, old_options, new_options, changed_options, statement FROM regress_um_audit;
-- Every ALTER names an option, so none records an empty changed_options.
SELECT count(*) AS empty_changes FROM usermap.audit_log
 WHERE changed_options = '{}' OR cardinality(changed_options) = 0;
-- No secret value is stored anywhere in the trail.
SELECT count(*) AS leaks FROM usermap.audit_log a
 WHERE a::text LIKE '%secret%' OR a::text LIKE '%before-the-extension%';
TRUNCATE usermap.audit_log;

-- Which options are secret is a setting, matched exactly.
SET usermap.secret_options = 'password, Token';
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv
  OPTIONS (ADD "Token" 't1', ADD token 't2', ADD password 'p');
SELECT new_options, changed_options FROM regress_um_audit;
SELECT secret_options FROM usermap.mappings
 WHERE user_name = 'regress_um_bob' AND server_name = 'regress_um_srv';
SET usermap.secret_options = 'password,';
SET usermap.secret_options = ' , password';
RESET usermap.secret_options;
SHOW usermap.secret_options;
SET ROLE regress_um_alice;
SET usermap.secret_options = '';
RESET ROLE;
TRUNCATE usermap.audit_log;

-- Rollback and savepoint rollback take the records with them.
BEGIN;
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET user 'rolled back');
SELECT count(*) FROM usermap.audit_log;
ROLLBACK;
SELECT count(*) FROM usermap.audit_log;
SELECT count(*) FROM usermap.mapping_meta mm
  JOIN pg_roles r ON r.oid = mm.umuser WHERE r.rolname = 'regress_um_owner';
BEGIN;
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (kept 'yes');
SAVEPOINT s1;
ALTER USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (ADD lost 'yes');
DROP USER MAPPING FOR regress_um_owner SERVER regress_um_srv;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT action, user_name, new_options FROM regress_um_audit;
SELECT user_name, created, modified FROM regress_um_meta WHERE user_name = 'regress_um_owner';
-- A failed statement records nothing.
TRUNCATE usermap.audit_log;
ALTER USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (DROP nope);
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (bad 'x');
SELECT count(*) FROM usermap.audit_log;
TRUNCATE usermap.audit_log;

-- Statements from functions and DO blocks record their own text; one
-- statement of a multi-statement query string records only itself.
CREATE FUNCTION regress_um_ddl(stmt text) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN EXECUTE stmt; END $$;
SELECT regress_um_ddl('ALTER USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (ADD via ''function'')');
DO $$ BEGIN
  ALTER USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (ADD via_do 'yes');
END $$;
SELECT 1 AS one \; ALTER USER MAPPING FOR regress_um_owner SERVER regress_um_srv OPTIONS (ADD multi 'yes') \; SELECT 2 AS two;
SELECT action, statement FROM regress_um_audit;
TRUNCATE usermap.audit_log;

-- Every way a mapping disappears is recorded, and its metadata goes.
CREATE SERVER regress_um_srv2 FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2 OPTIONS (password 'x');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv2;
DROP SERVER regress_um_srv2 CASCADE;
CREATE ROLE regress_um_carol;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_vsrv;
DROP OWNED BY regress_um_carol;
DROP ROLE regress_um_carol;
SELECT action, server_name, user_name, old_options, new_options, changed_options, statement
  FROM regress_um_audit WHERE action = 'DROP';
SELECT count(*) AS metadata_without_mapping FROM usermap.mapping_meta mm
 WHERE NOT EXISTS (SELECT 1 FROM pg_user_mapping m WHERE m.oid = mm.umid);
-- DROP EXTENSION of the wrapper's extension, with CASCADE.
BEGIN;
CREATE SERVER regress_um_pg FOREIGN DATA WRAPPER postgres_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_pg OPTIONS (user 'a', password 'pw');
DROP EXTENSION postgres_fdw CASCADE;
SELECT action, server_name, user_name, old_options, statement
  FROM regress_um_audit WHERE server_name = 'regress_um_pg';
ROLLBACK;
TRUNCATE usermap.audit_log;

-- With usermap.enabled off nothing is recorded; verify() finds the drift
-- and repairs it.
SET usermap.enabled = off;
CREATE USER MAPPING FOR regress_um_owner SERVER regress_um_vsrv OPTIONS (user 'unrecorded');
DROP USER MAPPING FOR regress_um_bob SERVER regress_um_srv;
RESET usermap.enabled;
SELECT count(*) FROM usermap.audit_log;
-- a rename usermap does not see either (one it sees keeps the names
-- current, below)
SET usermap.enabled = off;
ALTER SERVER regress_um_vsrv RENAME TO regress_um_vsrv_renamed;
RESET usermap.enabled;
SELECT problem, server_name, user_name, repaired FROM usermap.verify();
SELECT problem, server_name, user_name, repaired FROM usermap.verify(repair => true);
SELECT problem, server_name, user_name, repaired FROM usermap.verify();
SET usermap.enabled = off;
ALTER SERVER regress_um_vsrv_renamed RENAME TO regress_um_vsrv;
RESET usermap.enabled;
SELECT problem, server_name, user_name FROM usermap.verify();
SELECT count(*) FROM usermap.verify(true);
-- A rename of a server or role usermap sees updates the names of the rows
-- of its live mappings in the same transaction (renames.c), so that a
-- restore re-attaches them by current names (t/016_renames.pl).
ALTER SERVER regress_um_vsrv RENAME TO regress_um_vsrv_renamed;
SELECT (SELECT count(*) FROM usermap.verify()) AS drift,
       (SELECT count(*) FROM usermap.mapping_meta
         WHERE server_name = 'regress_um_vsrv_renamed') AS renamed_rows;
ALTER SERVER regress_um_vsrv_renamed RENAME TO regress_um_vsrv;
SELECT count(*) FROM usermap.verify();
-- The repaired mapping's history is unknown.
SELECT * FROM regress_um_meta WHERE user_name = 'regress_um_owner' AND server_name = 'regress_um_vsrv';
-- Metadata that describes another mapping than the one with its OID (as
-- after OID reuse) is never shown for it, and the next change starts the
-- mapping's history afresh.
UPDATE usermap.mapping_meta SET umuser = 0
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT created, modified FROM regress_um_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT problem, server_name, user_name FROM usermap.verify();
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET user 'fresh');
SELECT created, modified, modified_by FROM regress_um_meta
 WHERE user_name = 'regress_um_alice' AND server_name = 'regress_um_vsrv';
SELECT problem, server_name, user_name FROM usermap.verify();
-- A row a dropped mapping left under its OID while usermap was not
-- recording is replaced by the next mapping given that OID, whose history
-- starts afresh.  Copies of the row left behind are planted under the next
-- hundred OIDs, one of which the next mapping gets (the server hands OIDs
-- out in order, and nothing here takes one in between).  The restore
-- trigger is kept out of the planting.  The outcome: whether the mapping
-- took a planted OID, who its row says created it, and how many rows and
-- OIDs the range holds.
CREATE ROLE regress_um_carol;
CREATE TEMP TABLE regress_um_left (left_oid int8);
CREATE TEMP VIEW regress_um_left_outcome AS
  SELECT (SELECT m.umid::int8 - l.left_oid BETWEEN 1 AND 100
            FROM pg_user_mapping u JOIN usermap.mapping_meta m ON m.umid = u.oid
           WHERE pg_get_userbyid(u.umuser) = 'regress_um_carol') AS took_a_planted_oid,
         (SELECT m.created_by
            FROM pg_user_mapping u JOIN usermap.mapping_meta m ON m.umid = u.oid
           WHERE pg_get_userbyid(u.umuser) = 'regress_um_carol') AS created_by,
         count(*) AS rows_in_range, count(DISTINCT m.umid) AS oids_in_range
    FROM regress_um_left l
    JOIN usermap.mapping_meta m ON m.umid::int8 - l.left_oid BETWEEN 0 AND 100
   GROUP BY l.left_oid;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv OPTIONS (user 'old');
INSERT INTO regress_um_left
  SELECT oid FROM pg_user_mapping WHERE umuser = 'regress_um_carol'::regrole;
SET usermap.enabled = off;
DROP USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
RESET usermap.enabled;
ALTER TABLE usermap.mapping_meta DISABLE TRIGGER mapping_meta_reattach;
INSERT INTO usermap.mapping_meta
  SELECT (m.umid::int8 + g)::oid, m.umuser, m.umserver, m.server_name, m.user_name,
         m.created_at, 'left behind', m.created_as, m.modified_at,
         'left behind', m.modified_as, m.secret_changed_at
    FROM usermap.mapping_meta m, regress_um_left l, generate_series(1, 100) AS g
   WHERE m.umid::int8 = l.left_oid;
ALTER TABLE usermap.mapping_meta ENABLE ALWAYS TRIGGER mapping_meta_reattach;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv OPTIONS (user 'new');
SELECT * FROM regress_um_left_outcome;
SELECT created, created_by, modified_by FROM regress_um_meta
 WHERE user_name = 'regress_um_carol';
DROP USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
DELETE FROM usermap.mapping_meta m USING regress_um_left l
 WHERE m.umid::int8 - l.left_oid BETWEEN 0 AND 100;
TRUNCATE regress_um_left;
-- The same where a superuser added a unique index that the row left
-- behind, of the same user and server, would break too: that row is
-- deleted before the new one is written.  It is moved to the next OID,
-- and made-up users' rows planted under the 99 after it.
CREATE UNIQUE INDEX regress_um_meta_user_server
  ON usermap.mapping_meta (umuser, umserver);
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv OPTIONS (user 'old');
INSERT INTO regress_um_left
  SELECT oid FROM pg_user_mapping WHERE umuser = 'regress_um_carol'::regrole;
SET usermap.enabled = off;
DROP USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
RESET usermap.enabled;
UPDATE usermap.mapping_meta m
   SET umid = (l.left_oid + 1)::oid, created_by = 'left behind'
  FROM regress_um_left l
 WHERE m.umid::int8 = l.left_oid;
ALTER TABLE usermap.mapping_meta DISABLE TRIGGER mapping_meta_reattach;
INSERT INTO usermap.mapping_meta
  SELECT (m.umid::int8 + g)::oid, (4000000000::int8 + g)::oid, m.umserver,
         m.server_name, 'made up', m.created_at, 'left behind', m.created_as,
         m.modified_at, 'left behind', m.modified_as, m.secret_changed_at
    FROM usermap.mapping_meta m, regress_um_left l, generate_series(1, 99) AS g
   WHERE m.umid::int8 = l.left_oid + 1;
ALTER TABLE usermap.mapping_meta ENABLE ALWAYS TRIGGER mapping_meta_reattach;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv OPTIONS (user 'new');
SELECT * FROM regress_um_left_outcome;
DROP USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
DROP INDEX usermap.regress_um_meta_user_server;
DELETE FROM usermap.mapping_meta m USING regress_um_left l
 WHERE m.umid::int8 - l.left_oid BETWEEN 0 AND 100;
DROP VIEW regress_um_left_outcome;
DROP TABLE regress_um_left;
DROP ROLE regress_um_carol;
SELECT problem, server_name, user_name FROM usermap.verify();
-- Role names are read afresh after a rename: by usermap.user_name(), and
-- in what the next change records.
CREATE ROLE regress_um_dave;
CREATE USER MAPPING FOR regress_um_dave SERVER regress_um_srv;
SELECT usermap.user_name('regress_um_dave'::regrole);
ALTER ROLE regress_um_dave RENAME TO regress_um_dave2;
SELECT usermap.user_name('regress_um_dave2'::regrole);
ALTER USER MAPPING FOR regress_um_dave2 SERVER regress_um_srv OPTIONS (ADD user 'd');
DROP USER MAPPING FOR regress_um_dave2 SERVER regress_um_srv;
SELECT action, user_name FROM usermap.audit_log
 WHERE user_name LIKE 'regress_um_dave%' ORDER BY id;
DROP ROLE regress_um_dave2;
TRUNCATE usermap.audit_log;

-- Stale secrets: mappings holding a secret not changed within the
-- interval; unknown times always count as stale, mappings without a
-- secret never appear.
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (password 'fresh');
SELECT server_name, user_name, secret_changed_at IS NULL AS unknown, secret_options
  FROM usermap.stale_secrets('1 hour');
SELECT server_name, user_name, secret_changed_at IS NULL AS unknown
  FROM usermap.stale_secrets('-1 hour');
SELECT usermap.stale_secrets(NULL);

-- Clean up
DROP FUNCTION regress_um_ddl(text);
DROP VIEW regress_um_audit, regress_um_meta;
DROP SERVER regress_um_srv, regress_um_vsrv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw, regress_um_vfdw;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
DROP ROLE regress_um_owner, regress_um_alice, regress_um_bob;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
