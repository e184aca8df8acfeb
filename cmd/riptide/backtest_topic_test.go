package main

import (
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
)

func TestLabelsInRange(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lab := func(name string, from, to time.Duration) backtest.Label {
		return backtest.Label{Host: "10.0.0.1", Attack: name, Role: backtest.RoleAttacker, Start: t0.Add(from), End: t0.Add(to)}
	}
	labels := []backtest.Label{
		lab("before", 0, time.Minute),
		lab("across-from", 9*time.Minute, 11*time.Minute),
		lab("inside", 12*time.Minute, 13*time.Minute),
		lab("across-to", 19*time.Minute, 21*time.Minute),
		lab("at-to", 20*time.Minute, 21*time.Minute),
	}
	tests := []struct {
		r    timeRange
		want []string
	}{
		{timeRange{}, []string{"before", "across-from", "inside", "across-to", "at-to"}},
		{timeRange{from: t0.Add(10 * time.Minute), to: t0.Add(20 * time.Minute)}, []string{"across-from", "inside", "across-to"}},
		{timeRange{from: t0.Add(10 * time.Minute)}, []string{"across-from", "inside", "across-to", "at-to"}},
		{timeRange{to: t0.Add(10 * time.Minute)}, []string{"before", "across-from"}},
	}
	for _, tt := range tests {
		got, dropped := labelsInRange(labels, tt.r)
		var names []string
		for _, l := range got {
			names = append(names, l.Attack)
		}
		if len(names) != len(tt.want) || dropped != len(labels)-len(tt.want) {
			t.Errorf("%v–%v: kept %v (dropped %d), want %v", tt.r.from, tt.r.to, names, dropped, tt.want)
			continue
		}
		for i := range names {
			if names[i] != tt.want[i] {
				t.Errorf("%v–%v: kept %v, want %v", tt.r.from, tt.r.to, names, tt.want)
				break
			}
		}
	}
}
