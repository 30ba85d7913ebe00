--
-- Privileges: the server's owner (and members of the owning role, and
-- superusers) may manage any mapping; another role only its own, and only
-- with USAGE on the server; a PUBLIC mapping needs ownership.  Checks come
-- in the server's order, so an unprivileged role learns nothing it would
-- not learn from core.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_owner;
CREATE ROLE regress_um_member IN ROLE regress_um_owner;
CREATE ROLE regress_um_alice;
CREATE ROLE regress_um_bob;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN DATA WRAPPER regress_um_fdw TO regress_um_owner;
SET ROLE regress_um_owner;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_alice;
RESET ROLE;

CREATE VIEW regress_um_mappings AS
  SELECT CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE m.umuser::regrole::text END AS usr,
         m.umoptions
    FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
   WHERE s.srvname = 'regress_um_srv'
   ORDER BY 1;
GRANT SELECT ON regress_um_mappings TO PUBLIC;

-- The owner manages any mapping, PUBLIC included.
SET ROLE regress_um_owner;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (by 'owner');
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (by 'owner');
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET by 'owner2');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
RESET ROLE;

-- So does a member of the owning role.
SET ROLE regress_um_member;
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (SET by 'member');
CREATE USER MAPPING FOR regress_um_admin SERVER regress_um_srv OPTIONS (by 'member');
DROP USER MAPPING FOR regress_um_admin SERVER regress_um_srv;
RESET ROLE;
SELECT * FROM regress_um_mappings;

-- A role with USAGE manages its own mapping, through any role form.
SET ROLE regress_um_alice;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (by 'alice');
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (ADD x '1');
ALTER USER MAPPING FOR USER SERVER regress_um_srv OPTIONS (SET x '2');
ALTER USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv OPTIONS (DROP x);
-- ... but not another role's, nor PUBLIC's, whether or not it exists.
CREATE USER MAPPING FOR regress_um_member SERVER regress_um_srv;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET by 'alice');
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (SET by 'alice');
DROP USER MAPPING FOR regress_um_bob SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_srv;
-- Existence is reported before privileges by ALTER and DROP, as in core.
ALTER USER MAPPING FOR regress_um_member SERVER regress_um_srv OPTIONS (a '1');
DROP USER MAPPING FOR regress_um_member SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR regress_um_member SERVER regress_um_srv;
-- ... whereas CREATE checks privileges before existence.
CREATE USER MAPPING FOR regress_um_bob SERVER regress_um_srv;
RESET ROLE;
SELECT * FROM regress_um_mappings;

-- Without USAGE, not even one's own mapping.
SET ROLE regress_um_bob;
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET by 'bob');
DROP USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
RESET ROLE;
-- Revoking USAGE takes the right away; granting it gives it.
REVOKE USAGE ON FOREIGN SERVER regress_um_srv FROM regress_um_alice;
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET by 'alice2');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_bob;
SET ROLE regress_um_bob;
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET by 'bob');
RESET ROLE;

-- USAGE granted to PUBLIC counts for a role's own mapping.
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO PUBLIC;
SET ROLE regress_um_alice;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET by 'alice3');
RESET ROLE;
REVOKE USAGE ON FOREIGN SERVER regress_um_srv FROM PUBLIC;

-- SESSION_USER names the session user, not the current role: as alice
-- in bob's session, SESSION_USER is bob's mapping, which alice may not
-- touch, while CURRENT_USER is her own.
GRANT regress_um_alice TO regress_um_bob;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_alice;
SET SESSION AUTHORIZATION regress_um_bob;
SET ROLE regress_um_alice;
SELECT current_user, session_user;
ALTER USER MAPPING FOR SESSION_USER SERVER regress_um_srv OPTIONS (SET by 'alice as bob');
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (SET by 'alice as bob');
RESET ROLE;
ALTER USER MAPPING FOR SESSION_USER SERVER regress_um_srv OPTIONS (SET by 'bob as bob');
SET SESSION AUTHORIZATION regress_um_admin;
SELECT * FROM regress_um_mappings;

-- A superuser manages any mapping.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET by 'admin');
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
SELECT * FROM regress_um_mappings;

-- Ownership moves with ALTER SERVER ... OWNER TO.
ALTER SERVER regress_um_srv OWNER TO regress_um_admin;
SET ROLE regress_um_owner;
ALTER USER MAPPING FOR regress_um_bob SERVER regress_um_srv OPTIONS (SET by 'old owner');
DROP USER MAPPING FOR regress_um_owner SERVER regress_um_srv;
RESET ROLE;

-- Clean up
DROP VIEW regress_um_mappings;
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_owner, regress_um_member, regress_um_alice, regress_um_bob;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
