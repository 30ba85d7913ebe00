--
-- Event triggers: ddl_command_start, ddl_command_end with
-- pg_event_trigger_ddl_commands(), and sql_drop with
-- pg_event_trigger_dropped_objects(), at top level, inside functions and
-- DO blocks, and inside a CREATE EXTENSION script.
--
SET client_min_messages = notice;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE FOREIGN DATA WRAPPER regress_um_vfdw VALIDATOR postgresql_fdw_validator;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_vsrv FOREIGN DATA WRAPPER regress_um_vfdw;

-- A log table for the part where NOTICEs cannot be seen (see below).
CREATE TABLE regress_um_evt_log (n serial, event text, tag text, detail text);
CREATE FUNCTION regress_um_evt_log_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO regress_um_evt_log (event, tag, detail)
    SELECT tg_event, tg_tag,
           format('%s %s in_extension=%s', object_type, object_identity, in_extension)
      FROM pg_event_trigger_ddl_commands();
END $$;
CREATE FUNCTION regress_um_evt_log_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO regress_um_evt_log (event, tag, detail)
    SELECT tg_event, tg_tag,
           format('%s %s original=%s', object_type, object_identity, original)
      FROM pg_event_trigger_dropped_objects();
END $$;
CREATE FUNCTION regress_um_evt_start() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'start: % %', tg_event, tg_tag;
END $$;
CREATE FUNCTION regress_um_evt_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  RAISE NOTICE 'end: % %', tg_event, tg_tag;
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    RAISE NOTICE '  command: tag=% type=% schema=% identity=% in_extension=% mapping_exists=%',
      r.command_tag, r.object_type, r.schema_name, r.object_identity,
      r.in_extension,
      EXISTS (SELECT 1 FROM pg_user_mapping WHERE oid = r.objid);
  END LOOP;
END $$;
CREATE FUNCTION regress_um_evt_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  RAISE NOTICE 'drop: % %', tg_event, tg_tag;
  FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
    RAISE NOTICE '  dropped: type=% identity=% original=% normal=% names=% args=%',
      r.object_type, r.object_identity, r.original, r.normal,
      r.address_names, r.address_args;
  END LOOP;
END $$;
CREATE EVENT TRIGGER regress_um_start ON ddl_command_start
  EXECUTE FUNCTION regress_um_evt_start();
CREATE EVENT TRIGGER regress_um_end ON ddl_command_end
  EXECUTE FUNCTION regress_um_evt_end();
CREATE EVENT TRIGGER regress_um_drop ON sql_drop
  EXECUTE FUNCTION regress_um_evt_drop();

-- Top level.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '2');
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;
-- Statements that find nothing to do still fire start and end triggers,
-- but report no command and drop nothing.
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_alice SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR regress_um_nobody SERVER regress_um_srv;
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_nosrv;
-- A failing statement fires the start trigger only.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (a '1');
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (bad '1');
-- Drops by cascade reach sql_drop.
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_vsrv;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv;
DROP SERVER regress_um_vsrv CASCADE;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2;
CREATE SERVER regress_um_srv2 FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv2;
DROP OWNED BY regress_um_alice;

-- Inside a function, through EXECUTE, and in a DO block.
CREATE FUNCTION regress_um_ddl(stmt text) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN EXECUTE stmt; END $$;
SELECT regress_um_ddl('CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (f ''1'')');
SELECT regress_um_ddl('ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET f ''2'')');
SELECT regress_um_ddl('DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv');
DO $$
BEGIN
  CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (d '1');
  ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD e '1');
  DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
END $$;
-- An error raised by the DDL inside a function leaves no trace.
SELECT regress_um_ddl('CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_nosrv');

-- Inside a CREATE EXTENSION script (usermap_test runs CREATE, ALTER,
-- DROP and CREATE again).  Extension scripts run with client_min_messages
-- raised to warning, so these triggers log into a table instead.  The
-- mappings are not members of the extension; the server is.
CREATE EVENT TRIGGER regress_um_log_end ON ddl_command_end
  WHEN TAG IN ('CREATE USER MAPPING', 'ALTER USER MAPPING', 'CREATE SERVER')
  EXECUTE FUNCTION regress_um_evt_log_end();
CREATE EVENT TRIGGER regress_um_log_drop ON sql_drop
  EXECUTE FUNCTION regress_um_evt_log_drop();
CREATE FOREIGN DATA WRAPPER usermap_test_fdw;
CREATE EXTENSION usermap_test;
SELECT event, tag, detail FROM regress_um_evt_log ORDER BY n;
SELECT pg_describe_object(classid, objid, objsubid)
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'usermap_test')
 ORDER BY 1;
TRUNCATE regress_um_evt_log;
DROP EXTENSION usermap_test;
DROP EXTENSION usermap_test CASCADE;
SELECT event, tag, detail FROM regress_um_evt_log ORDER BY n;
DROP EVENT TRIGGER regress_um_log_end;
DROP EVENT TRIGGER regress_um_log_drop;

-- A trigger filtered by tag fires for that tag only.
CREATE FUNCTION regress_um_evt_tag() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'tag filter: %', tg_tag;
END $$;
CREATE EVENT TRIGGER regress_um_tag ON ddl_command_start
  WHEN TAG IN ('ALTER USER MAPPING')
  EXECUTE FUNCTION regress_um_evt_tag();
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
DROP EVENT TRIGGER regress_um_tag;

-- An event trigger that raises an error stops the statement, whether it
-- fires before or after the change.
CREATE FUNCTION regress_um_evt_refuse() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'refused by event trigger: %', tg_tag;
END $$;
CREATE EVENT TRIGGER regress_um_refuse ON ddl_command_start
  WHEN TAG IN ('DROP USER MAPPING')
  EXECUTE FUNCTION regress_um_evt_refuse();
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
DROP EVENT TRIGGER regress_um_refuse;
CREATE EVENT TRIGGER regress_um_refuse ON ddl_command_end
  WHEN TAG IN ('ALTER USER MAPPING')
  EXECUTE FUNCTION regress_um_evt_refuse();
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '2');
DROP EVENT TRIGGER regress_um_refuse;
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;

-- Disabled triggers do not fire.
ALTER EVENT TRIGGER regress_um_start DISABLE;
ALTER EVENT TRIGGER regress_um_end DISABLE;
ALTER EVENT TRIGGER regress_um_drop DISABLE;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;

-- Clean up
DROP EVENT TRIGGER regress_um_start;
DROP EVENT TRIGGER regress_um_end;
DROP EVENT TRIGGER regress_um_drop;
DROP FUNCTION regress_um_evt_start(), regress_um_evt_end(), regress_um_evt_drop(),
  regress_um_evt_tag(), regress_um_evt_refuse(), regress_um_ddl(text);
DROP SERVER regress_um_srv, regress_um_srv2;
DROP FOREIGN DATA WRAPPER regress_um_fdw, regress_um_vfdw, usermap_test_fdw;
DROP TABLE regress_um_evt_log;
DROP FUNCTION regress_um_evt_log_end(), regress_um_evt_log_drop();
DROP ROLE regress_um_alice;
