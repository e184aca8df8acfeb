// Package opstest reads metrics for tests: from a registry (Gather) or over
// HTTP from a /metrics endpoint (Scrape), and single series out of them
// (Sample).
package opstest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families maps metric names to their families.
type Families map[string]*dto.MetricFamily

// Gather gathers g.
func Gather(t testing.TB, g prometheus.Gatherer) Families {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(Families, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// Scrape GETs url (a /metrics endpoint) and parses the Prometheus text
// format; it fails the test unless the answer is 200 and parses.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape %s: parse: %v\n%s", url, err, body)
	}
	return mfs
}

// Sample returns the value of the series of metric name with the given
// label pairs (name, value, ...; other labels may have any value, and
// matching series are added up): a counter's or gauge's value, or for a
// histogram name_count or name_sum. It fails the test if fs has no metric
// of that name, and returns 0 if no series matches.
func (fs Families) Sample(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("Sample(%s): odd number of label arguments", name)
	}
	base, part := name, ""
	if _, ok := fs[name]; !ok {
		for _, suffix := range []string{"_count", "_sum"} {
			if b, ok := strings.CutSuffix(name, suffix); ok {
				base, part = b, suffix
			}
		}
	}
	mf, ok := fs[base]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var sum float64
	for _, m := range mf.GetMetric() {
		if !matches(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		case m.Histogram != nil && part == "_count":
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Histogram != nil && part == "_sum":
			sum += m.GetHistogram().GetSampleSum()
		default:
			t.Fatalf("Sample(%s): unsupported metric type %v", name, mf.GetType())
		}
	}
	return sum
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
