--
-- 19: CREATE SUBSCRIPTION ... SERVER takes the subscription's connection
-- from its owner's user mapping (postgres_fdw 1.3's connection function).
-- User-mapping DDL around such subscriptions, through usermap as through
-- the server's own code (installcheck-as-core runs this file too).  The
-- subscriptions are made WITH (connect = false): no publisher is needed,
-- and none is contacted (t/015_subscription_server.pl replicates for real).
--
-- The first line says which variant of the expected output applies:
-- core_subscriptions.out is 19's; before 19 there is no such subscription,
-- and core_subscriptions_1.out shows the file stopping there.
--
SELECT current_setting('server_version_num')::int >= 190000 AS pg19_or_later \gset
\echo pg19_or_later=:pg19_or_later
\if :pg19_or_later
\else
\quit
\endif
SET client_min_messages = warning;
CREATE ROLE regress_ums_owner;
GRANT pg_create_subscription TO regress_ums_owner;
GRANT CREATE ON DATABASE :"DBNAME" TO regress_ums_owner;
CREATE SERVER regress_ums_srv FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', dbname 'regress_ums_nowhere');
GRANT USAGE ON FOREIGN SERVER regress_ums_srv TO regress_ums_owner;
RESET client_min_messages;

-- A subscription over a server without a mapping for its owner: created,
-- with a warning.  With one, created without it.
SET ROLE regress_ums_owner;
CREATE SUBSCRIPTION regress_ums_sub0 SERVER regress_ums_srv
  PUBLICATION p WITH (connect = false);
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv
  OPTIONS (user 'u', password 'secret1');
CREATE SUBSCRIPTION regress_ums_sub1 SERVER regress_ums_srv
  PUBLICATION p WITH (connect = false);
RESET ROLE;

-- The subscription depends on the server, not on the mapping.
SELECT pg_describe_object(classid, objid, objsubid) AS object,
	   pg_describe_object(refclassid, refobjid, refobjsubid) AS referenced,
	   deptype
  FROM pg_depend
 WHERE classid = 'pg_subscription'::regclass
   AND objid IN (SELECT oid FROM pg_subscription WHERE subname LIKE 'regress_ums_%')
 ORDER BY 1, 2;

-- The owner changes and drops its mapping under the subscriptions: each
-- succeeds, and the subscriptions keep the server.
SET ROLE regress_ums_owner;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv
  OPTIONS (SET password 'secret2');
-- the validator's checks apply as ever
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv
  OPTIONS (ADD password_required 'false');
DROP USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv;
DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER regress_ums_srv;
RESET ROLE;
SELECT s.subname, fs.srvname, s.subconninfo, s.subenabled
  FROM pg_subscription s JOIN pg_foreign_server fs ON fs.oid = s.subserver
 WHERE s.subname LIKE 'regress_ums_%'
 ORDER BY 1;

-- A public mapping does not serve a subscription whose owner needs a
-- password; nor does the owner's mapping without one.
CREATE USER MAPPING FOR PUBLIC SERVER regress_ums_srv OPTIONS (user 'p');
SET ROLE regress_ums_owner;
ALTER SUBSCRIPTION regress_ums_sub1 SERVER regress_ums_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv OPTIONS (user 'u');
ALTER SUBSCRIPTION regress_ums_sub1 SERVER regress_ums_srv;
RESET ROLE;
DROP USER MAPPING FOR PUBLIC SERVER regress_ums_srv;

-- Without USAGE on the server the owner can no longer change its mapping.
REVOKE USAGE ON FOREIGN SERVER regress_ums_srv FROM regress_ums_owner;
SET ROLE regress_ums_owner;
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv
  OPTIONS (SET user 'v');
DROP USER MAPPING FOR CURRENT_USER SERVER regress_ums_srv;
RESET ROLE;

-- The server cannot be dropped under the subscriptions, even with CASCADE.
DROP SERVER regress_ums_srv;
DROP SERVER regress_ums_srv CASCADE;

-- DROP OWNED drops the owner's mapping, not its subscriptions.
DROP OWNED BY regress_ums_owner;
SELECT count(*) AS owner_mappings FROM pg_user_mappings
 WHERE srvname = 'regress_ums_srv';
SELECT subname FROM pg_subscription WHERE subname LIKE 'regress_ums_%'
 ORDER BY 1;

-- Clean up: subscriptions made without connecting have no slot to drop.
SET client_min_messages = warning;
ALTER SUBSCRIPTION regress_ums_sub0 SET (slot_name = NONE);
ALTER SUBSCRIPTION regress_ums_sub1 SET (slot_name = NONE);
DROP SUBSCRIPTION regress_ums_sub0;
DROP SUBSCRIPTION regress_ums_sub1;
DROP SERVER regress_ums_srv CASCADE;
DROP OWNED BY regress_ums_owner;
DROP ROLE regress_ums_owner;
