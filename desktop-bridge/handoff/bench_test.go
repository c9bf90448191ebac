package handoff

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

// BenchmarkRun measures an enrolment with the default options (two P-256 certificates)
// against an in-process server, through pcscd and vpcd: from the claim to the server's
// CARD_READY (claim-to-ready-ms), and the whole Run per op. Starting the order in the
// portal is not measured.
func BenchmarkRun(b *testing.B) {
	env := pcsctest.Start(b, 2)
	srv := portaltest.Start(b)
	alice := srv.SignIn(b)
	host := newTestHost(b, env)
	trust := &memTrust{}
	trust.Trust(srv.URL)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		order, link := alice.StartOrder()
		h, err := ParseLink(link)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Run(context.Background(), Config{
			Trust: trust, Prompter: newPrompter(false, goodPIN), Cards: host, Logger: quiet(),
		}, h)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		total += res.Duration
		alice.Next(order.ID)
		serial, _ := strconv.ParseUint(res.Serial, 10, 32)
		host.DeleteCard(uint32(serial))
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "claim-to-ready-ms")
}
