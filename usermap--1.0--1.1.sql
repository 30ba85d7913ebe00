/* usermap--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION usermap UPDATE TO '1.1'" to load this file. \quit

--
-- 1.1: nothing the extension runs resolves to an object someone else
-- planted; the public mapping is spelt 'public', as pg_user_mappings
-- spells it; metadata is matched to mappings by names after a restore or
-- pg_upgrade; auditors read the audit trail through audit_trail, under
-- the visibility rule of pg_user_mappings.  The objects left at the end
-- are exactly those usermap--1.1.sql creates (t/008_update.pl compares
-- the two).
--
-- First, the schema must be one usermap can trust, as at installation.
--
CREATE FUNCTION @extschema@.require_preload()
RETURNS void
AS 'MODULE_PATHNAME', 'usermap_require_preload'
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp;
SELECT @extschema@.require_preload();
DROP FUNCTION @extschema@.require_preload();

-- Views and functions are replaced, not altered: 1.0's were created with
-- unqualified operators and without a pinned search_path.
DROP VIEW @extschema@.drift;
DROP VIEW @extschema@.mappings;
DROP FUNCTION @extschema@.stale_secrets(interval);
DROP FUNCTION @extschema@.verify(boolean);

-- 1.0's CHECK on action resolved "=" by name when it was created, and
-- now that rows go through the table's constraints, evaluating it would
-- cost each change more than its audit row: 1.1 has none (see
-- usermap--1.1.sql).
ALTER TABLE @extschema@.audit_log DROP CONSTRAINT audit_log_action_check;

ALTER FUNCTION @extschema@.library_version() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.mapping_meta_reattach() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.mask_options(text[], boolean) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.secret_option_names(text[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.redact(text, boolean) SET search_path = pg_catalog, pg_temp;

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

--
-- Which metadata row describes each live mapping: the row its OIDs point
-- at, or failing that a detached row (one whose OIDs are no live
-- mapping's, as after pg_upgrade, which gives mappings new OIDs) recorded
-- under the mapping's server and user names.  Internal: what mappings,
-- drift and verify() read.
--
CREATE VIEW @extschema@.attachment AS
SELECT l.umid, l.umuser, l.umserver, l.server_name, l.user_name, l.umoptions,
	   COALESCE(att.umid, det.umid) AS meta_umid,
	   (att.umid IS NOT NULL) AS attached
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
	SELECT d.umid FROM @extschema@.mapping_meta d
	 WHERE att.umid IS NULL
	   AND d.server_name OPERATOR(pg_catalog.=) l.server_name
	   AND d.user_name OPERATOR(pg_catalog.=) l.user_name
	   AND (d.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
		   OPERATOR(pg_catalog.=) (l.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
					   WHERE m.oid OPERATOR(pg_catalog.=) d.umid
						 AND m.umuser OPERATOR(pg_catalog.=) d.umuser
						 AND m.umserver OPERATOR(pg_catalog.=) d.umserver)
	 ORDER BY d.modified_at DESC NULLS LAST, d.umid
	 LIMIT 1) det ON true;

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
CREATE VIEW @extschema@.audit_trail WITH (security_barrier) AS
SELECT a.id, a.logged_at, a.action, a.server_name, a.user_name,
	   @extschema@.mask_option_values(a.old_options, v.visible) AS old_options,
	   @extschema@.mask_option_values(a.new_options, v.visible) AS new_options,
	   a.changed_options, a.session_role, a."current_role",
	   @extschema@.mask_statement(a.statement, v.visible) AS statement,
	   a.umid, a.transaction_id
  FROM @extschema@.audit_log a
 CROSS JOIN LATERAL (SELECT @extschema@.options_visible(a.server_name, a.user_name) AS visible) v;

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
-- Drift between pg_user_mapping and mapping_meta:
--   missing metadata    a mapping no row describes
--   detached metadata   a mapping described only by a row recorded under
--                       its names but other OIDs (pg_upgrade); repair
--                       re-attaches the row
--   orphaned metadata   a row that describes no live mapping (none has its
--                       OIDs, and none has its names but one that has a
--                       row of its own, as after a data-only restore with
--                       triggers disabled)
--   stale names         a row attached by OIDs whose names are outdated
--
CREATE VIEW @extschema@.drift AS
SELECT 'missing metadata'::pg_catalog.text AS problem, a.umid,
	   a.server_name, a.user_name
  FROM @extschema@.attachment a
 WHERE a.meta_umid IS NULL
UNION ALL
SELECT 'detached metadata', a.umid, a.server_name, a.user_name
  FROM @extschema@.attachment a
 WHERE NOT a.attached AND a.meta_umid IS NOT NULL
UNION ALL
SELECT 'orphaned metadata', meta.umid, meta.server_name, meta.user_name
  FROM @extschema@.mapping_meta meta
 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.attachment a
				   WHERE a.meta_umid OPERATOR(pg_catalog.=) meta.umid)
UNION ALL
SELECT 'stale names', meta.umid, meta.server_name, meta.user_name
  FROM @extschema@.mapping_meta meta
  JOIN @extschema@.attachment a
	ON a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid
 WHERE meta.server_name OPERATOR(pg_catalog.<>) a.server_name
	OR meta.user_name OPERATOR(pg_catalog.<>) a.user_name;

--
-- Report the drift, and with repair => true fix it: re-attach detached
-- rows first, then delete only rows no live mapping matches by OIDs or by
-- names, refresh stale names, and add empty rows for mappings nothing
-- describes.
--
-- PL/pgSQL resolves names when it runs, so the function first makes sure
-- that "usermap" is still the extension's schema: after ALTER SCHEMA
-- usermap RENAME, anyone allowed to create a schema could make a new
-- "usermap" full of look-alikes.
--
CREATE FUNCTION @extschema@.verify(repair pg_catalog.bool DEFAULT false)
RETURNS TABLE (problem pg_catalog.text, umid pg_catalog.oid, server_name pg_catalog.text,
			   user_name pg_catalog.text, repaired pg_catalog.bool)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	schema_name pg_catalog.name;
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

	RETURN QUERY SELECT d.problem, d.umid, d.server_name, d.user_name, repair
				   FROM @extschema@.drift d
				  ORDER BY d.problem, d.server_name, d.user_name;
	IF NOT repair THEN
		RETURN;
	END IF;

	-- Re-attach: the row takes the OIDs and names of the mapping it names.
	UPDATE @extschema@.mapping_meta meta
	   SET umid = a.umid, umuser = a.umuser, umserver = a.umserver,
		   server_name = a.server_name, user_name = a.user_name
	  FROM @extschema@.attachment a
	 WHERE NOT a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid;

	-- Only now, rows that describe nothing.
	DELETE FROM @extschema@.mapping_meta meta
	 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.attachment a
					   WHERE a.meta_umid OPERATOR(pg_catalog.=) meta.umid);

	UPDATE @extschema@.mapping_meta meta
	   SET server_name = a.server_name, user_name = a.user_name
	  FROM @extschema@.attachment a
	 WHERE a.attached AND a.meta_umid OPERATOR(pg_catalog.=) meta.umid
	   AND (meta.server_name OPERATOR(pg_catalog.<>) a.server_name
			OR meta.user_name OPERATOR(pg_catalog.<>) a.user_name);

	INSERT INTO @extschema@.mapping_meta (umid, umuser, umserver, server_name, user_name)
	SELECT a.umid, a.umuser, a.umserver, a.server_name, a.user_name
	  FROM @extschema@.attachment a
	 WHERE a.meta_umid IS NULL;
END
$$;

--
-- Re-key 1.0's history: 1.0 wrote the public mapping as 'PUBLIC', which a
-- role may also be called.  In mapping_meta, umuser tells them apart.  In
-- audit_log, a row is a role's if its umid is a role's mapping, now or in
-- mapping_meta; the rest are the public mapping's, unless a role named
-- PUBLIC exists, in which case rows of mappings dropped before the update
-- cannot be told apart: they are left as they are, and counted.
--
UPDATE @extschema@.mapping_meta
   SET user_name = @extschema@.user_name(0::pg_catalog.oid)
 WHERE umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid;

DO $$
DECLARE
	ambiguous pg_catalog.int8;
	role_exists pg_catalog.bool;
BEGIN
	role_exists := EXISTS (SELECT 1 FROM pg_catalog.pg_roles
						   WHERE rolname OPERATOR(pg_catalog.=) 'PUBLIC'::pg_catalog.name);

	UPDATE @extschema@.audit_log a
	   SET user_name = @extschema@.user_name(0::pg_catalog.oid)
	 WHERE a.user_name OPERATOR(pg_catalog.=) 'PUBLIC'::pg_catalog.text
	   AND (EXISTS (SELECT 1 FROM @extschema@.mapping_meta mm
					 WHERE mm.umid OPERATOR(pg_catalog.=) a.umid
					   AND mm.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
			OR EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
						WHERE m.oid OPERATOR(pg_catalog.=) a.umid
						  AND m.umuser OPERATOR(pg_catalog.=) 0::pg_catalog.oid)
			OR (NOT role_exists
				AND NOT EXISTS (SELECT 1 FROM @extschema@.mapping_meta mm
								 WHERE mm.umid OPERATOR(pg_catalog.=) a.umid)
				AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
								 WHERE m.oid OPERATOR(pg_catalog.=) a.umid)));

	SELECT pg_catalog.count(*) INTO ambiguous
	  FROM @extschema@.audit_log a
	 WHERE a.user_name OPERATOR(pg_catalog.=) 'PUBLIC'::pg_catalog.text
	   AND NOT EXISTS (SELECT 1 FROM @extschema@.mapping_meta mm
						WHERE mm.umid OPERATOR(pg_catalog.=) a.umid)
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
						WHERE m.oid OPERATOR(pg_catalog.=) a.umid);
	IF ambiguous OPERATOR(pg_catalog.>) 0 THEN
		RAISE WARNING 'usermap: % audit rows of dropped mappings name "PUBLIC" and were left as they are', ambiguous
			USING DETAIL = 'usermap 1.0 wrote the public mapping as PUBLIC, and a role named "PUBLIC" exists.',
				  HINT = 'The public mapping is now written as public; check those rows by hand.';
	END IF;
END
$$;

--
-- Auditors read the trail through audit_trail from now on.
--
REVOKE SELECT ON @extschema@.audit_log FROM usermap_auditor;
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
