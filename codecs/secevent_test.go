package codecs_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
)

func TestSecEventRoundTrip(t *testing.T) {
	in := &codecs.SecEvent{Time: time.Date(2016, 12, 10, 7, 7, 38, 0, time.UTC), Kind: "failed_login", Role: codecs.RoleSource,
		User: "root", Peer: netip.MustParseAddr("10.0.0.5"), Reporter: "LabSZ", Count: 5}
	b, err := codecs.AppendSecEvent(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"time":"2016-12-10T07:07:38Z","kind":"failed_login","role":"source","user":"root","peer":"10.0.0.5","reporter":"LabSZ","count":5}`
	if string(b) != want {
		t.Errorf("encoded\n %s\nwant\n %s", b, want)
	}
	out, err := codecs.DecodeSecEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	in.Version = codecs.SecEventVersion
	if *out != *in {
		t.Errorf("decoded %+v, want %+v", out, in)
	}
	for _, bad := range []struct {
		in   string
		want error
	}{
		{`{"v":2,"kind":"x","role":"source","count":1}`, codecs.ErrUnknownVersion},
		{`{"v":1,"kind":"x","role":"owner","count":1}`, codecs.ErrCorrupt},
		{`{"v":1,"kind":"x","role":"source","count":0}`, codecs.ErrCorrupt},
		{`{"v":1,`, codecs.ErrCorrupt},
	} {
		if _, err := codecs.DecodeSecEvent([]byte(bad.in)); !errors.Is(err, bad.want) {
			t.Errorf("DecodeSecEvent(%s) = %v, want %v", bad.in, err, bad.want)
		}
	}
	if _, err := codecs.AppendSecEvent(nil, &codecs.SecEvent{Kind: "x", Role: "source"}); !errors.Is(err, codecs.ErrInvalid) {
		t.Errorf("count 0 encoded: %v", err)
	}
}

func FuzzDecodeSecEvent(f *testing.F) {
	f.Add([]byte(`{"v":1,"time":"2016-12-10T07:07:38Z","kind":"failed_login","role":"source","user":"root","peer":"10.0.0.5","count":5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := codecs.DecodeSecEvent(b)
		if err != nil {
			return
		}
		re, err := codecs.AppendSecEvent(nil, e)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", e, err)
		}
		e2, err := codecs.DecodeSecEvent(re)
		if err != nil || !e2.Time.Equal(e.Time) || e2.Kind != e.Kind || e2.Count != e.Count || e2.Peer != e.Peer {
			t.Fatalf("round trip %+v -> %+v (%v)", e, e2, err)
		}
	})
}
