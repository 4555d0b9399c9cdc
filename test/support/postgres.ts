/**
 * The PostgreSQL server of this test run: KALPHITE_TEST_POSTGRES_URL as set by the global setup
 * (test/support/postgres-setup.ts), which also starts one when none answers.
 */
export const POSTGRES_URL =
  process.env.KALPHITE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
