--
-- Object-access hooks fire for user mappings exactly where the server's
-- code fires them: post-create on CREATE, post-alter on ALTER, drop on
-- DROP (and on drops by cascade), and never for a statement that fails
-- its checks or finds nothing to do.  The usermap_test library reports
-- each call as a NOTICE.
--
SET client_min_messages = notice;
LOAD 'usermap_test';
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE FOREIGN DATA WRAPPER regress_um_vfdw VALIDATOR postgresql_fdw_validator;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_vsrv FOREIGN DATA WRAPPER regress_um_vfdw;

CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '2');
DROP USER MAPPING FOR PUBLIC SERVER regress_um_srv;

-- Nothing fires for statements that do nothing or fail.
CREATE USER MAPPING IF NOT EXISTS FOR regress_um_alice SERVER regress_um_srv;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (bad '1');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET nope '1');
DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER regress_um_srv;

-- Drops by cascade fire the drop hook for each mapping.
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;
DROP SERVER regress_um_srv CASCADE;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv;
DROP OWNED BY regress_um_alice;

-- Clean up
DROP SERVER regress_um_vsrv;
DROP FOREIGN DATA WRAPPER regress_um_fdw, regress_um_vfdw;
DROP ROLE regress_um_alice;
