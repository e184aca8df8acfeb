package relay_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/syslog"
	"github.com/riptide-nids/riptide/syslog/relay"
	"github.com/riptide-nids/riptide/topology"
)

// BenchmarkRelay hands the sshd log's lines to a relay producing into an
// embedded broker (kfake, in process) with riptide's client settings, and
// reports lines per second including the final flush.
func BenchmarkRelay(b *testing.B) {
	data, err := os.ReadFile(testenv.Datasets(b, "syslog", "OpenSSH_2k.log"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	top := topology.MustNew("bench")
	brokers := testenv.Kafka(b, 4, top.Syslog.Name, top.Events.Name, top.DeadLetter.Name)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers}, kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	r, err := relay.New(cl, relay.Config{Topic: top.Syslog.Name, Events: top.Events.Name, DeadLetter: top.DeadLetter.Name,
		Parser: syslog.ParserConfig{Year: 2016}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := r.NewParser()
	src := relay.Source{Transport: "file", Name: "OpenSSH_2k.log"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r.Handle(ctx, p, lines[i%len(lines)], src, nil)
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
}
