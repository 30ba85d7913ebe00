--
-- The redactor lexes text as the running server's lexer does, including
-- what changed between majors.  The first line says which variant of the
-- expected output applies: usermap_lexer.out is 15's, usermap_lexer_1.out
-- 17's and 18's.
--
SELECT current_setting('server_version_num')::int >= 160000 AS pg16_or_later;
CREATE EXTENSION usermap;
\pset tuples_only on
\pset format unaligned

-- 16 lexes 0x1F, 0o17, 0b101 and 1_000 as integers, and the statement
-- after them is masked as usual.  15 rejects them as trailing junk: the
-- text is not lexed from there on, and what may hide a statement is
-- masked to its end.
SELECT usermap.redact($q$SELECT 0x1F; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 0o17, 0b101; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 1_000, 1_000.000_1, 1e1_0; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 0x_1F; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
-- Junk on every major: a radix prefix without digits, a doubled or
-- trailing underscore, letters after the digits.
SELECT usermap.redact($q$SELECT 0x; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 1__0; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 1_; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 0x1Fg; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
SELECT usermap.redact($q$SELECT 0b12; ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'x', user 'keep')$q$);
-- Inside a user-mapping statement the junk makes it a syntax error, and
-- the option list is masked from its start.
SELECT usermap.redact($q$ALTER USER MAPPING FOR bob SERVER s OPTIONS (user 0x1F, SET password 'x')$q$);

DROP EXTENSION usermap;
