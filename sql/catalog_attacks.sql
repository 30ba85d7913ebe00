--
-- Attacks on the catalog layer, each shown to work where the defence is
-- absent, then shown not to work against usermap.  After each, no role
-- has gained anything (rolsuper and the other attributes are checked).
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_mallory;
CREATE ROLE regress_um_alice;
DO $$ BEGIN
  EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_um_mallory', current_database());
END $$;
CREATE VIEW regress_um_privileges AS
  SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
    FROM pg_roles WHERE rolname IN ('regress_um_mallory', 'regress_um_alice')
   ORDER BY 1;
GRANT SELECT ON regress_um_privileges TO PUBLIC;

--
-- 1. A schema named usermap made before the extension, with operators
-- planted where the install script and the views would resolve them.
--
SET ROLE regress_um_mallory;
CREATE SCHEMA usermap;
CREATE FUNCTION usermap.escalate() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted code runs as %', current_user;
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    ALTER ROLE regress_um_mallory SUPERUSER;
  END IF;
END $$;
CREATE FUNCTION usermap.numeric_times(numeric, integer) RETURNS numeric
  LANGUAGE plpgsql AS $$ BEGIN PERFORM usermap.escalate(); RETURN $1 OPERATOR(pg_catalog.*) $2; END $$;
CREATE OPERATOR usermap.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = usermap.numeric_times);
CREATE FUNCTION usermap.oid_eq(oid, integer) RETURNS boolean
  LANGUAGE plpgsql AS $$ BEGIN PERFORM usermap.escalate(); RETURN $1 OPERATOR(pg_catalog.=) $2::oid; END $$;
CREATE OPERATOR usermap.= (LEFTARG = oid, RIGHTARG = integer, FUNCTION = usermap.oid_eq);
GRANT USAGE ON SCHEMA usermap TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA usermap TO PUBLIC;
RESET ROLE;
-- The attack works: with the schema first in search_path, as CREATE
-- EXTENSION sets it, a superuser's unqualified "numeric * integer" and
-- "oid = integer" run the planted code, and make its author superuser.
BEGIN;
SET LOCAL search_path = usermap;
SELECT (extract(epoch FROM now()) * 1000000) > 0 AS product;
SELECT 0::oid = 0 AS equal;
SELECT * FROM public.regress_um_privileges;
ROLLBACK;
-- Against usermap: CREATE EXTENSION refuses the schema, and changes
-- nothing.  (The context of errors in extension scripts differs between
-- server versions.)
\set SHOW_CONTEXT never
CREATE EXTENSION usermap;
SELECT * FROM regress_um_privileges;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'usermap';
-- A superuser taking the schema over does not make its contents safe ...
ALTER SCHEMA usermap OWNER TO regress_um_admin;
CREATE EXTENSION usermap;
DROP OPERATOR usermap.* (numeric, integer);
DROP OPERATOR usermap.= (oid, integer);
DROP FUNCTION usermap.numeric_times(numeric, integer), usermap.oid_eq(oid, integer),
  usermap.escalate();
-- ... nor is a schema others may create objects in.
GRANT CREATE ON SCHEMA usermap TO regress_um_mallory;
CREATE EXTENSION usermap;
REVOKE CREATE ON SCHEMA usermap FROM regress_um_mallory;
GRANT CREATE ON SCHEMA usermap TO PUBLIC;
CREATE EXTENSION usermap;
REVOKE CREATE ON SCHEMA usermap FROM PUBLIC;
\set SHOW_CONTEXT errors
-- An empty schema only superusers can write is accepted (it is what DROP
-- EXTENSION usermap leaves behind).
CREATE EXTENSION usermap;
SELECT * FROM regress_um_privileges;

-- Once installed, nothing usermap runs resolves through the caller's
-- search_path.  Mallory plants operators and functions that shadow
-- pg_catalog's for whoever puts her schema before pg_catalog ...
SET ROLE regress_um_mallory;
CREATE SCHEMA regress_um_evil;
CREATE FUNCTION regress_um_evil.escalate() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted code runs as %', current_user;
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user) THEN
    ALTER ROLE regress_um_mallory SUPERUSER;
  END IF;
