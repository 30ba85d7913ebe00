--
-- Security-restricted operations: code of an untrusted role runs inside a
-- superuser's ANALYZE, VACUUM, REINDEX or autovacuum (an index expression)
-- as the table's owner.  A user-mapping change made there must not be put
-- on the superuser: the trail records the role that acted
-- ("current_role", the table's owner) and the context.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_mallory;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_mallory;
GRANT CREATE ON SCHEMA public TO regress_um_mallory;

SET ROLE regress_um_mallory;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (user 'mallory');
-- An index expression that changes her mapping when a setting says so
-- (not while she builds the index herself); the change itself is in a
-- volatile function, which an immutable one may call (by its qualified
-- name: from 17 on, maintenance runs with search_path pg_catalog, pg_temp).
CREATE FUNCTION regress_um_change() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'ALTER USER MAPPING FOR regress_um_mallory SERVER regress_um_srv OPTIONS (SET user ''changed-in-analyze'')';
END $$;
CREATE FUNCTION regress_um_sneaky(i int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('regress_um.fire', true) = 'on' THEN
    PERFORM public.regress_um_change();
    PERFORM set_config('regress_um.fire', 'off', false);
  END IF;
  RETURN i;
END $$;
CREATE TABLE regress_um_trap (a int);
INSERT INTO regress_um_trap SELECT generate_series(1, 10);
CREATE INDEX ON regress_um_trap (regress_um_sneaky(a));
RESET ROLE;

-- The superuser's ANALYZE runs it.
SET regress_um.fire = on;
ANALYZE regress_um_trap;
SELECT umoptions FROM pg_user_mappings WHERE usename = 'regress_um_mallory';
SELECT action, session_role, "current_role", context, statement
  FROM usermap.audit_trail ORDER BY id DESC LIMIT 1;
SELECT modified_by, modified_as FROM usermap.mappings
 WHERE user_name = 'regress_um_mallory';

-- The same change made directly by a superuser has no context.
ALTER USER MAPPING FOR regress_um_mallory SERVER regress_um_srv OPTIONS (SET user 'mallory');
SELECT action, session_role, "current_role", context
  FROM usermap.audit_trail ORDER BY id DESC LIMIT 1;

-- A SECURITY DEFINER function of hers, called by the superuser, runs as her
-- too, without the restrictions.
SET ROLE regress_um_mallory;
CREATE FUNCTION regress_um_definer() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  EXECUTE 'ALTER USER MAPPING FOR regress_um_mallory SERVER regress_um_srv OPTIONS (SET user ''changed-in-definer'')';
END $$;
RESET ROLE;
SELECT regress_um_definer();
SELECT action, session_role, "current_role", context
  FROM usermap.audit_trail ORDER BY id DESC LIMIT 1;

-- Clean up
DROP TABLE regress_um_trap;
DROP FUNCTION regress_um_sneaky(int);
DROP FUNCTION regress_um_change();
DROP FUNCTION regress_um_definer();
REVOKE CREATE ON SCHEMA public FROM regress_um_mallory;
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_mallory;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
