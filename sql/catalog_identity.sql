--
-- Identity and visibility.  The public mapping is spelt "public", as
-- pg_user_mappings spells it, a name no role can have; a role named
-- "PUBLIC" stays distinct from it everywhere.  Readers see option values
-- by one rule, pg_user_mappings', in every usermap object.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_owner;
CREATE ROLE regress_um_auditor IN ROLE usermap_auditor;
CREATE ROLE "PUBLIC";
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;

--
-- 5. PUBLIC beside "PUBLIC".  No role can take the public mapping's name.
--
CREATE ROLE public;
CREATE ROLE "public";
ALTER ROLE "PUBLIC" RENAME TO "public";
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (user 'u-public');
CREATE USER MAPPING FOR "PUBLIC" SERVER regress_um_srv OPTIONS (user 'u-role', password 'r1');
ALTER USER MAPPING FOR "PUBLIC" SERVER regress_um_srv OPTIONS (SET password 'r2');
-- Two mappings, two names, in every table and view, spelt as core does.
SELECT srvname, usename FROM pg_user_mappings ORDER BY 2;
SELECT server_name, user_name, options, secret_changed_at IS NOT NULL AS rotated
  FROM usermap.mappings ORDER BY 2;
SELECT user_name, umuser = 0 AS public_flag FROM usermap.mapping_meta ORDER BY 1;
SELECT action, user_name, changed_options FROM usermap.audit_log ORDER BY id;
SELECT server_name, user_name FROM usermap.stale_secrets('-1 day');
SELECT count(*) AS names_core_spells_otherwise
  FROM (SELECT srvname::text, usename::text FROM pg_user_mappings
        EXCEPT SELECT server_name, user_name FROM usermap.mappings) x;
SELECT usermap.user_name(0) AS public_mapping,
       usermap.user_name('"PUBLIC"'::regrole) AS role_mapping;
-- Drift and repair keep them apart: the public mapping re-created
-- unrecorded is described by the one detached row that holds its names
-- (the public mapping's, not the role's), which is no drift; repair gives
-- that row the new mapping's OIDs.  The role's history is not given to
-- the public mapping or the other way.
SET usermap.enabled = off;
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (user 'u-public');
RESET usermap.enabled;
SELECT problem, server_name, user_name FROM usermap.verify();
SELECT problem, server_name, user_name FROM usermap.verify(repair => true);
SELECT mm.user_name, mm.umid = m.oid AS rekeyed
  FROM usermap.mapping_meta mm
  JOIN pg_user_mapping m ON m.umuser = mm.umuser AND m.umserver = mm.umserver
 ORDER BY 1;
SELECT user_name, created_at IS NOT NULL AS known, secret_changed_at IS NOT NULL AS rotated
  FROM usermap.mappings ORDER BY 1;

--
-- 8. One visibility rule.  A server owner and an auditor, neither of them
-- superuser, read every object usermap gives them; option values show
-- exactly where pg_user_mappings shows them to that role.
--
CREATE ROLE regress_um_alice;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_alice, regress_um_auditor;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (user 'u-alice', sslkey '/keys/alice.key', password 'a1');
CREATE USER MAPPING FOR regress_um_auditor SERVER regress_um_srv
  OPTIONS (user 'u-auditor', password 'x1');
ALTER SERVER regress_um_srv OWNER TO regress_um_owner;
GRANT usermap_auditor TO regress_um_owner;
-- What each reader may see, by core's rule and in every usermap object
-- that shows option values: "user" is shown or masked, never otherwise.
CREATE VIEW regress_um_seen AS
  SELECT p.usename AS mapping,
         p.umoptions IS NOT NULL AS core_shows,
         (SELECT m.options->>'user' <> '********' FROM usermap.mappings m
           WHERE m.user_name = p.usename) AS mappings_shows,
         (SELECT bool_and(a.new_options->>'user' <> '********')
            FROM usermap.audit_trail a
           WHERE a.user_name = p.usename AND a.new_options ? 'user') AS trail_shows,
         (SELECT bool_and(a.statement LIKE '%u-%')
            FROM usermap.audit_trail a
           WHERE a.user_name = p.usename AND a.statement LIKE '%(user %') AS statement_shows
    FROM pg_user_mappings p;
GRANT SELECT ON regress_um_seen TO PUBLIC;
SET ROLE regress_um_auditor;
SELECT * FROM regress_um_seen ORDER BY 1;
SELECT user_name, new_options, statement FROM usermap.audit_trail
 WHERE user_name = 'regress_um_alice';
-- Secrets never, even where the rest shows.
SELECT count(*) AS secrets_shown FROM usermap.audit_trail a
 WHERE a::text ~ '(r1|r2|a1|x1)[^a-z0-9]';
-- What else the auditor can read holds no option values at all.
SELECT count(*) FROM usermap.mapping_meta;
SELECT count(*) FROM usermap.drift;
SELECT count(*) FROM usermap.stale_secrets('1 day');
SELECT count(*) FROM usermap.verify();
-- The table behind the trail is not the auditor's to read.
SELECT count(*) FROM usermap.audit_log;
RESET ROLE;
-- The owner sees the public mapping's values in mappings, as in core; its
-- trail rows describe the public mapping dropped and re-created while
-- usermap.enabled was off (above), another mapping, so they show her
-- none (catalog_recreated).
SET ROLE regress_um_owner;
SELECT * FROM regress_um_seen ORDER BY 1;
RESET ROLE;
-- A superuser sees every value but the secrets.
SELECT * FROM regress_um_seen ORDER BY 1;
-- A dropped mapping's history shows its values to superusers only: its
-- server's and role's names may be someone else's later
-- (catalog_recreated).
DROP USER MAPPING FOR regress_um_auditor SERVER regress_um_srv;
SET ROLE regress_um_auditor;
SELECT action, new_options, old_options FROM usermap.audit_trail
 WHERE user_name = 'regress_um_auditor' ORDER BY id;
RESET ROLE;
-- The rule itself, for bad input: unknown names see nothing.
SET ROLE regress_um_auditor;
SELECT usermap.options_visible('no_such_server', 'public') AS a,
       usermap.options_visible('regress_um_srv', 'no_such_role') AS b,
       usermap.options_visible(NULL, NULL) AS c,
       usermap.mask_option_values('{"user": "x"}', false) AS masked,
       usermap.mask_option_values('{"user": "x"}', NULL) AS null_reveal,
       usermap.mask_statement('CREATE USER MAPPING FOR x SERVER s OPTIONS (user ''x'')', false) AS stmt;
RESET ROLE;

-- Clean up
DROP VIEW regress_um_seen;
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
DROP ROLE regress_um_owner, regress_um_auditor, regress_um_alice, "PUBLIC";
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
