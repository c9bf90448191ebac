// Package bench measures vscard under load, on loopback only: card-status look-ups by a
// portal (against a minimal net/http baseline doing the same SQL), complete enrolments
// through the API, certificates signed by the CA, and live subscriptions.
//
// The benchmarks are Go benchmarks so that every run is bounded by -benchtime; each runs
// on SQLite and, when VSCARD_TEST_POSTGRES is set, on PostgreSQL. The load generator runs
// in the same process as the server (except the subscribers, which run in a child process
// so the server's memory can be measured alone), so on a small machine it competes with
// the server for the CPU; figures are for the whole system on that machine.
//
//	make bench   # see BENCHMARKS.md for the commands and the figures
package bench