END $$;
DO $$
DECLARE
  op record;
BEGIN
  FOR op IN SELECT * FROM (VALUES
      ('=', 'oid', 'oid', 'boolean'), ('=', 'text', 'text', 'boolean'),
      ('<>', 'text', 'text', 'boolean'), ('=', 'name', 'name', 'boolean'),
      ('=', 'boolean', 'boolean', 'boolean'), ('>', 'integer', 'integer', 'boolean'),
      ('<', 'timestamptz', 'timestamptz', 'boolean'),
      ('-', 'timestamptz', 'interval', 'timestamptz'),
      ('||', 'text', 'text', 'text')) AS v(name, l, r, result)
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE FUNCTION regress_um_evil.%I(a %s, b %s) RETURNS %s LANGUAGE plpgsql AS '
      '$f$ BEGIN PERFORM regress_um_evil.escalate(); RETURN a OPERATOR(pg_catalog.%s) b; END $f$',
      'trap_' || op.l || '_' || pg_catalog.md5(op.name), op.l, op.r, op.result, op.name);
    EXECUTE pg_catalog.format(
      'CREATE OPERATOR regress_um_evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = regress_um_evil.%I)',
      op.name, op.l, op.r, 'trap_' || op.l || '_' || pg_catalog.md5(op.name));
  END LOOP;
END $$;
CREATE FUNCTION regress_um_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_um_evil.escalate(); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION regress_um_evil.cardinality(anyarray) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN PERFORM regress_um_evil.escalate(); RETURN pg_catalog.cardinality($1); END $$;
GRANT USAGE ON SCHEMA regress_um_evil TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA regress_um_evil TO PUBLIC;
RESET ROLE;
-- ... which does work for unqualified references:
BEGIN;
SET LOCAL search_path = regress_um_evil, pg_catalog;
SELECT 0::oid = 0::oid AS equal, cardinality(ARRAY[1]) AS n;
SELECT * FROM public.regress_um_privileges;
ROLLBACK;
-- ... and never for usermap's views, functions and DDL.
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_alice;
SET search_path = regress_um_evil, pg_catalog;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (user 'a', password 'p1');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p2');
SELECT server_name, user_name, options FROM usermap.mappings;
SELECT action, user_name FROM usermap.audit_trail ORDER BY id;
SELECT count(*) FROM usermap.drift;
SELECT server_name, user_name FROM usermap.stale_secrets('-1 day');
SELECT problem FROM usermap.verify();
SELECT problem FROM usermap.verify(repair => true);
SELECT usermap.redact('select 1') AS redacted;
RESET search_path;
SELECT * FROM regress_um_privileges;
-- Every function of the extension pins its search_path.
SELECT p.proname, p.proconfig FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'usermap'
 WHERE p.proconfig IS DISTINCT FROM '{"search_path=pg_catalog, pg_temp"}'
 ORDER BY 1;
-- The views and SQL-standard functions depend on no operator or function
-- outside pg_catalog and the extension.
SELECT DISTINCT pg_describe_object(d.refclassid, d.refobjid, 0) AS foreign_reference
  FROM pg_depend d
  JOIN pg_depend member ON member.deptype = 'e'
       AND member.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'usermap')
       AND ((member.classid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass
             AND d.objid IN (SELECT oid FROM pg_rewrite WHERE ev_class = member.objid))
            OR (member.classid = 'pg_proc'::regclass AND d.classid = 'pg_proc'::regclass
                AND d.objid = member.objid))
 WHERE d.refclassid IN ('pg_operator'::regclass, 'pg_proc'::regclass)
   AND NOT EXISTS (SELECT 1 FROM pg_operator o WHERE d.refclassid = 'pg_operator'::regclass
                     AND o.oid = d.refobjid AND o.oprnamespace = 'pg_catalog'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_proc p WHERE d.refclassid = 'pg_proc'::regclass
                     AND p.oid = d.refobjid
                     AND p.pronamespace IN ('pg_catalog'::regnamespace, 'usermap'::regnamespace));

