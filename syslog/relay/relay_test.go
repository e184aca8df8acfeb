package relay_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/syslog"
	"github.com/riptide-nids/riptide/syslog/relay"
	"github.com/riptide-nids/riptide/topology"
)

type env struct {
	brokers []string
	top     *topology.Topology
	cl      *kgo.Client
	r       *relay.Relay
}

func newEnv(t *testing.T, mod func(*relay.Config)) *env {
	t.Helper()
	top := topology.MustNew("t")
	brokers := testenv.Kafka(t, 3, top.Syslog.Name, top.Events.Name, top.DeadLetter.Name)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	cfg := relay.Config{Topic: top.Syslog.Name, Events: top.Events.Name, DeadLetter: top.DeadLetter.Name,
		Parser: syslog.ParserConfig{Year: 2016}, MaxSize: 1024}
	if mod != nil {
		mod(&cfg)
	}
	r, err := relay.New(cl, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{brokers: brokers, top: top, cl: cl, r: r}
}

// records reads every record of topic up to its end offsets.
func (e *env) records(ctx context.Context, t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ends.Each(func(o kadm.ListedOffset) { n += int(o.Offset) })
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestHandle(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	e := newEnv(t, func(c *relay.Config) {
		c.HostAddrs = map[string]netip.Addr{"LabSZ": netip.MustParseAddr("10.0.0.5")}
	})
	p := e.r.NewParser()
	src := relay.Source{Transport: "tcp", Peer: netip.MustParseAddrPort("192.0.2.7:40000"), Name: "127.0.0.1:514"}
	for _, m := range []string{
		"Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user test9 from 52.80.34.196 port 36060 ssh2",
		"<34>1 2016-12-10T07:08:00Z - su - - - plain message",
		"\x00 garbage",
	} {
		e.r.Handle(ctx, p, []byte(m), src, nil)
	}
	e.r.Handle(ctx, p, []byte(strings.Repeat("x", 1024)), src, fmt.Errorf("%w: test", syslog.ErrOversized))
	if err := e.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.r.Stats(); st != (relay.Stats{Received: 4, Produced: 2, Events: 2, DeadLettered: 2}) {
		t.Errorf("stats %+v", st)
	}
	recs := e.records(ctx, t, e.top.Syslog.Name)
	keys := map[string]time.Time{}
	for _, r := range recs {
		keys[string(r.Key)] = r.Timestamp
	}
	if want := time.Date(2016, 12, 10, 7, 7, 38, 0, time.UTC); !keys["LabSZ"].Equal(want) {
		t.Errorf("LabSZ record time %v, want %v (keys %v)", keys["LabSZ"], want, keys)
	}
	if _, ok := keys["192.0.2.7"]; !ok {
		t.Errorf("a message without HOSTNAME is not keyed by the sender: %v", keys)
	}
	evs := map[string]*codecs.SecEvent{}
	for _, r := range e.records(ctx, t, e.top.Events.Name) {
		ev, err := codecs.DecodeSecEvent(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		evs[string(r.Key)] = ev
	}
	if ev := evs["52.80.34.196"]; ev == nil || ev.Role != codecs.RoleSource || ev.Kind != "failed_login" || ev.User != "test9" || ev.Peer != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("source event %+v", ev)
	}
	if ev := evs["10.0.0.5"]; ev == nil || ev.Role != codecs.RoleTarget || ev.Peer != netip.MustParseAddr("52.80.34.196") {
		t.Errorf("target event %+v", ev)
	}
	dl := e.records(ctx, t, e.top.DeadLetter.Name)
	if len(dl) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dl))
	}
	for _, r := range dl {
		reason := header(r, processors.HeaderReason)
		switch string(r.Value) {
		case "\x00 garbage":
			if !strings.Contains(reason, "not an RFC 5424 or RFC 3164") {
				t.Errorf("garbage reason %q", reason)
			}
		case strings.Repeat("x", 1024):
			if !strings.Contains(reason, "too long") {
				t.Errorf("oversized reason %q", reason)
			}
		default:
			t.Errorf("dead letter %q", r.Value)
		}
		if src := header(r, processors.HeaderSource); !strings.HasPrefix(src, "syslog+tcp://") {
			t.Errorf("source header %q", src)
		}
	}
}

