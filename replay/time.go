package replay

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses a range bound: an RFC 3339 time (fractional seconds
// allowed), unix milliseconds, or "" for no bound (the zero time).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 {
			return time.Time{}, fmt.Errorf("replay: time %q: unix milliseconds must not be negative", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("replay: time %q: use RFC 3339 (2026-03-02T09:15:00Z) or unix milliseconds (1772442900000)", s)
	}
	return t, nil
}