--
-- 2. Tables found by name.  After ALTER SCHEMA usermap RENAME, anybody
-- with CREATE on the database can make a look-alike "usermap".
--
ALTER SCHEMA usermap RENAME TO regress_um_moved;
SET ROLE regress_um_mallory;
CREATE SCHEMA usermap;
CREATE TABLE usermap.mapping_meta (umid oid, umuser oid, umserver oid,
  server_name text, user_name text, created_at timestamptz, created_by text,
  created_as text, modified_at timestamptz, modified_by text, modified_as text,
  secret_changed_at timestamptz);
CREATE TABLE usermap.audit_log (id bigint, logged_at text, action text);
CREATE SEQUENCE usermap.audit_log_id_seq;
CREATE VIEW usermap.drift AS
  SELECT 'decoy'::text AS problem, 0::oid AS umid, ''::text AS server_name,
         ''::text AS user_name
    FROM regress_um_evil.escalate();
GRANT USAGE ON SCHEMA usermap TO PUBLIC;
GRANT ALL ON ALL TABLES IN SCHEMA usermap TO PUBLIC;
RESET ROLE;
-- Every change is refused while the schema is renamed, for every role,
-- and goes nowhere: not to the decoys, not unrecorded.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p3');
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p3');
RESET ROLE;
SELECT umoptions FROM pg_user_mappings WHERE srvname = 'regress_um_srv';
SELECT (SELECT count(*) FROM usermap.audit_log) AS decoy_audit_rows,
       (SELECT count(*) FROM usermap.mapping_meta) AS decoy_meta_rows;
-- verify() refuses to read by name what is no longer the extension's;
-- stale_secrets() is bound to the extension's view itself.
SELECT * FROM regress_um_moved.verify();
SELECT server_name, user_name FROM regress_um_moved.stale_secrets('-1 day');
SELECT * FROM regress_um_privileges;
DROP SCHEMA usermap CASCADE;
ALTER SCHEMA regress_um_moved RENAME TO usermap;
-- A table of the same name that is not the extension's is never written.
ALTER TABLE usermap.audit_log RENAME TO audit_log_renamed;
CREATE TABLE usermap.audit_log (LIKE usermap.audit_log_renamed);
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p3');
SELECT count(*) AS decoy_rows FROM usermap.audit_log;
DROP TABLE usermap.audit_log;
ALTER TABLE usermap.audit_log_renamed RENAME TO audit_log;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p3');
SELECT action, changed_options FROM usermap.audit_log ORDER BY id DESC LIMIT 1;

--
-- 3. What direct writes would bypass.  Constraints an administrator adds
-- hold for usermap's rows as for an INSERT's; what usermap cannot apply
-- (triggers, rules) or an altered table stops the change with an error.
--
-- A CHECK constraint: SQL refuses the row ...
ALTER TABLE usermap.audit_log ADD CONSTRAINT regress_um_no_sales
  CHECK (server_name <> 'regress_um_sales');
\set VERBOSITY terse
INSERT INTO usermap.audit_log (logged_at, action, server_name, user_name,
  session_role, "current_role", umid, transaction_id)
  VALUES (now(), 'CREATE', 'regress_um_sales', 'x', 'x', 'x', 0, '1');
-- ... and so does usermap; the mapping is not created.
CREATE SERVER regress_um_sales FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_sales;
SELECT count(*) FROM pg_user_mappings WHERE srvname = 'regress_um_sales';
\set VERBOSITY default
ALTER TABLE usermap.audit_log DROP CONSTRAINT regress_um_no_sales;
-- An exclusion constraint: one change per transaction.
ALTER TABLE usermap.audit_log ADD CONSTRAINT regress_um_one_per_xact
  EXCLUDE USING btree (transaction_id WITH =);
