package demo_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/demo"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/window"
)

// TestPipelineOverTLSAndSCRAM runs the whole pipeline, franz-go producer
// and reader and goka's sarama processors, against a broker that only
// speaks TLS and requires SASL/SCRAM-SHA-512, and checks that windows are
// closed, a model trained and the port scan flagged.
func TestPipelineOverTLSAndSCRAM(t *testing.T) {
	s := testenv.SecureKafka(t, testenv.SecureOptions{Opts: []kfake.Opt{
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": fmt.Sprint(16 << 20)}),
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
	}})
	learn := 3 * time.Minute
	cfg := loadtest.DefaultConfig(learn)
	cfg.Hosts = 20
	cfg.Attacks = slices.DeleteFunc(cfg.Attacks, func(a loadtest.Attack) bool { return a.Kind != loadtest.PortScan })
	cfg.Duration = learn + 3*time.Minute
	g, err := loadtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	ctx := testenv.Context(t, 2*time.Minute)
	sum, err := demo.Run(ctx, demo.Options{
		Source: loadtest.Source(g), Window: window.DefaultConfig(), Learn: learn, OnAnomaly: c.add,
		Brokers: s.Addrs,
		Security: kclient.Security{
			TLS:  kclient.TLS{CA: s.PKI.CA},
			SASL: kclient.SASL{Mechanism: kclient.MechanismSCRAMSHA512, Username: s.User, Password: kclient.Secret(s.Password)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", *sum)
	if sum.Windows == 0 || !sum.ModelTrained {
		t.Fatalf("windows %d, model trained %v: the processors did not run over TLS and SASL", sum.Windows, sum.ModelTrained)
	}
	if sum.DeadLetters != 0 {
		t.Errorf("%d dead letters", sum.DeadLetters)
	}
	var labels []backtest.Label
	for _, l := range g.Labels() {
		labels = append(labels, backtest.Label{Host: l.Host.String(), Start: l.Start, End: l.End, Attack: l.Attack, Role: l.Role})
	}
	if a := backtest.Evaluate(labels, c.flags(), 10*time.Second, 0, 0).Attacks[string(loadtest.PortScan)]; !a.Detected {
		t.Errorf("the port scan was not flagged (%+v)", a)
	}
	if sum.Anomalies != int64(len(c.as)) {
		t.Errorf("summary says %d anomalies, the anomalies topic had %d", sum.Anomalies, len(c.as))
	}
}
