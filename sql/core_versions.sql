--
-- Behaviour that changed between PostgreSQL majors, through usermap as
-- through the server's own code (installcheck-as-core runs this file too).
-- The first line says which variant of the expected output applies:
-- core_versions.out is 15's, core_versions_1.out 17's and 18's.
--
SELECT current_setting('server_version_num')::int >= 160000 AS pg16_or_later,
	current_setting('server_version_num')::int >= 170000 AS pg17_or_later \gset
\echo pg16_or_later=:pg16_or_later pg17_or_later=:pg17_or_later
SET client_min_messages = warning;
CREATE ROLE regress_umv_owner;
CREATE ROLE regress_umv_member;
CREATE ROLE regress_umv_other;
CREATE FOREIGN DATA WRAPPER regress_umv_fdw;
CREATE SERVER regress_umv_srv FOREIGN DATA WRAPPER regress_umv_fdw;
ALTER SERVER regress_umv_srv OWNER TO regress_umv_owner;
RESET client_min_messages;

--
-- 16: a role membership grants the owner's privileges only WITH INHERIT
-- TRUE; WITH SET TRUE alone lets the member become the owner.  In 15
-- every membership of an INHERIT role inherits.
--
\if :pg16_or_later
GRANT regress_umv_owner TO regress_umv_member WITH INHERIT FALSE, SET TRUE;
\else
GRANT regress_umv_owner TO regress_umv_member;
\endif
SET ROLE regress_umv_member;
-- 16+: not the server's owner; 15: its owner through the membership
CREATE USER MAPPING FOR regress_umv_other SERVER regress_umv_srv;
SET ROLE regress_umv_owner;
CREATE USER MAPPING IF NOT EXISTS FOR regress_umv_other SERVER regress_umv_srv;
RESET ROLE;
SELECT count(*) FROM pg_user_mappings WHERE srvname = 'regress_umv_srv';
DROP USER MAPPING FOR regress_umv_other SERVER regress_umv_srv;

--
-- 17: event_triggers = off turns every event trigger off, for
-- user-mapping statements as for any other.
--
CREATE FUNCTION regress_umv_et() RETURNS event_trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'event trigger: % %', tg_event, tg_tag; END $$;
CREATE EVENT TRIGGER regress_umv_et ON ddl_command_start
	EXECUTE FUNCTION regress_umv_et();
CREATE USER MAPPING FOR PUBLIC SERVER regress_umv_srv;
\if :pg17_or_later
SET event_triggers = off;
\endif
ALTER USER MAPPING FOR PUBLIC SERVER regress_umv_srv OPTIONS (a '1');
\if :pg17_or_later
RESET event_triggers;
\endif
DROP USER MAPPING FOR PUBLIC SERVER regress_umv_srv;
DROP EVENT TRIGGER regress_umv_et;
DROP FUNCTION regress_umv_et();

--
-- 16: the lexer reads 0x1F, 0o17, 0b101 and 1_000 as integers; 15 reads
-- them as a number followed by trailing junk.  usermap_lexer checks that
-- the redactor reads them as the server does.
--
SELECT 0x1F AS hex, 0o17 AS octal, 0b101 AS binary, 1_000 AS underscores;
SELECT 0x;

-- Clean up
DROP SERVER regress_umv_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_umv_fdw;
DROP ROLE regress_umv_owner, regress_umv_member, regress_umv_other;