\set VERBOSITY terse
BEGIN;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_sales;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_sales OPTIONS (ADD user 'a');
ROLLBACK;
ALTER TABLE usermap.audit_log DROP CONSTRAINT regress_um_one_per_xact;
-- A CHECK constraint, or an index expression, whose function changes
-- another mapping while usermap writes a row: the nested change and the
-- one that caused it are both recorded in full.
CREATE FUNCTION regress_um_nested(action text) RETURNS text
  LANGUAGE plpgsql AS $$
BEGIN
  IF action = 'CREATE' AND current_setting('regress_um.nest', true) = 'on' THEN
    ALTER USER MAPPING FOR regress_um_admin SERVER regress_um_sales OPTIONS (ADD nested 'yes');
  END IF;
  RETURN action;
END $$;
-- (an index needs an immutable function: a wrapper that claims to be one)
CREATE FUNCTION regress_um_nested_key(action text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT public.regress_um_nested(action) $$;
BEGIN;
CREATE USER MAPPING FOR regress_um_admin SERVER regress_um_sales;
ALTER TABLE usermap.audit_log ADD CONSTRAINT regress_um_nested
  CHECK (regress_um_nested(action) IS NOT NULL);
SET LOCAL regress_um.nest = on;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_sales OPTIONS (user 'a');
SELECT action, user_name, new_options FROM usermap.audit_log
 WHERE server_name = 'regress_um_sales' ORDER BY id;
SELECT user_name, options, created_at IS NOT NULL AS created_known
  FROM usermap.mappings WHERE server_name = 'regress_um_sales' ORDER BY 1;
ROLLBACK;
BEGIN;
CREATE USER MAPPING FOR regress_um_admin SERVER regress_um_sales;
CREATE INDEX regress_um_nested ON usermap.audit_log (regress_um_nested_key(action));
SET LOCAL regress_um.nest = on;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_sales OPTIONS (user 'a');
SELECT action, user_name, new_options FROM usermap.audit_log
 WHERE server_name = 'regress_um_sales' ORDER BY id;
ROLLBACK;
DROP FUNCTION regress_um_nested_key(text);
DROP FUNCTION regress_um_nested(text);
-- NOT NULL added to a column usermap may leave empty.
ALTER TABLE usermap.mapping_meta ALTER COLUMN created_at SET NOT NULL;
SET usermap.enabled = off;
CREATE USER MAPPING FOR regress_um_admin SERVER regress_um_srv;
RESET usermap.enabled;
ALTER USER MAPPING FOR regress_um_admin SERVER regress_um_srv OPTIONS (ADD user 'x');
\set VERBOSITY default
ALTER TABLE usermap.mapping_meta ALTER COLUMN created_at DROP NOT NULL;
DROP USER MAPPING FOR regress_um_admin SERVER regress_um_srv;
-- Triggers and rules, which usermap's writes would not fire.
CREATE FUNCTION regress_um_refuse() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER regress_um_refuse BEFORE INSERT ON usermap.audit_log
  FOR EACH ROW EXECUTE FUNCTION regress_um_refuse();
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p4');
ALTER TABLE usermap.audit_log DISABLE TRIGGER regress_um_refuse;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p4');
DROP TRIGGER regress_um_refuse ON usermap.audit_log;
CREATE RULE regress_um_nothing AS ON INSERT TO usermap.audit_log DO INSTEAD NOTHING;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
DROP RULE regress_um_nothing ON usermap.audit_log;
-- Row-level security, whose policies usermap's writes would not apply
-- either: a policy admitting no row, on a table with RLS enabled, refuses
-- every change, and so does FORCE alone; nothing is changed or recorded.
SELECT count(*) AS audit_rows FROM usermap.audit_log \gset
ALTER TABLE usermap.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_um_no_row ON usermap.audit_log USING (false) WITH CHECK (false);
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
DROP POLICY regress_um_no_row ON usermap.audit_log;
ALTER TABLE usermap.audit_log DISABLE ROW LEVEL SECURITY;
ALTER TABLE usermap.mapping_meta FORCE ROW LEVEL SECURITY;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
ALTER TABLE usermap.mapping_meta NO FORCE ROW LEVEL SECURITY;
SELECT count(*) - :audit_rows AS new_audit_rows FROM usermap.audit_log;
SELECT umoptions FROM pg_user_mappings
 WHERE srvname = 'regress_um_srv' AND usename = 'regress_um_alice';
-- What a session has checked is checked again once the tables change: the
-- same session records a change, a column is added, and the next change
-- is refused (a cached answer would have let it write a row of the old
-- shape).
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
ALTER TABLE usermap.audit_log ADD COLUMN regress_um_extra integer;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
ROLLBACK;
-- The mapping's metadata row is found again, its history kept, after the
-- table is rewritten (new TIDs) between two changes ...
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
VACUUM FULL usermap.mapping_meta;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
SELECT count(*), bool_and(created_at IS NOT NULL) AS history_kept
  FROM usermap.mapping_meta m JOIN pg_user_mappings u ON u.umid = m.umid
 WHERE u.usename = 'regress_um_alice' AND u.srvname = 'regress_um_srv';
-- ... where a superuser updated it (its new version is read, not the one
-- usermap last wrote) ...
BEGIN;
UPDATE usermap.mapping_meta SET created_by = 'regress_um_edited'
 WHERE umid = (SELECT umid FROM pg_user_mappings
                WHERE usename = 'regress_um_alice' AND srvname = 'regress_um_srv');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
SELECT count(*), min(created_by) AS created_by
  FROM usermap.mapping_meta m JOIN pg_user_mappings u ON u.umid = m.umid
 WHERE u.usename = 'regress_um_alice' AND u.srvname = 'regress_um_srv';
ROLLBACK;
-- ... and no deleted row is read, whether DELETE or TRUNCATE removed
-- it: the mapping gets a row of unknown creation.
BEGIN;
DELETE FROM usermap.mapping_meta;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
SELECT count(*), bool_and(created_at IS NULL) AS history_unknown
  FROM usermap.mapping_meta m JOIN pg_user_mappings u ON u.umid = m.umid
 WHERE u.usename = 'regress_um_alice' AND u.srvname = 'regress_um_srv';
ROLLBACK;
BEGIN;
TRUNCATE usermap.mapping_meta;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
SELECT count(*), bool_and(created_at IS NULL) AS history_unknown
  FROM usermap.mapping_meta m JOIN pg_user_mappings u ON u.umid = m.umid
 WHERE u.usename = 'regress_um_alice' AND u.srvname = 'regress_um_srv';
ROLLBACK;
-- A foreign key is enforced by triggers too.
CREATE TABLE regress_um_servers (name text PRIMARY KEY);
INSERT INTO regress_um_servers VALUES ('regress_um_srv'), ('regress_um_sales');
ALTER TABLE usermap.mapping_meta ADD CONSTRAINT regress_um_known_server
  FOREIGN KEY (server_name) REFERENCES regress_um_servers;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p5');
ALTER TABLE usermap.mapping_meta DROP CONSTRAINT regress_um_known_server;
DROP TABLE regress_um_servers;
-- A column of another type: the views keep the columns from being altered
-- or dropped ...
ALTER TABLE usermap.audit_log ALTER COLUMN logged_at TYPE text;
ALTER TABLE usermap.audit_log DROP COLUMN statement;
-- ... but once a superuser takes the view out of the extension and drops
-- it, a clear error, not a crash,
BEGIN;
ALTER EXTENSION usermap DROP VIEW usermap.audit_trail;
DROP VIEW usermap.audit_trail;
ALTER TABLE usermap.audit_log ALTER COLUMN logged_at TYPE text;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p6');
ROLLBACK;
-- and never a change recorded without its statement.
BEGIN;
ALTER EXTENSION usermap DROP VIEW usermap.audit_trail;
DROP VIEW usermap.audit_trail;
ALTER TABLE usermap.audit_log DROP COLUMN statement;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
ROLLBACK;
SELECT count(*) FROM pg_user_mappings WHERE srvname = 'regress_um_srv';
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET password 'p6');
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
DROP EXTENSION usermap;
CREATE EXTENSION usermap;

