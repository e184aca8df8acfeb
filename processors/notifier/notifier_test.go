package notifier

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/notify"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
)

type alerts struct {
	mu  sync.Mutex
	all []*notify.Alert
}

func (a *alerts) submit(x *notify.Alert) { a.mu.Lock(); a.all = append(a.all, x); a.mu.Unlock() }
func (a *alerts) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, x := range a.all {
		out = append(out, string(x.Action)+" "+x.Incident.ID)
	}
	return out
}

func anomaly(host string, i int) *codecs.Anomaly {
	s := time.Unix(0, gokatest.At(time.Duration(i)*10*time.Second)).UTC()
	return &codecs.Anomaly{ID: host + "@" + s.Format("150405"), Host: host, WindowStart: s, WindowEnd: s.Add(10 * time.Second),
		Score: -9, Threshold: -1.5, ModelVersion: "default-v1", DetectedAt: s.Add(11 * time.Second),
		Reasons: []codecs.Reason{{Feature: "syn_in", Value: 900, Text: "syn_in = 900 packets"}}}
}

// TestGroupsResolvesAndDeadLetters runs the notifier on goka's tester: a
// flood of windows is one trigger; another host's anomaly on the same
// partition moving stream time 6 windows on resolves it; garbage goes to
// the dead-letter topic.
func TestGroupsResolvesAndDeadLetters(t *testing.T) {
	top := gokatest.Topology(t)
	var got alerts
	pol := notify.DefaultPolicy()
	pol.IdleResolve = time.Hour
	p, err := New(top, pol, got.submit, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, gokatest.T0)
	p.Now = func() time.Time { return now }
	tt, gp, ctx := gokatest.Run(t, p.Graph())
	dead := tt.NewQueueTracker(top.DeadLetter.Name)
	send := func(a *codecs.Anomaly) {
		b, err := codecs.EncodeAnomaly(a)
		if err != nil {
			t.Fatal(err)
		}
		tt.Consume(top.Anomalies.Name, a.Host, b)
	}
	for i := range 20 {
		send(anomaly("10.10.10.10", i))
		send(anomaly("10.10.10.10", i)) // repeat
	}
	first := anomaly("10.10.10.10", 0).ID
	if a := got.actions(); len(a) != 1 || a[0] != "trigger "+first {
		t.Fatalf("after 20 windows: %v, want one trigger", a)
	}
	st := p.Stats()
	if st.Repeats != 20 || st.Grouped != 19 || st.Opened != 1 {
		t.Errorf("stats %+v", st)
	}
	// The tester has one partition: another host's anomaly 6 windows after
	// the flood's last window moves stream time on.
	send(anomaly("10.1.0.5", 25))
	if err := gp.VisitAll(ctx, visitExpire, nil); err != nil {
		t.Fatal(err)
	}
	tt.Catchup()
	want := []string{"trigger " + first, "trigger " + anomaly("10.1.0.5", 25).ID, "resolve " + first}
	if a := got.actions(); len(a) != 3 || a[0] != want[0] || a[1] != want[1] || a[2] != want[2] {
		t.Fatalf("alerts %v, want %v", a, want)
	}
	v := tt.TableValue(goka.GroupTable(top.Notifier), "10.10.10.10")
	if inc, _ := v.(*notify.Incident); inc == nil || !inc.Resolved || inc.Windows != 20 {
		t.Errorf("table value %+v", v)
	}
	tt.Consume(top.Anomalies.Name, "10.10.10.10", []byte("{not json"))
	if _, _, ok := dead.Next(); !ok {
		t.Error("garbage not dead-lettered")
	}
}
