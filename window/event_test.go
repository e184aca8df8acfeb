package window

import (
	"testing"
	"time"
)

func TestAddEvent(t *testing.T) {
	cfg := DefaultConfig()
	t0 := int64(1_700_000_000) * int64(time.Second)
	st := NewState()
	evs := []Event{
		{Time: t0, Kind: EventLoginFailed, Out: true, User: "root", Count: 5},
		{Time: t0 + 1, Kind: EventLoginFailed, Out: true, User: "admin"},
		{Time: t0 + 2, Kind: EventInvalidUser, Out: true, User: "oracle"},
		{Time: t0 + 3, Kind: EventInvalidUser, Out: true, User: "root"},
		{Time: t0 + 4, Kind: EventBreakIn, Out: true},
		{Time: t0 + 5, Kind: EventLoginAccepted, Out: true, User: "fztu"},
		{Time: t0 + 6, Kind: EventLoginFailed, User: "x"},
		{Time: t0 + 7, Kind: EventLoginAccepted},
	}
	for i := range evs {
		if !st.AddEvent(&evs[i], t0, cfg) {
			t.Fatalf("event %d not added", i)
		}
	}
	// Round trip through the encoding, users sketch included.
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var dec State
	if err := dec.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	var got []*Vector
	dec.Close("10.0.0.1", t0+int64(cfg.Size+cfg.Grace), cfg, func(v *Vector) { got = append(got, v) })
	if len(got) != 1 {
		t.Fatalf("%d vectors, want 1", len(got))
	}
	v := got[0].Values
	want := map[int]float64{FLoginFailOut: 6, FLoginFailIn: 1, FLoginOKOut: 1, FLoginOKIn: 1, FInvalidUserOut: 2, FBreakInOut: 1, FUsersTriedOut: 3}
	for i, x := range v {
		if x != want[i] {
			t.Errorf("%s = %v, want %v", Schema[i].Name, x, want[i])
		}
	}
	// Late: its window closed.
	late := Event{Time: t0, Kind: EventLoginFailed, Out: true}
	if dec.AddEvent(&late, t0+int64(cfg.Size+cfg.Grace), cfg) || dec.Late != 1 {
		t.Errorf("a late event was added (late %d)", dec.Late)
	}
}
