# Makefile for usermap (PGXS)
#
# The extension version lives in usermap.control only; everything else
# (the install script name, the USERMAP_VERSION macro) is derived from it.

EXTENSION = usermap
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))usermap.control)

MODULE_big = usermap
OBJS = \
	src/usermap.o \
	src/execute.o \
	src/ddl.o \
	src/options.o \
	src/privileges.o \
	src/locking.o \
	src/secrets.o \
	src/redact_lexer.o \
	src/redact.o \
	src/redact_message.o \
	src/redact_cache.o \
	src/hygiene.o \
	src/hygiene_log.o \
	src/masking.o \
	src/catalog.o \
	src/catalog_tables.o \
	src/catalog_writer.o \
	src/reattach.o \
	src/renames.o

# Every version's install script and every update script: CREATE EXTENSION
# usermap VERSION '1.0' followed by ALTER EXTENSION usermap UPDATE must
# keep working (t/008_update.pl).
DATA = usermap--1.0.sql usermap--1.0--1.1.sql usermap--1.1.sql \
	usermap--1.1--1.2.sql usermap--$(EXTVERSION).sql
PGFILEDESC = "usermap - user mapping DDL handled by an extension"

PG_CPPFLAGS = -I$(srcdir)/include -DUSERMAP_VERSION='"$(EXTVERSION)"'
# The project builds warning-free under -Wall -Wextra; -Werror keeps it so.
# -Wextra's unused-parameter is noise from PostgreSQL itself: fmgr's
# PG_FUNCTION_ARGS, hook signatures and inline functions in server headers.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

# pg_regress suites.  "make installcheck" runs them, the isolation specs
# and the TAP tests against the installed server: pg_regress and
# pg_isolation_regress start a temporary instance of it that preloads
# usermap (test/usermap.conf), as contrib modules that need
# shared_preload_libraries do.  The test helper test/usermap_test must be
# installed too; scripts/test-version installs it.
#
# The core_* suites describe behaviour the server's own code has too, so
# they also run with usermap.enabled = off against the very same expected
# files (installcheck-as-core): that is what proves the expected output is
# core's.  The usermap_* suites cover what only usermap has.
REGRESS_CORE = core_create core_alter core_drop core_privileges \
	core_dependencies core_object_access core_event_triggers core_readonly \
	core_postgres_fdw core_versions core_subscriptions
REGRESS = $(REGRESS_CORE) usermap_guc usermap_redact usermap_lexer catalog \
	catalog_attacks catalog_identity \
	catalog_privileges catalog_extension catalog_borrowed catalog_flood \
	catalog_oracle catalog_restricted catalog_recreated
TEMP_INSTANCE = --temp-instance=./tmp_check_instance \
	--temp-config=$(srcdir)/test/usermap.conf
REGRESS_OPTS = --inputdir=$(srcdir) --load-extension=postgres_fdw \
	$(TEMP_INSTANCE)

# Isolation specs: each race through usermap, and its *_core companion
# recording what the server's own code does in the same race.
ISOLATION = alter_alter create_create alter_drop drop_drop create_drop \
	recheck_privileges create_skip rename_alter rename_rename \
	alter_drop_server drop_owned different_mappings catalog_cache \
	alter_alter_core create_create_core alter_drop_core drop_drop_core \
	create_drop_core alter_drop_server_core drop_owned_core \
	recheck_privileges_core create_skip_core
ISOLATION_OPTS = --load-extension=postgres_fdw $(TEMP_INSTANCE)

TAP_TESTS = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# One target per suite, so that scripts/test-version can run each and
# report it; "make installcheck" (PGXS) runs the first three in a row.
installcheck-regress: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation: submake
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

installcheck-tap:
	$(prove_installcheck)

# Run the core_* suites through the server's own code.  PGOPTIONS is
# exported rather than given as a prefix: from 15 on, PGXS's
# pg_regress_installcheck starts with an "echo ... &&", and a prefix
# assignment would reach only that echo, not pg_regress.
installcheck-as-core: submake $(REGRESS_PREP)
	export PGOPTIONS="$$PGOPTIONS -c usermap.enabled=off"; \
	$(pg_regress_installcheck) --outputdir=output_core $(REGRESS_OPTS) $(REGRESS_CORE)

# The regression suites against a server that is already running (PGHOST,
# PGPORT), as scripts/valgrind-check needs: it runs the server itself.
installcheck-running: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) --inputdir=$(srcdir) --dbname=$(CONTRIB_TESTDB) \
		--load-extension=postgres_fdw $(REGRESS)

.PHONY: installcheck-regress installcheck-isolation installcheck-tap \
	installcheck-as-core installcheck-running
