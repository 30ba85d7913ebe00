/* usermap_test--1.0.sql: user-mapping DDL inside CREATE EXTENSION */

\echo Use "CREATE EXTENSION usermap_test" to load this file. \quit

CREATE SERVER usermap_test_srv FOREIGN DATA WRAPPER usermap_test_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER usermap_test_srv OPTIONS (a '1');
ALTER USER MAPPING FOR PUBLIC SERVER usermap_test_srv OPTIONS (ADD b '2');
DROP USER MAPPING FOR PUBLIC SERVER usermap_test_srv;
CREATE USER MAPPING FOR PUBLIC SERVER usermap_test_srv OPTIONS (c '3');
