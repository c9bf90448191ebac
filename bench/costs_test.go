package bench

import (
	"cmp"
	"context"
	stdsql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vscard/vscard/server/store"
)

// costs measures what the machine spends on a benchmark's operations, which on a
// saturated machine decides throughput and moves less with the host's noise than
// throughput does: this process's CPU (server and client), and for PostgreSQL its
// processes' CPU and the statements it ran.
type costs struct {
	db       *store.DB
	cpu      time.Duration
	pgCPU    map[int]time.Duration // by process id, at the start
	pgCalls  int64                 // statements so far, from pg_stat_statements
	pgByText map[string]int64      // the same, by statement text
	pgTicked bool                  // the server's processes are readable here
}

// startCosts notes the counters before the measured part.
func startCosts(b *testing.B, db *store.DB) *costs {
	b.Helper()
	c := &costs{db: db, cpu: processCPU(b)}
	if db.Dialect == "postgres" {
		// Counting statements needs the extension in this database (a benchmark's own);
		// without the library loaded it is simply not counted.
		_, _ = db.SQL.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
		c.pgCPU, c.pgTicked = postgresCPU(db.SQL)
		c.pgCalls = statements(db.SQL)
		c.pgByText = statementsByText(db.SQL)
	}
	return c
}

// report gives the costs since startCosts per operation, for n operations.
func (c *costs) report(b *testing.B, n int, unit string) {
	b.Helper()
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	b.ReportMetric(per(processCPU(b)-c.cpu), "go-cpu-ms/"+unit)
	if c.db.Dialect != "postgres" {
		return
	}
	if now, ok := postgresCPU(c.db.SQL); ok && c.pgTicked {
		var spent time.Duration
		for pid, t := range now {
			spent += t - c.pgCPU[pid] // a process started since counts whole
		}
		b.ReportMetric(per(spent), "pg-cpu-ms/"+unit)
	}
	if calls := statements(c.db.SQL); calls >= 0 && c.pgCalls >= 0 {
		b.ReportMetric(float64(calls-c.pgCalls)/float64(n), "statements/"+unit)
	}
	if dir := os.Getenv("VSCARD_BENCH_PROFILES"); dir != "" && c.pgByText != nil {
		c.writeStatements(b, filepath.Join(dir, profileName(b)+".statements.txt"), n, unit)
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used by each process of the PostgreSQL server behind db
// (backends and background processes, as pg_stat_activity lists them), read from /proc:
// it works only when that server runs on this machine. A process that ended before the
// end of a measurement is missed, which the benchmarks' pooled connections make rare.
func postgresCPU(db *stdsql.DB) (map[int]time.Duration, bool) {
	rows, err := db.QueryContext(context.Background(), `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil, false
		}
		t, ok := procCPU(pid)
		if !ok {
			return nil, false // not on this machine, or not readable
		}
		out[pid] = t
	}
	return out, rows.Err() == nil
}

// procCPU reads utime + stime of a process from /proc/<pid>/stat, in clock ticks of 10 ms
// (Linux's USER_HZ is 100 on every architecture Go supports).
func procCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces: the fields after it start past the last ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// statements is how many statements the server has run for db's database, from the
// pg_stat_statements extension, or -1 without it (scripts/test-postgres.sh loads it).
func statements(db *stdsql.DB) int64 {
	var n int64
	err := db.QueryRowContext(context.Background(), `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}

// statementsByText is statements' count split by statement text (pg_stat_statements
// normalises constants to $n, so one text is one kind of statement), or nil without
// the extension.
func statementsByText(db *stdsql.DB) map[string]int64 {
	rows, err := db.QueryContext(context.Background(), `SELECT query, sum(calls)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY query`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var q string
		var n int64
		if rows.Scan(&q, &n) != nil {
			return nil
		}
		out[q] = n
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// writeStatements writes which statements the measured part ran, per operation, most
// frequent first: where an operation's round trips to PostgreSQL go.
func (c *costs) writeStatements(b *testing.B, path string, n int, unit string) {
	b.Helper()
	now := statementsByText(c.db.SQL)
	type row struct {
		text  string
		calls int64
	}
	var rows []row
	var total int64
	for q, calls := range now {
		if d := calls - c.pgByText[q]; d > 0 {
			rows = append(rows, row{q, d})
			total += d
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(b.calls, a.calls), strings.Compare(a.text, b.text)) })
	var out strings.Builder
	fmt.Fprintf(&out, "# %s: statements per %s over %d, %.2f in all\n", b.Name(), unit, n, float64(total)/float64(n))
	for _, r := range rows {
		fmt.Fprintf(&out, "%7.2f  %s\n", float64(r.calls)/float64(n), strings.Join(strings.Fields(r.text), " "))
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		b.Error(err)
	}
}
