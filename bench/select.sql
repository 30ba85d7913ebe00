-- pgbench's select-only script: a statement that is not user-mapping DDL.
-- Under log_statement = all every one becomes a LOG line, which the log
-- hook checks before it is written: this measures that check.
\set aid random(1, 100000)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
