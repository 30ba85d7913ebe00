--
-- ALTER USER MAPPING: ADD / SET / DROP actions, lookups, validation.
--
SET client_min_messages = notice;
-- Run as a superuser of our own, so that messages naming the current or
-- session user do not depend on the bootstrap superuser's name.
CREATE ROLE regress_um_admin SUPERUSER;
SET SESSION AUTHORIZATION regress_um_admin;
CREATE ROLE regress_um_alice;
CREATE FOREIGN DATA WRAPPER regress_um_fdw;
CREATE FOREIGN DATA WRAPPER regress_um_vfdw VALIDATOR postgresql_fdw_validator;
CREATE SERVER regress_um_srv FOREIGN DATA WRAPPER regress_um_fdw;
CREATE SERVER regress_um_vsrv FOREIGN DATA WRAPPER regress_um_vfdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '1');
CREATE USER MAPPING FOR PUBLIC SERVER regress_um_srv;

CREATE FUNCTION regress_um_opts(srv text, usr text) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT m.umoptions FROM pg_user_mapping m
    JOIN pg_foreign_server s ON s.oid = m.umserver
   WHERE s.srvname = srv
     AND m.umuser = CASE WHEN usr = 'PUBLIC' THEN 0 ELSE usr::regrole::oid END
$$;

-- No action means ADD.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (b '2');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD c '3');
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');
-- ADD of an existing option fails, with or without the keyword.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (a '9');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD a '9');
-- SET and DROP of an absent option fail.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET z '9');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (DROP z);
-- Option names are case sensitive.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET "A" '9');
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');

-- Several actions apply in order; SET keeps the option's position,
-- ADD appends.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (SET a '10', DROP b, ADD d '4', SET c '30');
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');
-- The same option may be SET twice, or dropped and added back.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv
  OPTIONS (SET a '11', SET a '12', DROP d, ADD d '40');
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');
-- ... but not added twice, nor dropped twice, nor set after a drop.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD e '5', ADD e '6');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (DROP a, DROP a);
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (DROP a, SET a '1');
-- A failing action undoes the actions before it in the same statement.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (SET a '99', DROP nope);
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');
-- "=" in a name is refused only if the name survives to the result.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD "x=y" '1');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (ADD "x=y" '1', DROP "x=y");
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice');

-- Dropping every option stores NULL, not an empty array.
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_srv OPTIONS (DROP a, DROP c, DROP d);
SELECT regress_um_opts('regress_um_srv', 'regress_um_alice') IS NULL AS is_null;
-- ALTER on a mapping with NULL options.
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (SET a '1');
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_srv OPTIONS (ADD a '1');
SELECT regress_um_opts('regress_um_srv', 'PUBLIC');

-- Lookups: role first, then server, then the mapping.
ALTER USER MAPPING FOR regress_um_nobody SERVER regress_um_nosrv OPTIONS (a '1');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_nosrv OPTIONS (a '1');
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_um_srv OPTIONS (a '1');
ALTER USER MAPPING FOR PUBLIC SERVER regress_um_vsrv OPTIONS (user 'x');
ALTER USER MAPPING FOR USER SERVER regress_um_srv OPTIONS (a '1');
ALTER USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv OPTIONS (a '1');
ALTER USER MAPPING FOR SESSION_USER SERVER regress_um_srv OPTIONS (a '1');
-- Role forms that resolve to an existing mapping.
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;
ALTER USER MAPPING FOR USER SERVER regress_um_srv OPTIONS (u '1');
ALTER USER MAPPING FOR CURRENT_ROLE SERVER regress_um_srv OPTIONS (r '2');
ALTER USER MAPPING FOR SESSION_USER SERVER regress_um_srv OPTIONS (s '3');
SELECT regress_um_opts('regress_um_srv', current_user);
DROP USER MAPPING FOR CURRENT_USER SERVER regress_um_srv;

-- The validator sees the merged result, and an empty result is validated
-- as an empty array.
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (user 'u');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (ADD host 'h');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (ADD password 'p', SET user 'v');
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (DROP user, DROP password);
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice') IS NULL AS is_null;

-- Options stored before the wrapper got a validator are checked too, on
-- the next ALTER, even when that ALTER touches another option.
CREATE FOREIGN DATA WRAPPER regress_um_latefdw;
CREATE SERVER regress_um_latesrv FOREIGN DATA WRAPPER regress_um_latefdw;
CREATE USER MAPPING FOR regress_um_alice SERVER regress_um_latesrv OPTIONS (host 'h', user 'u');
ALTER FOREIGN DATA WRAPPER regress_um_latefdw VALIDATOR postgresql_fdw_validator;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_latesrv OPTIONS (SET user 'v');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_latesrv OPTIONS (SET user 'v', DROP host);
SELECT regress_um_opts('regress_um_latesrv', 'regress_um_alice');
DROP SERVER regress_um_latesrv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_latefdw;

-- An ALTER inside a transaction is undone by ROLLBACK and by ROLLBACK TO.
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (ADD user 'in_txn');
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice');
SAVEPOINT s1;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET user 'in_sp');
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice');
ROLLBACK TO SAVEPOINT s1;
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice');
ROLLBACK;
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice') IS NULL AS is_null;
-- Two ALTERs of one mapping in one transaction see each other.
BEGIN;
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (ADD user 'one');
ALTER USER MAPPING FOR regress_um_alice SERVER regress_um_vsrv OPTIONS (SET user 'two', ADD password 'p');
COMMIT;
SELECT regress_um_opts('regress_um_vsrv', 'regress_um_alice');

-- Clean up
DROP FUNCTION regress_um_opts(text, text);
DROP SERVER regress_um_srv, regress_um_vsrv CASCADE;
DROP FOREIGN DATA WRAPPER regress_um_fdw, regress_um_vfdw;
DROP ROLE regress_um_alice;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_um_admin;
