--
-- Catalog side effects: the dependency on the server, the shared
-- dependency on the mapped role, and what they make DROP ROLE, DROP OWNED
-- BY, DROP SERVER and DROP FOREIGN DATA WRAPPER do.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_alice;
CREATE ROLE regress_um_bob;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv2 FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;

-- Dependencies of each mapping, described without OIDs.
CREATE FUNCTION regress_um_deps() RETURNS TABLE (mapping text, refobj text, deptype "char")
LANGUAGE sql STABLE AS $$
  SELECT pg_describe_object(d.classid, d.objid, d.objsubid),
         pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), d.deptype
    FROM pg_depend d
   WHERE d.classid = 'pg_user_mapping'::regclass
  UNION ALL
  SELECT pg_describe_object(d.classid, d.objid, d.objsubid),
         pg_describe_object(d.refclassid, d.refobjid, 0), d.deptype
    FROM pg_shdepend d
   WHERE d.classid = 'pg_user_mapping'::regclass
     AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  ORDER BY 1, 2
$$;
SELECT * FROM regress_um_deps();

-- The mapping is an addressable object.
SELECT pg_describe_object(classid, objid, objsubid) AS descr,
       (pg_identify_object(classid, objid, objsubid)).*,
       (pg_identify_object_as_address(classid, objid, objsubid)).*
  FROM pg_get_object_address('user mapping', '{regress_um_alice}', '{regress_um_srv}');
SELECT pg_describe_object(classid, objid, objsubid)
  FROM pg_get_object_address('user mapping', '{public}', '{regress_um_srv}');
SELECT pg_get_object_address('user mapping', '{regress_um_bob}', '{regress_um_srv}');

-- An ALTER keeps the dependencies as they were.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '2');
SELECT * FROM regress_um_deps();

-- The mapped role cannot be dropped while it has mappings.
DROP ROLE regress_um_alice;
-- REASSIGN OWNED does not move user mappings: they are not owned.
REASSIGN OWNED BY regress_um_alice TO regress_um_bob;
SELECT * FROM regress_um_deps();
-- DROP OWNED BY removes them.
DROP OWNED BY regress_um_alice;
SELECT * FROM regress_um_deps();
DROP ROLE regress_um_alice;

-- DROP SERVER needs CASCADE while mappings exist.
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_srv2;
DROP SERVER regress_um_srv;
DROP SERVER regress_um_srv CASCADE;
SELECT * FROM regress_um_deps();
-- DROP FOREIGN DATA WRAPPER ... CASCADE reaches the mappings through the
-- server.
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP FOREIGN DATA WRAPPER regress_um_fdw CASCADE;
SELECT * FROM regress_um_deps();
SELECT count(*) FROM pg_user_mapping m
 WHERE NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.oid = m.umserver);

-- A mapping for a role that is dropped and created again does not carry
-- over: the new role has a new OID.
CREATE ROLE regress_um_carol;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
DROP OWNED BY regress_um_carol;
DROP ROLE regress_um_carol;
CREATE ROLE regress_um_carol;
CREATE USER MAPPING FOR regress_um_carol SERVER regress_um_srv;
SELECT * FROM regress_um_deps();

-- Clean up
DROP FUNCTION regress_um_deps();
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_bob, regress_um_carol;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