--
-- 4. A drop by cascade records the statement that caused it, not the
-- client's whole query string.  The string really holds the role's
-- password (current_query() shows the whole of it) ...
--
CREATE ROLE regress_um_bob;
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_sales OPTIONS (user 'b');
SELECT position('role-secret' IN current_query()) > 0 AS whole_string_has_it \; DROP SERVER regress_um_sales CASCADE \; ALTER ROLE regress_um_bob PASSWORD 'role-secret' \; SELECT 1 AS one;
-- ... and none of it but the DROP SERVER reaches the trail.
SELECT action, user_name, statement FROM usermap.audit_log ORDER BY id;
SELECT count(*) AS leaks FROM usermap.audit_log a WHERE a::text LIKE '%role-secret%';
-- In a function, the statement the function ran.
CREATE FUNCTION regress_um_cascade() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP OWNED BY regress_um_bob;
END $$;
CREATE SERVER regress_um_other FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_other;
SELECT regress_um_cascade() \; ALTER ROLE regress_um_bob PASSWORD 'role-secret-2';
SELECT action, statement FROM usermap.audit_log WHERE action = 'DROP' ORDER BY id DESC LIMIT 1;
-- Other statements that drop mappings by cascade: ALTER TABLE ... DROP
-- COLUMN, through a wrapper whose validator is a SQL function that depends
-- on the column, and DISCARD TEMP, through a validator in pg_temp.
CREATE TABLE regress_um_tv (c int);
-- (A validator's result is ignored, but it must not be NULL.)
CREATE FUNCTION regress_um_tv_validator(text[], oid) RETURNS bigint
LANGUAGE sql BEGIN ATOMIC SELECT count(c) FROM regress_um_tv; END;
CREATE FOREIGN DATA WRAPPER regress_um_colfdw VALIDATOR regress_um_tv_validator;
CREATE SERVER regress_um_colsrv FOREIGN DATA WRAPPER regress_um_colfdw;
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_colsrv;
ALTER TABLE regress_um_tv DROP COLUMN c CASCADE \; ALTER ROLE regress_um_bob PASSWORD 'role-secret-3';
SELECT action, statement FROM usermap.audit_log WHERE action = 'DROP' ORDER BY id DESC LIMIT 1;
CREATE FUNCTION pg_temp.regress_um_temp_validator(text[], oid) RETURNS int
LANGUAGE sql AS 'SELECT 1';
CREATE FOREIGN DATA WRAPPER regress_um_tempfdw VALIDATOR pg_temp.regress_um_temp_validator;
CREATE SERVER regress_um_tempsrv FOREIGN DATA WRAPPER regress_um_tempfdw;
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_tempsrv;
DISCARD TEMP \; ALTER ROLE regress_um_bob PASSWORD 'role-secret-4';
SELECT action, statement FROM usermap.audit_log WHERE action = 'DROP' ORDER BY id DESC LIMIT 1;
SELECT count(*) AS leaks FROM usermap.audit_log a WHERE a::text LIKE '%role-secret%';
DROP TABLE regress_um_tv;

-- Clean up
DROP FUNCTION regress_um_cascade(), regress_um_refuse();
DROP SERVER regress_um_srv, regress_um_other CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP SCHEMA regress_um_evil CASCADE;
DROP VIEW regress_um_privileges;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
DO $$ BEGIN
  EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_um_mallory', current_database());
END $$;
DROP ROLE regress_um_mallory, regress_um_alice, regress_um_bob;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
