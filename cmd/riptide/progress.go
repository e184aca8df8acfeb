package main

import (
	"fmt"
	"os"
	"time"
)

// progress shows the progress of long work on stderr when stderr is a
// terminal, and stays silent otherwise (logs and pipes stay clean).
type progress struct {
	what  string
	total int64
	start time.Time
	tty   bool
	last  time.Time
}

func newProgress(what string, total int64) *progress {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return &progress{what: what, total: total, start: time.Now(), tty: tty}
}

// packets reports n packets done.
func (p *progress) packets(n int64) {
	if !p.tty || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(n) / time.Since(p.start).Seconds()
	if p.total > 0 {
		fmt.Fprintf(os.Stderr, "\r%s: %d/%d packets (%.0f%%), %.0f packets/s   ", p.what, n, p.total, 100*float64(n)/float64(p.total), rate)
		return
	}
	fmt.Fprintf(os.Stderr, "\r%s: %d packets, %.0f packets/s   ", p.what, n, rate)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
}
