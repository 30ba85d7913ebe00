/* usermap--1.2.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION usermap" to load this file. \quit

--
-- Every operator, function, type and cast below is qualified with
-- pg_catalog (or is this extension's own), and every function pins its
-- search_path: nothing here may resolve to an object someone else
-- planted.  The first statement refuses a schema usermap did not make
-- (see usermap_require_preload in src/usermap.c).
--
CREATE FUNCTION @extschema@.require_preload()
RETURNS void
AS 'MODULE_PATHNAME', 'usermap_require_preload'
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp;
SELECT @extschema@.require_preload();
DROP FUNCTION @extschema@.require_preload();

CREATE FUNCTION @extschema@.library_version()
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'usermap_library_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.library_version() IS
'version of the loaded usermap library';

--
-- The role that may read the catalog layer.  Roles belong to the cluster,
-- not to an extension: the first database to install usermap creates it,
-- and DROP EXTENSION leaves it in place.
--
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
				   WHERE rolname OPERATOR(pg_catalog.=) 'usermap_auditor'::pg_catalog.name) THEN
		CREATE ROLE usermap_auditor NOLOGIN;
	END IF;
END
$$;

--
-- One row per live user mapping, keyed by the mapping's OID.  usermap's C
-- code writes it, in the transaction that changes the mapping; nothing
-- else should.  OIDs mean something only in the cluster that assigned
-- them: after a restore or pg_upgrade rows are matched to mappings by
-- server_name and user_name (usermap.user_name(): 'public' for the public
-- mapping, as pg_user_mappings spells it).
--
CREATE TABLE @extschema@.mapping_meta (
	umid pg_catalog.oid PRIMARY KEY,		-- pg_user_mapping.oid
	umuser pg_catalog.oid NOT NULL,			-- pg_user_mapping.umuser, 0 for public
	umserver pg_catalog.oid NOT NULL,		-- pg_user_mapping.umserver
	server_name pg_catalog.text NOT NULL,	-- names as of the last change, used
	user_name pg_catalog.text NOT NULL,		-- to re-attach rows after a restore
	created_at pg_catalog.timestamptz,		-- NULL: before usermap recorded it
	created_by pg_catalog.text,				-- session role
	created_as pg_catalog.text,				-- current role
	modified_at pg_catalog.timestamptz,
	modified_by pg_catalog.text,
	modified_as pg_catalog.text,
	secret_changed_at pg_catalog.timestamptz	-- last add/change/drop of a secret
);

COMMENT ON TABLE @extschema@.mapping_meta IS
'usermap: who created and last changed each user mapping, and when its secret last changed';

--
-- The audit trail: one row per change, written in the same transaction.
-- Secret values appear only as ********.
--
-- Row ids come from a sequence that starts at the creation time in
-- microseconds, so that ids stay unique and in time order across a dump
-- and restore: the restore's own rows (one CREATE per restored mapping)
-- are numbered after every restored row.
--
CREATE SEQUENCE @extschema@.audit_log_id_seq;
SELECT pg_catalog.setval('@extschema@.audit_log_id_seq'::pg_catalog.regclass,
						 (pg_catalog.extract('epoch'::pg_catalog.text, pg_catalog.clock_timestamp())
						  OPERATOR(pg_catalog.*) 1000000::pg_catalog.numeric)::pg_catalog.int8);

CREATE TABLE @extschema@.audit_log (
	id pg_catalog.int8 NOT NULL
		DEFAULT pg_catalog.nextval('@extschema@.audit_log_id_seq'::pg_catalog.regclass),
	logged_at pg_catalog.timestamptz NOT NULL,
	action pg_catalog.text NOT NULL,		-- CREATE, ALTER or DROP (see below)
	server_name pg_catalog.text NOT NULL,
	user_name pg_catalog.text NOT NULL,		-- 'public' for the public mapping
	old_options pg_catalog.jsonb,
	new_options pg_catalog.jsonb,
	changed_options pg_catalog.text[],
	session_role pg_catalog.text NOT NULL,
	"current_role" pg_catalog.text NOT NULL,	-- a reserved word: quote it
	statement pg_catalog.text,				-- masked
	umid pg_catalog.oid NOT NULL,			-- the mapping's OID at the time
	transaction_id pg_catalog.xid8 NOT NULL,
	-- 'security-restricted operation' (an index expression run by someone
	-- else's ANALYZE, VACUUM, autovacuum...) or 'security definer
	-- function': "current_role" acted inside a command of "session_role"
	context pg_catalog.text
);
ALTER SEQUENCE @extschema@.audit_log_id_seq OWNED BY @extschema@.audit_log.id;
-- No CHECK constraint on action either (1.0 had one): usermap writes rows
-- through the table's constraints, as an INSERT would, and planning that
-- CHECK cost each change more than its audit row; only usermap (and
-- superusers) write the table, and usermap writes those three words.
-- No index at all, not even on id.  The trail is append-only and written
-- by every change to a mapping, and each index would cost every change an
-- index insertion: about 5% of a CREATE, ALTER or DROP, measured.  Ids are
-- unique by construction (only the sequence above numbers rows), and they
-- follow the order in which changes were made, so ORDER BY id is history
-- order.  Add the index your queries need (see the README).

COMMENT ON TABLE @extschema@.audit_log IS
'usermap: every CREATE, ALTER and DROP of a user mapping, secrets masked';

-- pg_dump must dump the data of both tables; the sequence is left out on
-- purpose (see above).
SELECT pg_catalog.pg_extension_config_dump('@extschema@.mapping_meta'::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log'::pg_catalog.regclass, '');

--
-- The one spelling of a mapping's user: 'public' for the public mapping
-- (umuser 0), which no role can be named, else the role's name.
--
CREATE FUNCTION @extschema@.user_name(umuser pg_catalog.oid)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'usermap_user_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

--
-- The one visibility rule: may the current user see the option values of
-- the mapping of "user_name" on "server_name"?  Exactly when
-- pg_user_mappings would show that mapping's umoptions to it.
--
CREATE FUNCTION @extschema@.options_visible(server_name pg_catalog.text,
											user_name pg_catalog.text)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'usermap_options_visible'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

--
-- Re-attach metadata to mappings when rows arrive from anywhere but
-- usermap itself, which in practice means a restore: the restored mappings
-- have new OIDs, and the restore already wrote fresh rows for them.
--
CREATE FUNCTION @extschema@.mapping_meta_reattach()
RETURNS trigger
AS 'MODULE_PATHNAME', 'usermap_mapping_meta_reattach'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

CREATE TRIGGER mapping_meta_reattach
	BEFORE INSERT ON @extschema@.mapping_meta
	FOR EACH ROW EXECUTE FUNCTION @extschema@.mapping_meta_reattach();
-- Always, so that it re-attaches the rows logical replication brings too
-- (apply workers run with session_replication_role = replica): the
-- initial sync of a subscription FOR ALL TABLES is a restore.
ALTER TABLE @extschema@.mapping_meta ENABLE ALWAYS TRIGGER mapping_meta_reattach;

--
-- Option arrays as jsonb, with secret values masked; with reveal = false
-- every value is masked (the option names stay visible).
--
CREATE FUNCTION @extschema@.mask_options(options pg_catalog.text[], reveal pg_catalog.bool)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'usermap_mask_options'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

-- The same for the jsonb the audit trail stores (secrets already masked).
CREATE FUNCTION @extschema@.mask_option_values(options pg_catalog.jsonb, reveal pg_catalog.bool)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'usermap_mask_option_values'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

-- A stored statement; with reveal = false every option value in it is
-- masked, not only the secrets.
CREATE FUNCTION @extschema@.mask_statement(statement pg_catalog.text, reveal pg_catalog.bool)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'usermap_mask_statement'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

-- The names of the secret options present in an option array.
CREATE FUNCTION @extschema@.secret_option_names(options pg_catalog.text[])
RETURNS pg_catalog.text[]
AS 'MODULE_PATHNAME', 'usermap_secret_option_names'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

-- Mask secret option values in SQL text, or, with log_message, in a log
-- message that may quote statements in double quotes.
CREATE FUNCTION @extschema@.redact(query pg_catalog.text, log_message pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'usermap_redact_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

--
-- Which metadata row describes each live mapping: the row its OIDs point
-- at, or failing that the one detached row (one whose OIDs are no live
-- mapping's, as after pg_upgrade, which gives mappings new OIDs) recorded
-- under the mapping's server and user names.  Where more than one
-- detached row holds those names, none is taken ("candidates" counts
-- them): guessing could give the mapping another's history.  Internal:
-- what mappings, drift and verify() read.
--
CREATE VIEW @extschema@.attachment AS
SELECT l.umid, l.umuser, l.umserver, l.server_name, l.user_name, l.umoptions,
	   COALESCE(att.umid,
				CASE WHEN det.candidates OPERATOR(pg_catalog.=) 1 THEN det.umid END) AS meta_umid,
	   (att.umid IS NOT NULL) AS attached,
	   COALESCE(det.candidates, 0) AS candidates
  FROM (SELECT m.oid AS umid, m.umuser, m.umserver,
			   s.srvname::pg_catalog.text AS server_name,
			   @extschema@.user_name(m.umuser) AS user_name,
			   m.umoptions
		  FROM pg_catalog.pg_user_mapping m
		  JOIN pg_catalog.pg_foreign_server s
			ON s.oid OPERATOR(pg_catalog.=) m.umserver) l
  LEFT JOIN @extschema@.mapping_meta att
	ON att.umid OPERATOR(pg_catalog.=) l.umid
   AND att.umuser OPERATOR(pg_catalog.=) l.umuser
   AND att.umserver OPERATOR(pg_catalog.=) l.umserver
  LEFT JOIN LATERAL (
	SELECT pg_catalog.min(d.umid) AS umid, pg_catalog.count(*) AS candidates
	  FROM @extschema@.mapping_meta d
	 WHERE att.umid IS NULL
	   AND d.server_name OPERATOR(pg_catalog.=) l.server_name
	   AND d.user_name OPERATOR(pg_catalog.=) l.user_name
	   AND (d.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
		   OPERATOR(pg_catalog.=) (l.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
					   WHERE m.oid OPERATOR(pg_catalog.=) d.umid
						 AND m.umuser OPERATOR(pg_catalog.=) d.umuser
						 AND m.umserver OPERATOR(pg_catalog.=) d.umserver)) det ON true;

--
-- One row per user mapping.  Options are shown as pg_user_mappings would
-- show them to the reader, with secrets masked; where pg_user_mappings
-- would hide them, every value is masked.
--
CREATE VIEW @extschema@.mappings WITH (security_barrier) AS
SELECT a.server_name,
	   a.user_name,
	   @extschema@.mask_options(a.umoptions,
								@extschema@.options_visible(a.server_name, a.user_name)) AS options,
	   meta.created_at,
	   meta.created_by,
	   meta.modified_at,
	   meta.modified_by,
	   meta.secret_changed_at,
	   meta.created_as,
	   meta.modified_as,
	   @extschema@.secret_option_names(a.umoptions) AS secret_options,
	   a.umid
  FROM @extschema@.attachment a
  LEFT JOIN @extschema@.mapping_meta meta
	ON meta.umid OPERATOR(pg_catalog.=) a.meta_umid;

COMMENT ON VIEW @extschema@.mappings IS
'usermap: every user mapping with its history, secrets masked';

--
-- The audit trail as its readers may see it: option values (in the
-- option columns and in the statement) only where pg_user_mappings would
-- show the mapping's options to the reader, secrets never.
--
-- A row is held against the mapping it describes, never against whoever
-- has its names now: to anyone but a superuser, its values show only
-- while the live mapping of its OID still has its server and user names
-- and has not been dropped since (no DROP row of that OID from then on).
-- A dropped server's name taken by another role, a name freed by a rename,
-- a role re-created under a dropped role's name, an OID given again after
-- a restore: the rows of before show their values to superusers only.
--
CREATE VIEW @extschema@.audit_trail WITH (security_barrier) AS
SELECT a.id, a.logged_at, a.action, a.server_name, a.user_name,
	   @extschema@.mask_option_values(a.old_options, v.visible) AS old_options,
	   @extschema@.mask_option_values(a.new_options, v.visible) AS new_options,
	   a.changed_options, a.session_role, a."current_role",
	   @extschema@.mask_statement(a.statement, v.visible) AS statement,
	   a.umid, a.transaction_id, a.context
  FROM @extschema@.audit_log a
  LEFT JOIN (SELECT d.umid, pg_catalog.max(d.id) AS last_drop
			   FROM @extschema@.audit_log d
			  WHERE d.action OPERATOR(pg_catalog.=) 'DROP'::pg_catalog.text
			  GROUP BY d.umid) dropped
	ON dropped.umid OPERATOR(pg_catalog.=) a.umid
 CROSS JOIN LATERAL (
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
					WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper)
		   OR (EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
						 JOIN pg_catalog.pg_foreign_server s
						   ON s.oid OPERATOR(pg_catalog.=) m.umserver
						WHERE m.oid OPERATOR(pg_catalog.=) a.umid
						  AND s.srvname::pg_catalog.text OPERATOR(pg_catalog.=) a.server_name
						  AND @extschema@.user_name(m.umuser) OPERATOR(pg_catalog.=) a.user_name)
			   AND (dropped.last_drop IS NULL OR dropped.last_drop OPERATOR(pg_catalog.<) a.id)
			   AND @extschema@.options_visible(a.server_name, a.user_name)) AS visible) v;

COMMENT ON VIEW @extschema@.audit_trail IS
'usermap: the audit trail, option values shown as pg_user_mappings would show them';

--
-- Mappings holding a secret that has not changed within "older_than".  A
-- mapping whose secret never changed while usermap was watching has an
-- unknown (NULL) time and is always listed.  The body is parsed when the
-- function is created, so it refers to the view itself, not to a name.
--
CREATE FUNCTION @extschema@.stale_secrets(older_than pg_catalog.interval)
RETURNS TABLE (server_name pg_catalog.text, user_name pg_catalog.text,
			   secret_changed_at pg_catalog.timestamptz, secret_options pg_catalog.text[])
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT m.server_name, m.user_name, m.secret_changed_at, m.secret_options
	  FROM @extschema@.mappings m
	 WHERE pg_catalog.cardinality(m.secret_options) OPERATOR(pg_catalog.>) 0
	   AND (m.secret_changed_at IS NULL
			OR m.secret_changed_at OPERATOR(pg_catalog.<)
			   (pg_catalog.now() OPERATOR(pg_catalog.-) stale_secrets.older_than))
	 ORDER BY m.secret_changed_at NULLS FIRST, m.server_name, m.user_name;
END;

--
-- The objects whose privileges the scripts set, one row each: the
-- extension's members, the columns of its tables and views that carry
-- privileges of their own, and its schema.  "on_clause" is what a GRANT
-- or REVOKE names the object by ("ON TABLE usermap.audit_log", or
-- "(statement) ON TABLE usermap.audit_log" for a column), and "kind" what
-- pg_catalog.acldefault() takes.  Internal: what privilege_drift and the
-- scripts read.
--
CREATE VIEW @extschema@.privilege_objects AS
WITH ext AS (
	SELECT e.oid, e.extnamespace FROM pg_catalog.pg_extension e
	 WHERE e.extname OPERATOR(pg_catalog.=) 'usermap'::pg_catalog.name),
members AS (
	SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
	 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
	   AND d.refobjid OPERATOR(pg_catalog.=) ext.oid
	   AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog."char")
SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS classid, c.oid AS objid,
	   0 AS objsubid,
	   (CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S'::pg_catalog."char" THEN 's' ELSE 'r' END)::pg_catalog."char" AS kind,
	   pg_catalog.format(' ON %s %I.%I',
						 CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S'::pg_catalog."char" THEN 'SEQUENCE' ELSE 'TABLE' END,
						 n.nspname, c.relname) AS on_clause,
	   c.relacl AS acl, c.relowner AS owner
  FROM members m
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.objid
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
UNION ALL
SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, a.attnum::pg_catalog.int4,
	   'c'::pg_catalog."char",
	   pg_catalog.format(' (%I) ON TABLE %I.%I', a.attname, n.nspname, c.relname),
	   a.attacl, c.relowner
  FROM members m
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.objid
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
   AND a.attacl IS NOT NULL
UNION ALL
SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0, 'f'::pg_catalog."char",
	   pg_catalog.format(' ON FUNCTION %I.%I(%s)', n.nspname, p.proname,
						 pg_catalog.pg_get_function_identity_arguments(p.oid)),
	   p.proacl, p.proowner
  FROM members m
  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) m.objid
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
 WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
UNION ALL
SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass, n.oid, 0, 'n'::pg_catalog."char",
	   pg_catalog.format(' ON SCHEMA %I', n.nspname),
	   n.nspacl, n.nspowner
  FROM ext
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) ext.extnamespace;

--
-- Every privilege held on those objects beyond what the extension's
-- scripts granted: the scripts' grants are the objects' initial
-- privileges, which the server keeps in pg_init_privs (and pg_dump
-- compares with too); an object without any has the built-in default.
-- "grant_option_only": the privilege is the script's, its grant option
-- is not.  "grantee_name" as GRANT and REVOKE spell it.
--
CREATE VIEW @extschema@.privilege_drift AS
SELECT o.classid, o.objid, o.objsubid, o.on_clause, a.grantee,
	   CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)::pg_catalog.text) END
		   AS grantee_name,
	   a.privilege_type,
	   EXISTS (SELECT 1 FROM pg_catalog.aclexplode(i.acl) b
				WHERE b.grantee OPERATOR(pg_catalog.=) a.grantee
				  AND b.privilege_type OPERATOR(pg_catalog.=) a.privilege_type) AS grant_option_only
  FROM @extschema@.privilege_objects o
 CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(o.acl, pg_catalog.acldefault(o.kind, o.owner))) a
 CROSS JOIN LATERAL (
	SELECT COALESCE((SELECT ip.initprivs FROM pg_catalog.pg_init_privs ip
					  WHERE ip.objoid OPERATOR(pg_catalog.=) o.objid
						AND ip.classoid OPERATOR(pg_catalog.=) o.classid
						AND ip.objsubid OPERATOR(pg_catalog.=) o.objsubid),
					pg_catalog.acldefault(o.kind, o.owner)) AS acl) i
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(i.acl) b
					WHERE b.grantee OPERATOR(pg_catalog.=) a.grantee
					  AND b.privilege_type OPERATOR(pg_catalog.=) a.privilege_type
					  AND (b.is_grantable OR NOT a.is_grantable));

--
-- Drift between pg_user_mapping and mapping_meta:
--   missing metadata    a mapping no row describes
--   ambiguous metadata  a mapping without a row of its own for which more
--                       than one detached row holds its names: none is
--                       taken for it, and repair leaves them
--   orphaned metadata   a row that describes no live mapping (none has its
--                       OIDs, and none has its names but one that has a
--                       row of its own, as after a data-only restore with
--                       triggers disabled)
-- A mapping described by the one detached row that holds its names (as
-- after pg_upgrade, which gives mappings new OIDs) is no drift: the row
-- is its row, in every view, and its next change (or repair) gives the
-- row the mapping's OIDs.
--   stale names         a row attached by OIDs whose names are outdated
--   unexpected privilege  a grant on the extension's objects beyond its
--                       scripts' (privilege_drift); "detail" is the GRANT
--                       that was added, and repair revokes it
--
CREATE VIEW @extschema@.drift AS
SELECT 'missing metadata'::pg_catalog.text AS problem, a.umid,
	   a.server_name, a.user_name, NULL::pg_catalog.text AS detail
  FROM @extschema@.attachment a
 WHERE a.meta_umid IS NULL AND a.candidates OPERATOR(pg_catalog.=) 0
UNION ALL
SELECT 'ambiguous metadata', a.umid, a.server_name, a.user_name, NULL
  FROM @extschema@.attachment a
 WHERE a.candidates OPERATOR(pg_catalog.>) 1
UNION ALL
SELECT 'orphaned metadata', meta.umid, meta.server_name, meta.user_name, NULL
  FROM @extschema@.mapping_meta meta
 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.attachment a
				   WHERE a.meta_umid OPERATOR(pg_catalog.=) meta.umid
					  OR (a.candidates OPERATOR(pg_catalog.>) 1
						  AND a.server_name OPERATOR(pg_catalog.=) meta.server_name
						  AND a.user_name OPERATOR(pg_catalog.=) meta.user_name))
UNION ALL
SELECT 'stale names', meta.umid, meta.server_name, meta.user_name, NULL
  FROM @extschema@.mapping_meta meta
  JOIN @extschema@.attachment a
	ON a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid
 WHERE meta.server_name OPERATOR(pg_catalog.<>) a.server_name
	OR meta.user_name OPERATOR(pg_catalog.<>) a.user_name
UNION ALL
SELECT 'unexpected privilege', NULL, NULL, NULL,
	   pg_catalog.format('GRANT %s%s TO %s%s',
						 pg_catalog.string_agg(p.privilege_type, ', ' ORDER BY p.privilege_type),
						 p.on_clause, p.grantee_name,
						 CASE WHEN p.grant_option_only THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM @extschema@.privilege_drift p
 GROUP BY p.on_clause, p.grantee_name, p.grant_option_only;

--
-- Report the drift, and with repair => true fix it: give rows attached
-- by names their mappings' OIDs first, then delete only rows no live mapping matches by OIDs or by
-- names, refresh stale names, add empty rows for mappings nothing
-- describes, and revoke every privilege beyond the scripts' grants.
--
-- PL/pgSQL resolves names when it runs, so the function first makes sure
-- that "usermap" is still the extension's schema: after ALTER SCHEMA
-- usermap RENAME, anyone allowed to create a schema could make a new
-- "usermap" full of look-alikes.
--
CREATE FUNCTION @extschema@.verify(repair pg_catalog.bool DEFAULT false)
RETURNS TABLE (problem pg_catalog.text, umid pg_catalog.oid, server_name pg_catalog.text,
			   user_name pg_catalog.text, repaired pg_catalog.bool, detail pg_catalog.text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	schema_name pg_catalog.name;
	extra record;
BEGIN
	SELECT n.nspname INTO schema_name
	  FROM pg_catalog.pg_extension e
	  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
	 WHERE e.extname OPERATOR(pg_catalog.=) 'usermap'::pg_catalog.name;
	IF schema_name IS DISTINCT FROM '@extschema@'::pg_catalog.name THEN
		RAISE EXCEPTION 'the schema of extension "usermap" has been renamed to "%"', schema_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Rename it back with ALTER SCHEMA ' OPERATOR(pg_catalog.||)
						 pg_catalog.quote_ident(schema_name) OPERATOR(pg_catalog.||)
						 ' RENAME TO @extschema@.';
	END IF;

	IF repair THEN
		-- Lock out concurrent recording while the drift is read and repaired.
		LOCK TABLE @extschema@.mapping_meta IN SHARE ROW EXCLUSIVE MODE;
	END IF;

	RETURN QUERY SELECT d.problem, d.umid, d.server_name, d.user_name,
						repair AND d.problem OPERATOR(pg_catalog.<>) 'ambiguous metadata', d.detail
				   FROM @extschema@.drift d
				  ORDER BY d.problem, d.server_name, d.user_name, d.detail;
	IF NOT repair THEN
		RETURN;
	END IF;

	-- Re-attach: the row takes the OIDs and names of the mapping it names.
	UPDATE @extschema@.mapping_meta meta
	   SET umid = a.umid, umuser = a.umuser, umserver = a.umserver,
		   server_name = a.server_name, user_name = a.user_name
	  FROM @extschema@.attachment a
	 WHERE NOT a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid;

	-- Only now, rows that describe nothing (not those a mapping's names
	-- make ambiguous: they are left for a superuser to sort out).
	DELETE FROM @extschema@.mapping_meta meta
	 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.attachment a
					   WHERE a.meta_umid OPERATOR(pg_catalog.=) meta.umid
						  OR (a.candidates OPERATOR(pg_catalog.>) 1
							  AND a.server_name OPERATOR(pg_catalog.=) meta.server_name
							  AND a.user_name OPERATOR(pg_catalog.=) meta.user_name));

	UPDATE @extschema@.mapping_meta meta
	   SET server_name = a.server_name, user_name = a.user_name
	  FROM @extschema@.attachment a
	 WHERE a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid
	   AND (meta.server_name OPERATOR(pg_catalog.<>) a.server_name
			OR meta.user_name OPERATOR(pg_catalog.<>) a.user_name);

	INSERT INTO @extschema@.mapping_meta (umid, umuser, umserver, server_name, user_name)
	SELECT a.umid, a.umuser, a.umserver, a.server_name, a.user_name
	  FROM @extschema@.attachment a
	 WHERE a.meta_umid IS NULL AND a.candidates OPERATOR(pg_catalog.=) 0;

	-- Grants beyond the scripts', with whatever was granted on from them.
	FOR extra IN SELECT p.on_clause, p.grantee_name, p.grant_option_only,
						pg_catalog.string_agg(p.privilege_type, ', ') AS privileges
				   FROM @extschema@.privilege_drift p
				  GROUP BY p.on_clause, p.grantee_name, p.grant_option_only
	LOOP
		EXECUTE pg_catalog.format('REVOKE %s%s%s FROM %s CASCADE',
								  CASE WHEN extra.grant_option_only THEN 'GRANT OPTION FOR ' ELSE '' END,
								  extra.privileges, extra.on_clause, extra.grantee_name);
	END LOOP;
END
$$;

--
-- Record every mapping that already exists.  What happened to it before
-- now is unknown, so its times are NULL.
--
INSERT INTO @extschema@.mapping_meta (umid, umuser, umserver, server_name, user_name)
SELECT a.umid, a.umuser, a.umserver, a.server_name, a.user_name
  FROM @extschema@.attachment a;

--
-- Privileges start from nothing borrowed.  Every object created above
-- received the default privileges of the role running this script
-- (ALTER DEFAULT PRIVILEGES, global or for the schema), and a schema made
-- by a superuser before the extension may carry grants of its own.  Each
-- object's privileges are revoked from every role holding any, and the
-- owner's built-in ones are granted back, before the grants below: the
-- objects end with exactly this script's grants, whatever the defaults,
-- and the server records them as the extension's initial privileges
-- (pg_init_privs), which verify() compares with.
--
DO $$
DECLARE
	obj record;
	holder record;
BEGIN
	FOR obj IN SELECT o.kind, o.on_clause, o.acl, o.owner
				 FROM @extschema@.privilege_objects o
				WHERE o.objsubid OPERATOR(pg_catalog.=) 0
	LOOP
		-- REVOKE ALL on a table revokes its columns' privileges too
		FOR holder IN SELECT DISTINCT a.grantee
						FROM pg_catalog.aclexplode(COALESCE(obj.acl,
															pg_catalog.acldefault(obj.kind, obj.owner))) a
		LOOP
			EXECUTE pg_catalog.format('REVOKE ALL%s FROM %s CASCADE', obj.on_clause,
									  CASE WHEN holder.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
										   THEN 'PUBLIC'
										   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(holder.grantee)::pg_catalog.text)
									  END);
		END LOOP;
		FOR holder IN SELECT a.grantee,
							 pg_catalog.string_agg(a.privilege_type, ', ') AS privileges
						FROM pg_catalog.aclexplode(pg_catalog.acldefault(obj.kind, obj.owner)) a
					   GROUP BY a.grantee
		LOOP
			EXECUTE pg_catalog.format('GRANT %s%s TO %s', holder.privileges, obj.on_clause,
									  CASE WHEN holder.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
										   THEN 'PUBLIC'
										   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(holder.grantee)::pg_catalog.text)
									  END);
		END LOOP;
	END LOOP;
END
$$;

--
-- Privileges: the auditor role reads through the views, nobody else gets
-- anything.  Writes come only from usermap's C code (and verify(repair) by
-- a superuser).  The auditor does not read audit_log itself, which holds
-- option values pg_user_mappings would hide from it; audit_trail applies
-- the rule.
--
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.stale_secrets(pg_catalog.interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.verify(pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mask_options(pg_catalog.text[], pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mask_option_values(pg_catalog.jsonb, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mask_statement(pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.secret_option_names(pg_catalog.text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.user_name(pg_catalog.oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.options_visible(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mapping_meta_reattach() FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO usermap_auditor;
GRANT SELECT ON @extschema@.mappings, @extschema@.audit_trail,
	@extschema@.mapping_meta, @extschema@.drift TO usermap_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.stale_secrets(pg_catalog.interval),
	@extschema@.verify(pg_catalog.bool),
	@extschema@.mask_options(pg_catalog.text[], pg_catalog.bool),
	@extschema@.mask_option_values(pg_catalog.jsonb, pg_catalog.bool),
	@extschema@.mask_statement(pg_catalog.text, pg_catalog.bool),
	@extschema@.secret_option_names(pg_catalog.text[]),
	@extschema@.user_name(pg_catalog.oid),
	@extschema@.options_visible(pg_catalog.text, pg_catalog.text) TO usermap_auditor;
