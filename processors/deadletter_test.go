package processors

import (
	"errors"
	"fmt"
	"testing"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/window"
)

func TestDeadLetterReason(t *testing.T) {
	_, truncated := codecs.DecodePacketBatch([]byte{1}, nil)
	_, garbage := codecs.DecodePacketBatch([]byte("garbage"), nil)
	var v window.Vector
	bad := CheckVector(&v)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"truncated batch", truncated, ops.ReasonUndecodable},
		{"garbage batch", garbage, ops.ReasonUndecodable},
		{"unknown version", fmt.Errorf("windower: %w", codecs.ErrUnknownVersion), ops.ReasonUnknownVersion},
		{"bad vector", fmt.Errorf("detector: %w", bad), ops.ReasonInvalid},
		{"anything else", errors.New("boom"), ops.ReasonOther},
	} {
		if tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		if got := DeadLetterReason(tc.err); got != tc.want {
			t.Errorf("%s (%v): reason %q, want %q", tc.name, tc.err, got, tc.want)
		}
	}
}
