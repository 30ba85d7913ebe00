-- scripts/demo.sql -- a tour of what usermap adds, run by scripts/demo.
--
-- The server logs every statement (log_statement = all) and preloads
-- pg_stat_statements after usermap; scripts/demo shows the server log and
-- pg_stat_statements afterwards.  Secrets in this file all start with
-- "demo-secret", so that the log can be searched for them.
\set VERBOSITY terse
\pset null '(null)'
SET client_min_messages = warning;
CREATE EXTENSION usermap;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION pg_stat_statements;
CREATE SERVER sales FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host 'sales.internal', dbname 'sales');
CREATE SERVER archive FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host 'archive.internal', dbname 'archive');
CREATE ROLE analyst;
CREATE ROLE etl;
CREATE ROLE auditor LOGIN IN ROLE usermap_auditor;
RESET client_min_messages;

\echo
\echo '== 1. Mappings are created, altered and dropped with the ordinary statements.'
\echo '      Below: analyst''s password is rotated twice, sslpassword added, then a'
\echo '      SET that changes nothing; etl''s mapping is dropped directly; server'
\echo '      archive goes away with DROP SERVER ... CASCADE, taking its mapping.'
CREATE USER MAPPING FOR analyst SERVER sales OPTIONS (user 'ro_analyst', password 'demo-secret-1');
CREATE USER MAPPING FOR etl SERVER sales OPTIONS (user 'etl', password 'demo-secret-2');
CREATE USER MAPPING FOR PUBLIC SERVER archive OPTIONS (user 'reader', password 'demo-secret-3');
SELECT pg_sleep(1.1) \gset
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (SET password 'demo-secret-4');
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (SET password 'demo-secret-5');
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (ADD sslpassword 'demo-secret-6');
SELECT pg_sleep(1.1) \gset
ALTER USER MAPPING FOR analyst SERVER sales OPTIONS (SET user 'ro_analyst');
DROP USER MAPPING FOR etl SERVER sales;
DROP SERVER archive CASCADE;

\echo
\echo '== 2. usermap.mappings: every mapping with who made and changed it, and'
\echo '      when its secret last changed.  analyst''s secret changed after it was'
\echo '      created (rotated_after_create is true), and the no-op SET a second'
\echo '      later moved modified_at, not secret_changed_at (modified_since_rotation'
\echo '      is true).  Secrets show as ********.'
SELECT server_name, user_name, options, created_by, modified_by,
       secret_changed_at > created_at AS rotated_after_create,
       modified_at > secret_changed_at AS modified_since_rotation,
       secret_options
  FROM usermap.mappings ORDER BY server_name, user_name;

\echo
\echo '== 3. The audit trail, as the role auditor (a member of usermap_auditor)'
\echo '      reads it: one row per change, the cascade drop recorded with the'
\echo '      statement that caused it.  Option values auditor may not see in'
\echo '      pg_user_mappings are masked, secrets always.'
SET ROLE auditor;
SELECT action, server_name, user_name, changed_options, session_role, statement
  FROM usermap.audit_trail ORDER BY id;
RESET ROLE;

\echo
\echo '== 4. verify(): a mapping made with usermap.enabled = off (the escape'
\echo '      hatch, which hands the DDL back to the server) has no history:'
\echo '      verify() reports it as missing metadata, verify(repair => true)'
\echo '      records it, and a second verify() finds nothing.'
SET usermap.enabled = off;
CREATE USER MAPPING FOR etl SERVER sales OPTIONS (user 'etl', password 'demo-secret-7');
RESET usermap.enabled;
SELECT problem, server_name, user_name, repaired FROM usermap.verify();
SELECT problem, server_name, user_name, repaired FROM usermap.verify(repair => true);
SELECT count(*) AS problems_left FROM usermap.verify();

\echo
\echo '== 5. usermap.stale_secrets(): mappings whose secret has not changed'
\echo '      within the interval given.  analyst rotated its secret seconds ago,'
\echo '      so with ''1 hour'' only etl is listed: its secret was set while'
\echo '      usermap was off, so when it last changed is unknown (null).'
SELECT * FROM usermap.stale_secrets('1 hour');

\echo
\echo '== 6. The same statements as pg_stat_statements counted them: secrets'
\echo '      masked, and the two ALTERs that differ only in their secret share'
\echo '      one entry (calls = 2).'
SELECT calls, query FROM pg_stat_statements
 WHERE query ~* 'user mapping' ORDER BY query;
