-- One full life cycle of a user mapping, one transaction per statement.
-- :client_id gives each pgbench client its own role (bench_u0, bench_u1, ...)
-- so that concurrent clients never work on the same mapping and the run
-- measures execution cost, not waiting on usermap's per-mapping lock.
-- Every statement carries options, so postgres_fdw's validator runs each time.
CREATE USER MAPPING FOR bench_u:client_id SERVER bench_srv OPTIONS (user 'u', password 'p');
ALTER USER MAPPING FOR bench_u:client_id SERVER bench_srv OPTIONS (ADD sslpassword 'x');
ALTER USER MAPPING FOR bench_u:client_id SERVER bench_srv OPTIONS (SET password 'q', DROP sslpassword);
DROP USER MAPPING FOR bench_u:client_id SERVER bench_srv;
