// Package redistest gives tests a real Redis: Start returns the URL of a redis-server and a
// key prefix private to the test; StartProcess returns a handle on a redis-server process of
// the test's own, which it can stop, kill and restart (persistence and failover tests).
//
// When SPORTELLO_TEST_REDIS_URL is set, Start uses that server and isolates tests by prefix.
// Otherwise it runs redis-server from PATH on a free port of 127.0.0.1, with persistence off,
// and kills it when the test ends (the whole process group; on Linux the process also dies
// with the test binary). If redis-server is missing the test is skipped with the install
// command, except in CI (CI=true) or with SPORTELLO_REQUIRE_REDIS=1, where it fails: a run
// that silently skips Redis is a failure.
//
// The Store needs Redis 6.2 or later (GETDEL).
package redistest