// serve starts every listener and returns a function stopping them.
func serve(t *testing.T, e *env, eps string, tc *tls.Config) ([]*relay.Listener, func()) {
	t.Helper()
	parsed, err := relay.ParseEndpoints(eps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ls []*relay.Listener
	done := make(chan error, len(parsed))
	for _, ep := range parsed {
		l, err := relay.Listen(ctx, ep, relay.ListenConfig{TLS: tc, UDPBuffer: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		go func() { done <- e.r.Serve(ctx, l) }()
	}
	return ls, func() {
		cancel()
		for range parsed {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
}

func waitReceived(ctx context.Context, t *testing.T, r *relay.Relay, n int64) {
	t.Helper()
	for r.Stats().Received < n {
		select {
		case <-ctx.Done():
			t.Fatalf("received %d of %d messages", r.Stats().Received, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestListeners(t *testing.T) {
	ctx := testenv.Context(t, 60*time.Second)
	e := newEnv(t, nil)
	pki := testenv.NewPKI(t)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pki.CA) {
		t.Fatal("bad CA")
	}
	ls, stop := serve(t, e, "udp://127.0.0.1:0,tcp://127.0.0.1:0,tls://127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.Server}})
	line := func(i int) string {
		return fmt.Sprintf("<38>Dec 10 07:07:%02d LabSZ sshd[1]: Failed password for root from 203.0.113.%d port 1 ssh2", i%60, i%250+1)
	}
	// UDP: one datagram per message.
	uc, err := net.Dial("udp", ls[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := uc.Write([]byte(line(i) + "\n")); err != nil {
			t.Fatal(err)
		}
		waitReceived(ctx, t, e.r, int64(i+1)) // paced: no loss on loopback
	}
	_ = uc.Close()
	// TCP: newline and octet-counted frames on one connection, an oversized line in between.
	tc, err := net.Dial("tcp", ls[1].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(tc)
	for i := range 50 {
		if i%2 == 0 {
			_, _ = fmt.Fprintf(w, "%s\n", line(i))
		} else {
			_, _ = fmt.Fprintf(w, "%d %s", len(line(i)), line(i))
		}
		if i == 25 {
			_, _ = fmt.Fprintf(w, "%s\n", strings.Repeat("z", 5000))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = tc.Close()
	waitReceived(ctx, t, e.r, 101)
	// TLS with octet counting.
	tlc, err := tls.Dial("tcp", ls[2].Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		_, _ = fmt.Fprintf(tlc, "%d %s", len(line(i)), line(i))
	}
	_ = tlc.Close()
	waitReceived(ctx, t, e.r, 121)
	stop()
	if err := e.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.records(ctx, t, e.top.Syslog.Name)); got != 120 {
		t.Errorf("%d syslog records, want 120", got)
	}
	dl := e.records(ctx, t, e.top.DeadLetter.Name)
	if len(dl) != 1 || len(dl[0].Value) != 1024 {
		t.Errorf("dead letters: %d, want the oversized line cut to 1024 bytes", len(dl))
	}
}

func TestFollowRotation(t *testing.T) {
	ctx := testenv.Context(t, 60*time.Second)
	e := newEnv(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	write := func(name string, lines ...string) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if _, err := f.WriteString(l); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	msg := func(i int) string { return fmt.Sprintf("Dec 10 07:07:%02d LabSZ sshd[1]: line %d\n", i, i) }
	write(path, msg(0)) // before Follow: skipped without FromStart
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.r.Follow(fctx, path, relay.FollowConfig{Poll: 10 * time.Millisecond}) }()
	// Follow seeks to the end when it opens the file; wait until it has.
	deadline := time.Now().Add(10 * time.Second)
	for e.r.Stats().Received == 0 && time.Now().Before(deadline) {
		write(path, msg(1))
		time.Sleep(20 * time.Millisecond) // paces the writer; the loop waits on Received
	}
	base := e.r.Stats().Received
	write(path, msg(2), "Dec 10 07:07:03 LabSZ sshd[1]: half a ")
	write(path, "line\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(path+".1", msg(4)) // written to the old file after the rename
	write(path, msg(5), msg(6))
	waitReceived(ctx, t, e.r, base+5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := e.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, r := range e.records(ctx, t, e.top.Syslog.Name) {
		texts = append(texts, string(r.Value))
	}
	got := strings.Join(texts, "\n")
	for _, want := range []string{"line 2", "half a line", "line 4", "line 5", "line 6"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from %d records", want, len(texts))
		}
	}
	if strings.Contains(got, "line 0") {
		t.Errorf("a line written before following began was produced")
	}
}

func TestReplayOnce(t *testing.T) {
	ctx := testenv.Context(t, 60*time.Second)
	e := newEnv(t, nil)
	path := testenv.Datasets(t, "syslog", "OpenSSH_2k.log")
	if err := e.r.Follow(ctx, path, relay.FollowConfig{Once: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.records(ctx, t, e.top.Syslog.Name)); got != 2000 {
		t.Errorf("%d records, want 2000", got)
	}
}

// TestAbortUnblocks: with Kafka unreachable and the producer's buffer full,
// Handle blocks (back-pressure) until Abort, which fails what is pending.
func TestAbortUnblocks(t *testing.T) {
	top := topology.MustNew("t")
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.MaxBufferedRecords(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r, err := relay.New(cl, relay.Config{Topic: top.Syslog.Name, DeadLetter: top.DeadLetter.Name})
	if err != nil {
		t.Fatal(err)
	}
	p := r.NewParser()
	src := relay.Source{Transport: "udp", Name: "test"}
	msg := []byte("<13>Dec 10 07:07:38 h app: x")
	r.Handle(context.Background(), p, msg, src, nil) // buffered
	done := make(chan struct{})
	go func() {
		r.Handle(context.Background(), p, msg, src, nil) // blocks: the buffer holds 1
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("Handle did not block with the buffer full")
	case <-time.After(200 * time.Millisecond): // long enough to see it block
	}
	r.Abort()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Handle still blocked 10 s after Abort")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Flush(ctx); err == nil {
		t.Error("Flush after Abort reported no failure")
	}
	if st := r.Stats(); st.Failed != 2 || st.Produced != 0 {
		t.Errorf("stats %+v, want 2 failed", st)
	}
}

// TestMaxConns: a TCP listener serves at most MaxConns connections at once;
// the next is served when one closes.
func TestMaxConns(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	e := newEnv(t, nil)
	eps, err := relay.ParseEndpoints("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	l, err := relay.Listen(sctx, eps[0], relay.ListenConfig{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.r.Serve(sctx, l) }()
	first, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Write([]byte("<13>Dec 10 07:07:38 h app: one\n")); err != nil {
		t.Fatal(err)
	}
	waitReceived(ctx, t, e.r, 1)
	second, err := net.Dial("tcp", l.Addr().String()) // connects (backlog) but is not served
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Write([]byte("<13>Dec 10 07:07:39 h app: two\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // an observation window: nothing may arrive in it
	if n := e.r.Stats().Received; n != 1 {
		t.Fatalf("received %d with one connection allowed, want 1", n)
	}
	_ = first.Close()
	waitReceived(ctx, t, e.r, 2)
	_ = second.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestOverflowDrop: in Drop mode a full buffer drops the message at once
// and counts it, instead of blocking.
func TestOverflowDrop(t *testing.T) {
	top := topology.MustNew("t")
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.MaxBufferedRecords(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r, err := relay.New(cl, relay.Config{Topic: top.Syslog.Name, DeadLetter: top.DeadLetter.Name, Overflow: relay.Drop})
	if err != nil {
		t.Fatal(err)
	}
	p := r.NewParser()
	src := relay.Source{Transport: "udp", Name: "test"}
	for range 5 {
		r.Handle(context.Background(), p, []byte("<13>Dec 10 07:07:38 h app: x"), src, nil) // returns at once
	}
	// Promises run on the client's goroutine: wait for the drops to be counted.
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Dropped < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := r.Stats(); st.Received != 5 || st.Dropped != 4 || st.Produced != 1 {
		t.Errorf("stats %+v, want 5 received, 4 dropped, 1 pending", st)
	}
	r.Abort()
}
