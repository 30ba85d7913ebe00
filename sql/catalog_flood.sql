--
-- Flooding the trail: what one change stores is bounded.  Any role with
-- USAGE on a server may change its own mapping, and every change is
-- recorded, with the statement that made it.  A statement longer than
-- usermap keeps (a comment after the options, a long option list) is
-- stored as its first 4096 bytes with every option value masked, followed
-- by a marker giving its length and the SHA-256 of that fully masked
-- text; one too long for the redactor to read (over 1 MB) is replaced
-- whole by the redactor's own marker.
--
SET client_min_messages = notice;
CREATE EXTENSION usermap;
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_mallory;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
GRANT USAGE ON FOREIGN SERVER regress_um_srv TO regress_um_mallory;

-- A 20 MB comment after the options.  Past 1 MB the redactor does not
-- read a text at all and hides it whole (USERMAP_HIDDEN_TEXT): the trail
-- keeps that.
SET ROLE regress_um_mallory;
SELECT format($q$CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv
  OPTIONS (user 'mallory', password 'mallory-secret') /* %s */$q$,
  repeat('flood ', 3500000)) AS flood \gset
SELECT octet_length(:'flood') AS sent_bytes;
:flood;
RESET ROLE;
SELECT octet_length(statement) <= 4096 + 200 AS bounded, statement,
       position('mallory-secret' in statement) AS secret_at
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
-- The views show the bounded text, to every reader.
SELECT octet_length(statement) <= 4096 + 200 AS bounded FROM usermap.audit_trail
 ORDER BY id DESC LIMIT 1;

-- A 200 kB comment, which the redactor reads: kept as its first 4096
-- bytes, every option value masked, and the marker.
SET ROLE regress_um_mallory;
SELECT format($q$ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv
  OPTIONS (SET user 'mallory2', SET password 'another-secret') /* %s */$q$,
  repeat('flood ', 35000)) AS flood \gset
SELECT octet_length(:'flood') AS sent_bytes;
:flood;
RESET ROLE;
SELECT octet_length(statement) <= 4096 + 200 AS bounded,
       left(statement, 160) AS stored_start,
       substring(statement from '\[usermap: .*\]$') AS marker,
       position('another-secret' in statement) AS secret_at,
       position('mallory2' in statement) AS value_at
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
-- The marker's length and hash are those of the whole statement with
-- every option value masked, as mask_statement(..., false) shows it to a
-- reader who may not see the values: nothing of a value is in it.
SELECT substring(statement from 'sha256 ([0-9a-f]{64})') =
         encode(sha256(convert_to(usermap.mask_statement(usermap.redact(:'flood'), false), 'UTF8')), 'hex')
         AS hash_of_masked,
       substring(statement from 'of ([0-9]+) bytes')::int =
         octet_length(usermap.mask_statement(usermap.redact(:'flood'), false)) AS length_of_masked
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
SELECT octet_length(statement) <= 4096 + 200 AS bounded FROM usermap.audit_trail
 ORDER BY id DESC LIMIT 1;

-- A statement within the bound is stored whole, secrets masked.
SET ROLE regress_um_mallory;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv
  OPTIONS (SET password 'rotated') /* short */;
RESET ROLE;
SELECT statement FROM usermap.audit_log ORDER BY id DESC LIMIT 1;

-- A long option list: cut at the bound too, values masked in what is kept
-- (the option columns keep them, secrets masked).
SET ROLE regress_um_mallory;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (%s)',
              string_agg(format('ADD opt%s %L', i, repeat('v', 50)), ', ')) AS many
  FROM generate_series(1, 200) i \gset
:many;
RESET ROLE;
SELECT octet_length(statement) <= 4096 + 200 AS bounded,
       position('vvvv' in statement) AS value_at,
       jsonb_array_length(jsonb_path_query_array(new_options, '$.keyvalue()')) AS options_kept
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;

-- A statement that changes nothing is still recorded: whether a SET
-- matched a value the reader may not see must not show (see
-- catalog_oracle), and so must not decide whether a row is written.
-- Its row is bounded like any other.
SET ROLE regress_um_mallory;
SELECT format($q$ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv
  OPTIONS (SET user 'mallory') -- %s
$q$, repeat('x', 1000000)) AS same \gset
:same;
RESET ROLE;
SELECT action, octet_length(statement) <= 4096 + 200 AS bounded
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
SELECT pg_column_size(a.*) < 8192 AS row_bounded
  FROM usermap.audit_log a ORDER BY id DESC LIMIT 1;

-- Clean up
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_mallory;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
