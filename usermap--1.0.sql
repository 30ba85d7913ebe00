/* usermap--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION usermap" to load this file. \quit

-- Refuse to install where the DDL layer is not running.
CREATE FUNCTION @extschema@.require_preload()
RETURNS void
AS 'MODULE_PATHNAME', 'usermap_require_preload'
LANGUAGE C STRICT;
SELECT @extschema@.require_preload();
DROP FUNCTION @extschema@.require_preload();

CREATE FUNCTION @extschema@.library_version()
RETURNS text
AS 'MODULE_PATHNAME', 'usermap_library_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

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
				   WHERE rolname = 'usermap_auditor') THEN
		CREATE ROLE usermap_auditor NOLOGIN;
	END IF;
END
$$;

--
-- One row per live user mapping, keyed by the mapping's OID.  usermap's C
-- code writes it directly, in the transaction that changes the mapping;
-- nothing else should.
--
CREATE TABLE @extschema@.mapping_meta (
	umid oid PRIMARY KEY,			-- pg_user_mapping.oid
	umuser oid NOT NULL,			-- pg_user_mapping.umuser, 0 for PUBLIC
	umserver oid NOT NULL,			-- pg_user_mapping.umserver
	server_name text NOT NULL,		-- names as of the last change, used to
	user_name text NOT NULL,		-- re-attach rows after a restore
	created_at timestamptz,			-- NULL: before usermap recorded it
	created_by text,				-- session role
	created_as text,				-- current role
	modified_at timestamptz,
	modified_by text,
	modified_as text,
	secret_changed_at timestamptz	-- last add/change/drop of a secret
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
SELECT pg_catalog.setval('@extschema@.audit_log_id_seq',
						 (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000000)::bigint);

CREATE TABLE @extschema@.audit_log (
	id bigint NOT NULL
		DEFAULT pg_catalog.nextval('@extschema@.audit_log_id_seq'),
	logged_at timestamptz NOT NULL,
	action text NOT NULL CHECK (action IN ('CREATE', 'ALTER', 'DROP')),
	server_name text NOT NULL,
	user_name text NOT NULL,		-- 'PUBLIC' for the public mapping
	old_options jsonb,
	new_options jsonb,
	changed_options text[],
	session_role text NOT NULL,
	"current_role" text NOT NULL,	-- a reserved word: quote it
	statement text,					-- masked
	umid oid NOT NULL,				-- the mapping's OID at the time
	transaction_id xid8 NOT NULL
);
ALTER SEQUENCE @extschema@.audit_log_id_seq OWNED BY @extschema@.audit_log.id;
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
SELECT pg_catalog.pg_extension_config_dump('@extschema@.mapping_meta', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');

--
-- Re-attach metadata to mappings when rows arrive from anywhere but
-- usermap itself, which in practice means a restore: the restored mappings
-- have new OIDs, and the restore already wrote fresh rows for them.
--
CREATE FUNCTION @extschema@.mapping_meta_reattach()
RETURNS trigger
AS 'MODULE_PATHNAME', 'usermap_mapping_meta_reattach'
LANGUAGE C;

CREATE TRIGGER mapping_meta_reattach
	BEFORE INSERT ON @extschema@.mapping_meta
	FOR EACH ROW EXECUTE FUNCTION @extschema@.mapping_meta_reattach();

--
-- Option arrays as jsonb, with secret values masked; with reveal = false
-- every value is masked (the option names stay visible).
--
CREATE FUNCTION @extschema@.mask_options(options text[], reveal boolean)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'usermap_mask_options'
LANGUAGE C STABLE PARALLEL SAFE;

-- The names of the secret options present in an option array.
CREATE FUNCTION @extschema@.secret_option_names(options text[])
RETURNS text[]
AS 'MODULE_PATHNAME', 'usermap_secret_option_names'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Mask secret option values in SQL text, or, with log_message, in a log
-- message that may quote statements in double quotes.
CREATE FUNCTION @extschema@.redact(query text, log_message boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'usermap_redact_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

--
-- One row per user mapping.  Options are shown as pg_user_mappings would
-- show them to the reader, with secrets masked; where pg_user_mappings
-- would hide them, every value is masked.
--
CREATE VIEW @extschema@.mappings WITH (security_barrier) AS
SELECT s.srvname::text AS server_name,
	   CASE WHEN m.umuser = 0 THEN 'PUBLIC'
			ELSE a.rolname::text END AS user_name,
	   @extschema@.mask_options(
		   m.umoptions,
		   (m.umuser <> 0 AND a.rolname = current_user
			AND (pg_catalog.pg_has_role(s.srvowner, 'USAGE')
				 OR pg_catalog.has_server_privilege(s.oid, 'USAGE')))
		   OR (m.umuser = 0 AND pg_catalog.pg_has_role(s.srvowner, 'USAGE'))
		   OR (SELECT rolsuper FROM pg_catalog.pg_authid
			   WHERE rolname = current_user)) AS options,
	   meta.created_at,
	   meta.created_by,
	   meta.modified_at,
	   meta.modified_by,
	   meta.secret_changed_at,
	   meta.created_as,
	   meta.modified_as,
	   @extschema@.secret_option_names(m.umoptions) AS secret_options,
	   m.oid AS umid
  FROM pg_catalog.pg_user_mapping m
  JOIN pg_catalog.pg_foreign_server s ON s.oid = m.umserver
  LEFT JOIN pg_catalog.pg_authid a ON a.oid = m.umuser
  LEFT JOIN @extschema@.mapping_meta meta
	ON meta.umid = m.oid AND meta.umuser = m.umuser
	   AND meta.umserver = m.umserver;

COMMENT ON VIEW @extschema@.mappings IS
'usermap: every user mapping with its history, secrets masked';

--
-- Mappings holding a secret that has not changed within "older_than".  A
-- mapping whose secret never changed while usermap was watching has an
-- unknown (NULL) time and is always listed.
--
CREATE FUNCTION @extschema@.stale_secrets(older_than interval)
RETURNS TABLE (server_name text, user_name text,
			   secret_changed_at timestamptz, secret_options text[])
LANGUAGE sql STABLE STRICT
AS $$
	SELECT m.server_name, m.user_name, m.secret_changed_at, m.secret_options
	  FROM @extschema@.mappings m
	 WHERE pg_catalog.cardinality(m.secret_options) > 0
	   AND (m.secret_changed_at IS NULL
			OR m.secret_changed_at < pg_catalog.now() - older_than)
	 ORDER BY m.secret_changed_at NULLS FIRST, 1, 2
$$;

--
-- Drift between pg_user_mapping and mapping_meta, and its repair.
--
CREATE VIEW @extschema@.drift AS
SELECT 'missing metadata'::text AS problem, m.oid AS umid,
	   s.srvname::text AS server_name,
	   CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE a.rolname::text END AS user_name
  FROM pg_catalog.pg_user_mapping m
  JOIN pg_catalog.pg_foreign_server s ON s.oid = m.umserver
  LEFT JOIN pg_catalog.pg_authid a ON a.oid = m.umuser
 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.mapping_meta meta
				   WHERE meta.umid = m.oid AND meta.umuser = m.umuser
					 AND meta.umserver = m.umserver)
UNION ALL
SELECT 'orphaned metadata', meta.umid, meta.server_name, meta.user_name
  FROM @extschema@.mapping_meta meta
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m
				   WHERE m.oid = meta.umid AND m.umuser = meta.umuser
					 AND m.umserver = meta.umserver)
UNION ALL
SELECT 'stale names', meta.umid, meta.server_name, meta.user_name
  FROM @extschema@.mapping_meta meta
  JOIN pg_catalog.pg_user_mapping m
	ON m.oid = meta.umid AND m.umuser = meta.umuser
	   AND m.umserver = meta.umserver
  JOIN pg_catalog.pg_foreign_server s ON s.oid = m.umserver
  LEFT JOIN pg_catalog.pg_authid a ON a.oid = m.umuser
 WHERE meta.server_name IS DISTINCT FROM s.srvname::text
	OR meta.user_name IS DISTINCT FROM
	   CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE a.rolname::text END;

CREATE FUNCTION @extschema@.verify(repair boolean DEFAULT false)
RETURNS TABLE (problem text, umid oid, server_name text, user_name text,
			   repaired boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	IF NOT repair THEN
		RETURN QUERY SELECT d.problem, d.umid, d.server_name, d.user_name, false
					   FROM @extschema@.drift d ORDER BY 1, 3, 4;
		RETURN;
	END IF;

	-- Lock out concurrent recording while the drift is read and repaired.
	LOCK TABLE @extschema@.mapping_meta IN SHARE ROW EXCLUSIVE MODE;

	RETURN QUERY
	WITH d AS (SELECT * FROM @extschema@.drift),
	gone AS (
		DELETE FROM @extschema@.mapping_meta meta
		 USING d
		 WHERE d.problem = 'orphaned metadata' AND meta.umid = d.umid
		   AND NOT EXISTS (SELECT 1 FROM pg_user_mapping m
						   WHERE m.oid = meta.umid AND m.umuser = meta.umuser
							 AND m.umserver = meta.umserver)),
	renamed AS (
		UPDATE @extschema@.mapping_meta meta
		   SET server_name = s.srvname,
			   user_name = CASE WHEN m.umuser = 0 THEN 'PUBLIC'
								ELSE a.rolname::text END
		  FROM d, pg_user_mapping m
		  JOIN pg_foreign_server s ON s.oid = m.umserver
		  LEFT JOIN pg_authid a ON a.oid = m.umuser
		 WHERE d.problem = 'stale names' AND meta.umid = d.umid
		   AND m.oid = meta.umid),
	added AS (
		INSERT INTO @extschema@.mapping_meta
			(umid, umuser, umserver, server_name, user_name)
		SELECT m.oid, m.umuser, m.umserver, d.server_name, d.user_name
		  FROM d JOIN pg_user_mapping m ON m.oid = d.umid
		 WHERE d.problem = 'missing metadata'
		ON CONFLICT (umid) DO UPDATE
		   SET umuser = EXCLUDED.umuser, umserver = EXCLUDED.umserver,
			   server_name = EXCLUDED.server_name,
			   user_name = EXCLUDED.user_name,
			   created_at = NULL, created_by = NULL, created_as = NULL,
			   modified_at = NULL, modified_by = NULL, modified_as = NULL,
			   secret_changed_at = NULL)
	SELECT d.problem, d.umid, d.server_name, d.user_name, true
	  FROM d ORDER BY 1, 3, 4;
END
$$;

--
-- Record every mapping that already exists.  What happened to it before
-- now is unknown, so its times are NULL.
--
INSERT INTO @extschema@.mapping_meta (umid, umuser, umserver, server_name, user_name)
SELECT m.oid, m.umuser, m.umserver, s.srvname,
	   CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE a.rolname::text END
  FROM pg_catalog.pg_user_mapping m
  JOIN pg_catalog.pg_foreign_server s ON s.oid = m.umserver
  LEFT JOIN pg_catalog.pg_authid a ON a.oid = m.umuser;

--
-- Privileges: the auditor role reads, nobody else gets anything.  Writes
-- come only from usermap's C code (and verify(repair) by a superuser).
--
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.stale_secrets(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.verify(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mask_options(text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.secret_option_names(text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.mapping_meta_reattach() FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO usermap_auditor;
GRANT SELECT ON @extschema@.mappings, @extschema@.audit_log,
	@extschema@.mapping_meta, @extschema@.drift TO usermap_auditor;
GRANT EXECUTE ON FUNCTION @extschema@.stale_secrets(interval),
	@extschema@.verify(boolean), @extschema@.mask_options(text[], boolean),
	@extschema@.secret_option_names(text[]) TO usermap_auditor;
