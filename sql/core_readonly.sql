--
-- Refused exactly where the server refuses: read-only transactions and
-- parallel operations.  (Hot standby is tested by t/001_standby.pl.)
--
SET client_min_messages = notice;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');

-- A read-only transaction refuses all three statements, before any
-- lookup: even a missing role or server gets the read-only error.
BEGIN TRANSACTION READ ONLY;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '2');
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
DROP USER MAPPING IF EXISTS FOR regress_um_nobody SERVER regress_um_nosrv;
ROLLBACK;
SET default_transaction_read_only = on;
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_alice SERVER regress_um_srv;
RESET default_transaction_read_only;
-- SET TRANSACTION READ ONLY after the transaction began.
BEGIN;
SET TRANSACTION READ ONLY;
ALTER USER MAPPING FOR regress_um_nobody SERVER regress_um_srv OPTIONS (a '1');
ROLLBACK;
-- Nothing changed.
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;
SELECT count(*) FROM pg_user_mapping m JOIN pg_foreign_server s ON s.oid = m.umserver
 WHERE s.srvname = 'regress_um_srv';

-- A parallel worker refuses them too.
CREATE FUNCTION regress_um_ddl_in_worker(stmt text) RETURNS int
LANGUAGE plpgsql PARALLEL SAFE AS $$ BEGIN EXECUTE stmt; RETURN 1; END $$;
-- force_parallel_mode is called debug_parallel_query from 16 on
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
	THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS parallel_guc \gset
SET :parallel_guc = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET max_parallel_workers_per_gather = 2;
SELECT regress_um_ddl_in_worker('CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv');
SELECT regress_um_ddl_in_worker('ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a ''3'')');
SELECT regress_um_ddl_in_worker('DROP USER MAPPING FOR regress_um_alice SERVER regress_um_srv');
RESET :parallel_guc;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET max_parallel_workers_per_gather;
SELECT umoptions FROM pg_user_mapping WHERE umuser = 'regress_um_alice'::regrole;

-- Clean up
DROP FUNCTION regress_um_ddl_in_worker(text);
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_alice;
