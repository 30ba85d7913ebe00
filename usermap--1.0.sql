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
