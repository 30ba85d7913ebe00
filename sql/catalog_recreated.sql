--
-- Visibility by name: a row of the audit trail shows option values to a
-- reader only while it describes the live mapping it names.  After DROP
-- SERVER sales CASCADE, any role with USAGE on a wrapper can create a
-- server named sales and own it; she must not see the dropped mappings'
-- values.  The same for a server name freed by a rename, and a role
-- re-created under a dropped role's name.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_mallory IN ROLE usermap_auditor;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN DATA WRAPPER regress_um_fdw TO regress_um_mallory;
CREATE SERVER regress_um_sales FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_hr FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_sales
  OPTIONS (user 'sales-login', password 'sales-secret');
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_sales OPTIONS (SET user 'sales-login-2');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_hr OPTIONS (user 'hr-login');
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_hr OPTIONS (user 'alice-login');

DROP SERVER regress_um_sales CASCADE;
-- a rename frees the name hr
ALTER SERVER regress_um_hr RENAME TO regress_um_hr_renamed;
DROP USER MAPPING FOR regress_um_alice SERVER regress_um_hr_renamed;
DROP ROLE regress_um_alice;

-- mallory takes the freed names: a server sales and a server hr of her
-- own, each with a public mapping; and a role alice is created again, for
-- her.
SET ROLE regress_um_mallory;
CREATE SERVER regress_um_sales FOREIGN DATA WRAPPER regress_um_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_sales OPTIONS (user 'mallory-sales');
CREATE SERVER regress_um_hr FOREIGN DATA WRAPPER regress_um_fdw;
RESET ROLE;
CREATE ROLE regress_um_alice IN ROLE usermap_auditor;
GRANT USAGE ON FOREIGN SERVER regress_um_hr TO regress_um_alice;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_hr OPTIONS (user 'new-alice');

-- The superuser sees every value but secrets, dropped mappings' included.
SELECT action, server_name, user_name, new_options, statement
  FROM usermap.audit_trail ORDER BY id;

-- mallory sees the values of her own server's public mapping only: not
-- those of the dropped sales mappings, nor of the renamed hr's.
SET ROLE regress_um_mallory;
SELECT action, server_name, user_name, old_options, new_options, statement
  FROM usermap.audit_trail ORDER BY id;
RESET ROLE;

-- The new alice sees her own mapping's values, not the old alice's.
SET ROLE regress_um_alice;
SELECT action, server_name, user_name, old_options, new_options, statement
  FROM usermap.audit_trail WHERE user_name = 'regress_um_alice' ORDER BY id;
RESET ROLE;

-- Matching by names attaches nothing where it would have to guess: two
-- detached rows (OIDs of no live mapping, as after pg_upgrade) that both
-- hold the names of the new alice's mapping.  Neither is taken for it;
-- verify() reports the mapping as ambiguous and repair leaves both.
-- rows as a restore left them, written around the re-attachment trigger
ALTER TABLE usermap.mapping_meta DISABLE TRIGGER mapping_meta_reattach;
UPDATE usermap.mapping_meta SET umid = 1, created_by = 'one guess'
 WHERE user_name = 'regress_um_alice';
INSERT INTO usermap.mapping_meta (umid, umuser, umserver, server_name, user_name, created_by)
SELECT 2, umuser, umserver, server_name, user_name, 'another guess'
  FROM usermap.mapping_meta WHERE umid = 1;
ALTER TABLE usermap.mapping_meta ENABLE ALWAYS TRIGGER mapping_meta_reattach;
SELECT user_name, created_by FROM usermap.mappings WHERE user_name = 'regress_um_alice';
SELECT problem, server_name, user_name, repaired FROM usermap.verify(repair => true);
SELECT umid < 3 AS detached, created_by FROM usermap.mapping_meta
 WHERE user_name = 'regress_um_alice' ORDER BY created_by;
-- The next change starts the mapping's own row; the two are then orphans.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_hr OPTIONS (SET user 'next');
SELECT user_name, created_by FROM usermap.mappings WHERE user_name = 'regress_um_alice';
SELECT problem, server_name, user_name, repaired FROM usermap.verify(repair => true);

-- Clean up
SET ROLE regress_um_mallory;
DROP SERVER regress_um_sales CASCADE;
RESET ROLE;
DROP SERVER regress_um_hr CASCADE;
DROP SERVER regress_um_hr_renamed CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_mallory, regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
