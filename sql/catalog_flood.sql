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

-- Whether a statement is cut must not depend on the length of values a
-- reader may not see: one that is long only because of its values is
-- kept whole, every value masked, and no marker.  For a reader who may
-- not see the values, statements with a 3900-byte and a 4100-byte value
-- read the same.
SET ROLE regress_um_mallory;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (SET user %L)',
              repeat('s', 3900)) AS v3900 \gset
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (SET user %L)',
              repeat('s', 4100)) AS v4100 \gset
:v3900;
:v4100;
RESET ROLE;
SELECT octet_length(statement) AS stored_bytes,
       usermap.mask_statement(statement, false) AS reader_sees
  FROM usermap.audit_log ORDER BY id DESC LIMIT 2;

-- A long option list: cut at the bound too, values masked in what is kept
-- (the option columns keep the values, secrets masked, of the first 64).
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

-- What a reader who may not see the values reads of a cut statement: the
-- text before the marker with every value masked, then the marker as it
-- is stored.  (Masked with the text, the marker, which is not SQL, made
-- the masking fail closed and mask it too.)  The kept text ends inside
-- the option list, so everything from it on is masked, names included.
SELECT substring(usermap.mask_statement(statement, false) from '\[usermap: .*\]$') =
         substring(statement from '\[usermap: .*\]$') AS marker_shown,
       right(usermap.mask_statement(statement, false), 200) AS reader_sees_end
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
-- Only a marker exactly as usermap writes it, at the very end, is kept as
-- it is: the bytes it says were kept are those before it, without a
-- leading zero, and the hash has 64 lower-case hex digits.  Controls: one
-- byte more or less, a leading zero, a hash one digit short or long or in
-- upper case, a marker that is not last; each text is masked as any other.
WITH t(kept) AS (
  VALUES (E'ALTER USER MAPPING FOR u SERVER s OPTIONS (ADD user \'alice\', ADD host \'db.example'))
SELECT c.name, usermap.mask_statement(
         format(E'%s ...\n[usermap: statement truncated to %s of 5000 bytes, every option value masked; sha256 %s]%s',
                t.kept, c.k, c.hash, c.tail), false) AS reader_sees
  FROM t, LATERAL (VALUES
    ('exact', octet_length(t.kept)::text, repeat('a', 64), ''),
    ('one more', (octet_length(t.kept) + 1)::text, repeat('a', 64), ''),
    ('one less', (octet_length(t.kept) - 1)::text, repeat('a', 64), ''),
    ('leading zero', '0' || octet_length(t.kept), repeat('a', 64), ''),
    ('hash short', octet_length(t.kept)::text, repeat('a', 63), ''),
    ('hash long', octet_length(t.kept)::text, repeat('a', 65), ''),
    ('hash upper', octet_length(t.kept)::text, repeat('A', 64), ''),
    ('not last', octet_length(t.kept)::text, repeat('a', 64), ' ')) c(name, k, hash, tail);

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

-- Option values.  The catalog holds a mapping's options once; the trail
-- keeps them before and after every change, so a role that sets a long
-- value again and again would store it twice per change, forever.  Each
-- value is kept up to 1024 bytes (whole characters), then a marker with
-- its length; the views mask it whole where they mask the value.
SET ROLE regress_um_mallory;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (ADD big %L)',
              repeat('0123456789', 50000)) AS big \gset
:big;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (SET big %L)',
              repeat('0123456789', 50000)) AS same \gset
:same;
:same;
RESET ROLE;
SELECT action, octet_length(old_options->>'big') AS old_kept,
       octet_length(new_options->>'big') AS new_kept,
       substring(new_options->>'big' from ' \.\.\.\[usermap: .*\]$') AS marker,
       left(new_options->>'big', 20) AS kept_start,
       changed_options
  FROM usermap.audit_log ORDER BY id DESC LIMIT 3;
-- The catalog has the whole value.
SELECT octet_length(option_value) AS catalog_bytes
  FROM pg_options_to_table((SELECT umoptions FROM pg_user_mapping
                             WHERE umuser = 'regress_um_mallory'::regrole))
 WHERE option_name = 'big';

-- Many options: past the first 64 of a list (in jsonb's order), the rest
-- are left out, and a last key (longer than any option name can be) says
-- how many; changed_options is cut the same way.  What is kept depends on
-- the names alone, never on the values' lengths, which the views hide
-- from some readers: the values here have lengths from 0 to 1499 bytes.
SET ROLE regress_um_mallory;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (DROP big, %s)',
              string_agg(format('ADD option_number_%s %L', lpad(i::text, 4, '0'), repeat('w', (i * 37) % 1500)), ', ')) AS many
  FROM generate_series(1, 3000) i \gset
:many;
RESET ROLE;
SELECT (SELECT count(*) FROM jsonb_object_keys(new_options)) AS keys_kept,
       (SELECT max(k) FROM jsonb_object_keys(new_options) k
         WHERE k NOT LIKE '[usermap:%') AS last_kept,
       (SELECT k FROM jsonb_object_keys(new_options) k
         WHERE k LIKE '[usermap:%') AS options_marker,
       (SELECT count(*) FROM jsonb_object_keys(old_options)) AS old_keys_kept,
       cardinality(changed_options) AS names_kept,
       changed_options[cardinality(changed_options)] AS names_marker,
       (SELECT max(octet_length(v)) FROM jsonb_each_text(new_options) AS e(k, v)) AS longest_value
  FROM usermap.audit_log ORDER BY id DESC LIMIT 1;
-- The same names with values of other lengths keep the same keys: the
-- kept ones (the shortest names, opt1 to opt99) now hold values of 0 to
-- 1299 bytes instead of 50.
SET ROLE regress_um_mallory;
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (%s)',
              string_agg(format('SET opt%s %L', i, repeat('v', (i * 91) % 1300)), ', ')) AS many
  FROM generate_series(1, 200) i \gset
:many;
RESET ROLE;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(a.new_options) k) =
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(b.new_options) k) AS same_keys,
       (SELECT max(octet_length(v)) FROM jsonb_each_text(a.new_options) AS e(k, v)) AS longest_value
  FROM usermap.audit_log a, usermap.audit_log b
 WHERE a.id = (SELECT max(id) FROM usermap.audit_log)
   AND b.id = (SELECT max(id) - 1 FROM usermap.audit_log);
-- mapping_meta's secret_changed_at still follows the whole list: a secret
-- option added past the cut of changed_options counts.
SELECT format('ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (%s, ADD sslpassword %L)',
              string_agg(format('SET option_number_%s %L', lpad(i::text, 4, '0'), repeat('x', 20)), ', '),
              'added-secret') AS many
  FROM generate_series(1, 3000) i \gset
SELECT secret_changed_at AS before FROM usermap.mapping_meta
 WHERE umuser = 'regress_um_mallory'::regrole \gset
SET ROLE regress_um_mallory;
:many;
RESET ROLE;
SELECT m.secret_changed_at > :'before' AS secret_changed,
       'sslpassword' = ANY (a.changed_options) AS named_in_kept,
       a.changed_options[cardinality(a.changed_options)] AS names_marker,
       position('added-secret' in a.new_options::text) AS secret_at
  FROM usermap.mapping_meta m, usermap.audit_log a
 WHERE m.umuser = 'regress_um_mallory'::regrole
   AND a.id = (SELECT max(id) FROM usermap.audit_log);

-- Clean up
DROP SERVER regress_um_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw;
DROP ROLE regress_um_mallory;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
DROP EXTENSION usermap;
DROP SCHEMA usermap;
