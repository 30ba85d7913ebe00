-- scripts/demo.sql -- a short tour of usermap, run by scripts/demo.
\set VERBOSITY default
\echo
\echo '== usermap is preloaded and handles user-mapping DDL in every database'
SHOW shared_preload_libraries;
CREATE EXTENSION usermap;
SELECT usermap.library_version();

\echo
\echo '== a postgres_fdw server and a role that will use it'
CREATE EXTENSION postgres_fdw;
CREATE SERVER sales FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host 'sales.internal', dbname 'sales');
CREATE ROLE analyst;
GRANT USAGE ON FOREIGN SERVER sales TO analyst;

\echo
\echo '== CREATE, ALTER (ADD / SET / DROP), exactly as PostgreSQL does them'
CREATE USER MAPPING FOR analyst SERVER sales OPTIONS (user 'ro_analyst', password 'first');
ALTER USER MAPPING FOR analyst SERVER sales
  OPTIONS (SET password 'second', ADD sslpassword 'keypass');
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (DROP sslpassword);
SELECT srvname, usename, umoptions FROM pg_user_mappings;

\echo
\echo '== same errors and notices as the server itself'
CREATE USER MAPPING FOR analyst SERVER sales;
CREATE USER MAPPING IF NOT EXISTS FOR analyst SERVER sales;
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (ADD host 'elsewhere');
DROP USER MAPPING IF EXISTS FOR nobody SERVER sales;

\echo
\echo '== usermap serializes DDL on one mapping: the key lock it holds'
BEGIN;
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (SET password 'third');
SELECT locktype, mode, objsubid = 30061 AS usermap_key_lock
  FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'userlock';
COMMIT;

\echo
\echo '== the escape hatch: usermap.enabled = off hands the DDL back to the server'
SET usermap.enabled = off;
DROP USER MAPPING FOR analyst SERVER sales;
RESET usermap.enabled;
SELECT count(*) AS mappings_left FROM pg_user_mappings;
