package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/servertest"
)

// TestMetrics runs an order to the end with the portal subscribed, plus a refused
// mutation and a query that does not parse, and reads the instance's Prometheus metrics:
// each state entered once, each request under its operation and outcome, the open
// subscription while it was open, and the database pool.
func TestMetrics(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	sub := subscribe(t, o, "STARTED")
	if got := gauge(t, scrape(t, env), "vscard_subscriptions"); got != 1 {
		t.Fatalf("vscard_subscriptions = %v with one subscription open", got)
	}

	o.next()
	o.mustClaim()
	o.mustCreate()
	o.mustSubmit()
	o.mustReady()
	if got := o.next(); got != "COMPLETED" {
		t.Fatalf("order ended %s", got)
	}
	if err := alice.Do(t.Context(), qNext, map[string]any{"id": o.id}, nil); codeOf(err) != "ILLEGAL_STATE" {
		t.Fatalf("Next on a completed order: %v", err)
	}
	if err := alice.Do(t.Context(), `{ cards { totalCount `, nil, nil); err == nil {
		t.Fatal("a query that does not parse was answered")
	}
	for range sub.Next { // the subscription ends with the order
	}

	var families map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		families = scrape(t, env)
		if gauge(t, families, "vscard_subscriptions") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("vscard_subscriptions stays above 0 after the subscription ended")
		}
	}
	for _, state := range allStates {
		if got := counter(t, families, "vscard_order_transitions_total", "state", state); got != 1 {
			t.Errorf("vscard_order_transitions_total{state=%q} = %v, want 1", state, got)
		}
	}
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"type", "mutation", "field", "startProcess", "outcome", "OK"}, 1},
		{[]string{"type", "mutation", "field", "nextStep", "outcome", "OK"}, 2},
		{[]string{"type", "mutation", "field", "nextStep", "outcome", "ILLEGAL_STATE"}, 1},
		{[]string{"type", "mutation", "field", "claimOrder", "outcome", "OK"}, 1},
		{[]string{"type", "mutation", "field", "submitCardKeys", "outcome", "OK"}, 1},
		{[]string{"type", "mutation", "field", "confirmCardReady", "outcome", "OK"}, 1},
		{[]string{"type", "", "field", "", "outcome", "GRAPHQL_PARSE_FAILED"}, 1},
	} {
		if got := counter(t, families, "vscard_graphql_requests_total", c.labels...); got != c.want {
			t.Errorf("vscard_graphql_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if h := find(t, families, "vscard_graphql_request_duration_seconds", "type", "mutation", "field", "nextStep"); h.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("the nextStep duration histogram counts %d requests, want 3", h.GetHistogram().GetSampleCount())
	}
	if got := gauge(t, families, "go_sql_max_open_connections", "db_name", "vscard"); got < 1 {
		t.Errorf("go_sql_max_open_connections = %v", got)
	}
	if _, pg := env.Server.Events.(*events.Postgres); pg {
		if got := gauge(t, families, "vscard_events_listener_connected"); got != 1 {
			t.Errorf("vscard_events_listener_connected = %v", got)
		}
		// The subscription saw each move after STARTED because a notice came for it.
		if got, moves := counter(t, families, "vscard_events_notices_total"), len(allStates)-1; got < float64(moves) {
			t.Errorf("vscard_events_notices_total = %v for an order that moved %d times", got, moves)
		}
	} else if families["vscard_events_listener_connected"] != nil {
		t.Error("an instance without a PostgreSQL listener reports one")
	}

	// Not on the public listener: that is the load balancer's.
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "vscard_order_transitions_total") {
		t.Fatal("the public listener serves the metrics")
	}
}

func scrape(t *testing.T, env *servertest.Env) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	env.Server.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return parseMetrics(t, rec.Body)
}

func parseMetrics(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return families
}

// find returns the series of family name with the given label pairs, failing without.
func find(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	f := families[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

func counter(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	return find(t, families, name, labels...).GetCounter().GetValue()
}

func gauge(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	return find(t, families, name, labels...).GetGauge().GetValue()
}
