package ops_test

import (
	"testing"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/ops/opstest"
)

func TestInput(t *testing.T) {
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Input("syslog")
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Input("flows") // a second input shares the collectors
	if err != nil {
		t.Fatal(err)
	}
	in.Received("udp").Add(3)
	in.Dropped("buffer_full").Inc()
	again.Received("udp").Inc()
	fs := opstest.Gather(t, reg)
	if got := fs.Sample(t, "riptide_input_received_total", "input", "syslog", "transport", "udp"); got != 3 {
		t.Errorf("received %v, want 3", got)
	}
	if got := fs.Sample(t, "riptide_input_received_total", "input", "flows", "transport", "udp"); got != 1 {
		t.Errorf("flows received %v, want 1", got)
	}
	if got := fs.Sample(t, "riptide_input_dropped_total", "input", "syslog", "reason", "buffer_full"); got != 1 {
		t.Errorf("dropped %v, want 1", got)
	}
	var nilM *ops.Metrics
	nin, err := nilM.Input("syslog")
	if err != nil || nin != nil {
		t.Fatalf("nil metrics: %v, %v", nin, err)
	}
	nin.Received("udp").Inc() // records nothing, does not panic
}
