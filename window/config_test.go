package window

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // field named in the error; "" for valid
	}{
		{"default", DefaultConfig(), ""},
		{"no grace", Config{Size: time.Second}, ""},
		{"max grace", Config{Size: time.Second, Grace: 14 * time.Second}, ""},
		{"zero size", Config{Grace: time.Second}, "size"},
		{"negative size", Config{Size: -time.Second}, "size"},
		{"sub-millisecond size", Config{Size: 1500 * time.Microsecond}, "size"},
		{"huge size", Config{Size: 2 * time.Hour}, "size"},
		{"negative grace", Config{Size: time.Second, Grace: -1}, "grace"},
		{"grace too long", Config{Size: time.Second, Grace: 15 * time.Second}, "grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if n := tt.cfg.MaxOpen(); n < 1 || n > MaxOpenWindows-1 {
					t.Errorf("MaxOpen %d out of range", n)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want ErrInvalidConfig naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigStart(t *testing.T) {
	cfg := Config{Size: 10 * time.Second}
	s := int64(10 * time.Second)
	tests := []struct{ t, want int64 }{
		{0, 0},
		{1, 0},
		{s - 1, 0},
		{s, s}, // a packet exactly at a window's end starts the next one
		{s + 1, s},
		{-1, -s},
		{-s, -s},
		{-s - 1, -2 * s},
		{t0 + 5, t0},
	}
	for _, tt := range tests {
		if got := cfg.Start(tt.t); got != tt.want {
			t.Errorf("Start(%d) = %d, want %d", tt.t, got, tt.want)
		}
	}
	if got := DefaultConfig().MaxOpen(); got != 2 {
		t.Errorf("default MaxOpen %d, want 2", got)
	}
}
