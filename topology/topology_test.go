package topology_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/topology"
)

func TestNewPrefixes(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"riptide", true},
		{"a", true},
		{"prod.eu-1_x", true},
		{"R1PT1DE", true},
		{strings.Repeat("p", 100), true},
		{"", false},
		{strings.Repeat("p", 101), false},
		{"has space", false},
		{"slash/x", false},
		{"colon:x", false},
		{"star*", false},
		{"ümlaut", false},
		{"new\nline", false},
		{"riptide\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			top, err := topology.New(tt.prefix)
			if tt.ok {
				if err != nil {
					t.Fatalf("New(%q): %v", tt.prefix, err)
				}
				if top.Prefix != tt.prefix {
					t.Errorf("Prefix = %q, want %q", top.Prefix, tt.prefix)
				}
				return
			}
			if !errors.Is(err, topology.ErrBadPrefix) {
				t.Fatalf("New(%q) error = %v, want ErrBadPrefix", tt.prefix, err)
			}
			if top != nil {
				t.Errorf("New(%q) returned a topology with an error", tt.prefix)
			}
		})
	}
}

func TestMustNewPanicsOnBadPrefix(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, topology.ErrBadPrefix) {
			t.Fatalf("recovered %v, want an error wrapping ErrBadPrefix", r)
		}
	}()
	topology.MustNew("bad prefix")
}

// names returns every topic and group name of top, with what it is.
func names(top *topology.Topology) map[string][]string {
	out := map[string][]string{}
	for _, tp := range top.All() {
		out[tp.Name] = append(out[tp.Name], "topic")
	}
	for _, g := range top.Groups() {
		out[string(g)] = append(out[string(g)], "group")
	}
	return out
}

func TestNamesCarryPrefixAndAreUnique(t *testing.T) {
	for _, prefix := range []string{topology.DefaultPrefix, "t1", "a.b-c_d"} {
		t.Run(prefix, func(t *testing.T) {
			top := topology.MustNew(prefix)
			all := top.All()
			if want := len(top.Streams()) + len(top.GroupTopics()) + len(top.Loops()); len(all) != want {
				t.Fatalf("All() has %d topics, want streams+tables+loops = %d", len(all), want)
			}
			for name, what := range names(top) {
				if !strings.HasPrefix(name, prefix+".") && !strings.HasPrefix(name, prefix+"-") {
					t.Errorf("%s %q does not start with %q and a separator", what[0], name, prefix)
				}
				if len(what) > 1 {
					t.Errorf("name %q used %d times (%v)", name, len(what), what)
				}
				if len(name) > 249 {
					t.Errorf("name %q longer than Kafka's 249 characters", name)
				}
			}
			// Every topic is fully described.
			for _, tp := range all {
				if tp.Codec == nil || tp.Key == "" || tp.Value == "" || tp.CreatedBy == "" {
					t.Errorf("topic %q is not fully described: %+v", tp.Name, tp)
				}
				if tp.Cleanup != topology.CleanupDelete && tp.Cleanup != topology.CleanupCompact {
					t.Errorf("topic %q: cleanup %q", tp.Name, tp.Cleanup)
				}
				if string(tp.Stream()) != tp.Name || string(tp.Table()) != tp.Name {
					t.Errorf("topic %q: Stream() = %q, Table() = %q", tp.Name, tp.Stream(), tp.Table())
				}
			}
		})
	}
}

func TestPrefixesDoNotCollide(t *testing.T) {
	// Two deployments on one cluster must not share a single name.
	a, b := names(topology.MustNew("riptide")), names(topology.MustNew("riptide2"))
	for n := range a {
		if _, ok := b[n]; ok {
			t.Errorf("name %q used by both prefixes", n)
		}
	}
}

func TestStreamNames(t *testing.T) {
	top := topology.MustNew("x")
	tests := []struct {
		topic topology.Topic
		want  string
	}{
		{top.Packets, "x.packets"},
		{top.Syslog, "x.syslog"},
		{top.Events, "x.events"},
		{top.Flows, "x.flows"},
		{top.Features, "x.features"},
		{top.Anomalies, "x.anomalies"},
		{top.Feedback, "x.feedback"},
		{top.Control, "x.control"},
		{top.DeadLetter, "x.deadletter"},
	}
	streams := top.Streams()
	if len(streams) != len(tests) {
		t.Fatalf("Streams() has %d topics, want %d", len(streams), len(tests))
	}
	for i, tt := range tests {
		if tt.topic.Name != tt.want {
			t.Errorf("topic name %q, want %q", tt.topic.Name, tt.want)
		}
		if streams[i].Name != tt.want {
			t.Errorf("Streams()[%d] = %q, want %q (pipeline order)", i, streams[i].Name, tt.want)
		}
		want := topology.CleanupDelete
		if tt.topic.Name == top.Feedback.Name {
			want = topology.CleanupCompact // the latest verdict per window
		}
		if tt.topic.Cleanup != want {
			t.Errorf("stream %q cleanup %q, want %s", tt.topic.Name, tt.topic.Cleanup, want)
		}
	}
}

func TestGroupTopics(t *testing.T) {
	top := topology.MustNew("x")
	if got, want := top.Groups(), []goka.Group{"x-windower", "x-trainer", "x-detector", "x-notifier"}; !equal(got, want) {
		t.Errorf("Groups() = %v, want %v", got, want)
	}
	tables := top.GroupTopics()
	if len(tables) != len(top.Groups()) {
		t.Fatalf("GroupTopics() has %d tables for %d groups", len(tables), len(top.Groups()))
	}
	for i, g := range top.Groups() {
		if want := string(goka.GroupTable(g)); tables[i].Name != want {
			t.Errorf("table %d = %q, want goka.GroupTable(%q) = %q", i, tables[i].Name, g, want)
		}
		if tables[i].Cleanup != topology.CleanupCompact {
			t.Errorf("table %q cleanup %q, want compact", tables[i].Name, tables[i].Cleanup)
		}
	}
}

func TestTrainerLoopIsGokaLoop(t *testing.T) {
	top := topology.MustNew("x")
	// goka names a group's loopback topic group + "-loop" (graph.go,
	// loopName); it is not exported, so check it through a group graph.
	g := goka.DefineGroup(top.Trainer,
		goka.Input(top.Features.Stream(), top.Features.Codec, func(goka.Context, any) {}),
		goka.Loop(top.Features.Codec, func(goka.Context, any) {}),
		goka.Persist(top.GroupTopics()[1].Codec),
	)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	loop := g.LoopStream()
	if loop == nil {
		t.Fatal("graph has no loop stream")
	}
	if got := top.TrainerLoop(); got != loop.Topic() {
		t.Errorf("TrainerLoop() = %q, goka's loop = %q", got, loop.Topic())
	}
	if got := g.GroupTable().Topic(); got != top.GroupTopics()[1].Name {
		t.Errorf("trainer table %q, goka's = %q", top.GroupTopics()[1].Name, got)
	}
	loops := top.Loops()
	if len(loops) != 1 || loops[0].Name != top.TrainerLoop() || loops[0].Cleanup != topology.CleanupDelete {
		t.Errorf("Loops() = %+v, want the trainer loop with cleanup delete", loops)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
