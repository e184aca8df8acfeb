package detect

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time of the calling OS thread (the caller locks
// its goroutine to the thread), so benchmarks can report throughput per
// core even on a loaded machine, where wall time overstates the cost.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
