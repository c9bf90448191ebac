// Package bench measures vscard under load, on loopback only: card-status look-ups by a
// portal (against a minimal net/http baseline doing the same SQL), complete enrolments
// through the API, certificates signed by the CA, and live subscriptions.
//
// The benchmarks are Go benchmarks so that every run is bounded by -benchtime; each runs
// on SQLite and, when VSCARD_TEST_POSTGRES is set, on PostgreSQL. The load generator runs
// in the same process as the server, except the enrolment client (portal and bridge) and
// the subscribers, which run in child processes so that the server's CPU and memory can be
// measured alone. All of it shares the machine's CPUs, so figures are for the whole system
// on that machine.
//
//	make bench   # see BENCHMARKS.md for the commands and the figures
package bench
