--
-- Borrowed privileges: the objects CREATE EXTENSION makes get the default
-- privileges of the role that runs it (ALTER DEFAULT PRIVILEGES, global
-- and per schema), a common site-wide setup.  They must end with exactly
-- the install script's grants all the same, and verify() must report any
-- grant beyond the script's made later.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_mallory;
-- a reporting role that is also an auditor: it may read the views, and
-- must not read audit_log in clear
CREATE ROLE regress_um_reporting IN ROLE usermap_auditor;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE ROLE regress_um_alice;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (user 'alice', password 'alice-secret');

-- What a role may do with the extension's objects beyond what the script
-- grants it: every privilege it holds on each, but those PUBLIC has by
-- default (EXECUTE on library_version() and redact()).
CREATE FUNCTION regress_um_borrowed(role name) RETURNS TABLE (object text, privileges text)
LANGUAGE sql AS $$
  SELECT pg_describe_object(d.classid, d.objid, 0),
         string_agg(p.priv, ',' ORDER BY p.priv)
    FROM pg_depend d
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'usermap'
   CROSS JOIN LATERAL (
     SELECT unnest(CASE
       WHEN d.classid = 'pg_class'::regclass AND
            (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S'
       THEN ARRAY['SELECT', 'UPDATE', 'USAGE']
       WHEN d.classid = 'pg_class'::regclass
       THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
       ELSE ARRAY['EXECUTE'] END) AS priv) p
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND CASE
       WHEN d.classid = 'pg_class'::regclass AND
            (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'S'
       THEN has_sequence_privilege(role, d.objid, p.priv)
       WHEN d.classid = 'pg_class'::regclass
       THEN has_table_privilege(role, d.objid, p.priv)
       ELSE has_function_privilege(role, d.objid, p.priv)
            AND NOT has_function_privilege('public', d.objid, p.priv) END
   GROUP BY 1
  UNION ALL
  SELECT 'schema usermap', string_agg(p.priv, ',' ORDER BY p.priv)
    FROM unnest(ARRAY['USAGE', 'CREATE']) p(priv)
   WHERE has_schema_privilege(role, 'usermap', p.priv)
  HAVING count(*) > 0
   ORDER BY 1
$$;

-- The site-wide setup, made before usermap is installed: every new table,
-- sequence, function and schema of this superuser is shared.
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO regress_um_reporting;

CREATE EXTENSION usermap;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (SET password 'rotated-secret');

-- Nothing borrowed: mallory holds nothing, the reporting role only what
-- usermap_auditor was granted (through its membership).
SELECT * FROM regress_um_borrowed('regress_um_mallory');
SELECT * FROM regress_um_borrowed('regress_um_reporting');

-- The attacks of the issue, each refused.
SET ROLE regress_um_reporting;
SELECT statement FROM usermap.audit_log;
RESET ROLE;
SET ROLE regress_um_mallory;
SELECT new_options FROM usermap.audit_log;
INSERT INTO usermap.audit_log (logged_at, action, server_name, user_name,
  session_role, "current_role", umid, transaction_id)
  VALUES (now(), 'CREATE', 'forged', 'forged', 'x', 'x', 0, '0');
UPDATE usermap.mapping_meta SET created_by = 'forged';
SELECT setval('usermap.audit_log_id_seq', 1);
TRUNCATE usermap.audit_log;
SELECT count(*) FROM usermap.verify(repair => true);
RESET ROLE;
SELECT count(*) AS trail_rows, bool_and(server_name <> 'forged') AS unforged
  FROM usermap.audit_log;

-- A grant made later, beyond the script's, is reported by verify(), and
-- repair revokes it.
GRANT SELECT, INSERT ON usermap.audit_log TO regress_um_alice;
GRANT EXECUTE ON FUNCTION usermap.mask_options(text[], boolean) TO regress_um_alice;
GRANT CREATE ON SCHEMA usermap TO regress_um_alice;
GRANT SELECT (statement) ON usermap.audit_log TO regress_um_mallory WITH GRANT OPTION;
GRANT USAGE ON SCHEMA usermap TO usermap_auditor WITH GRANT OPTION;
SELECT problem, umid, server_name, user_name, repaired, detail FROM usermap.verify();
SELECT problem, repaired, detail FROM usermap.verify(repair => true);
SELECT * FROM regress_um_borrowed('regress_um_alice');
SELECT * FROM regress_um_borrowed('regress_um_mallory');
SELECT problem FROM usermap.verify();
-- The auditor's own grants are the script's: not reported, not revoked.
SELECT * FROM regress_um_borrowed('usermap_auditor');

-- Per-schema default privileges: the schema usermap that DROP EXTENSION
-- leaves behind may carry them (any role may set its own in any schema;
-- these are the installing superuser's).
DROP EXTENSION usermap;
ALTER DEFAULT PRIVILEGES IN SCHEMA usermap GRANT ALL ON TABLES TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES IN SCHEMA usermap GRANT ALL ON FUNCTIONS TO regress_um_mallory;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_um_mallory IN SCHEMA usermap
  GRANT ALL ON TABLES TO regress_um_mallory;
CREATE EXTENSION usermap;
SELECT * FROM regress_um_borrowed('regress_um_mallory');
SELECT problem FROM usermap.verify();

-- Clean up
DROP EXTENSION usermap;
ALTER DEFAULT PRIVILEGES IN SCHEMA usermap REVOKE ALL ON TABLES FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES IN SCHEMA usermap REVOKE ALL ON FUNCTIONS FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_um_mallory IN SCHEMA usermap
  REVOKE ALL ON TABLES FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES REVOKE USAGE ON SCHEMAS FROM regress_um_mallory;
ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM regress_um_reporting;
DROP SCHEMA usermap;
DROP FUNCTION regress_um_borrowed(name);
SET usermap.enabled = off;
DROP SERVER regress_um_srv CASCADE;
RESET usermap.enabled;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_mallory, regress_um_reporting, regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
