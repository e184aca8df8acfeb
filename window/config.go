package window

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is returned (wrapped, naming the bad field) by
// Config.Validate.
var ErrInvalidConfig = errors.New("window: invalid config")

// Limits of Config.
const (
	// MaxSize is the largest window size.
	MaxSize = time.Hour
	// MaxOpenWindows bounds the number of windows a State keeps open. With a
	// valid Config and Close called after every Add, a State holds at most
	// ceil((Size+Grace)/Size) windows; Grace is limited so that this is at
	// most MaxOpenWindows-1.
	MaxOpenWindows = 16
)

// Config sets the windows: epoch-aligned tumbling windows [start, start+Size)
// on the packet timestamp, closed once the stream time reaches end+Grace.
type Config struct {
	// Size is the length of a window: a positive whole number of
	// milliseconds, at most MaxSize.
	Size time.Duration `yaml:"size"`
	// Grace is how long after its end a window still accepts packets; it
	// must cover producer skew. 0 <= Grace <= (MaxOpenWindows-2)*Size.
	Grace time.Duration `yaml:"grace"`
}

// DefaultConfig returns 10 s windows with 2 s of grace.
func DefaultConfig() Config {
	return Config{Size: 10 * time.Second, Grace: 2 * time.Second}
}

// Validate reports the first invalid field, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case c.Size <= 0:
		return fmt.Errorf("%w: size %v must be positive", ErrInvalidConfig, c.Size)
	case c.Size%time.Millisecond != 0:
		return fmt.Errorf("%w: size %v must be a whole number of milliseconds", ErrInvalidConfig, c.Size)
	case c.Size > MaxSize:
		return fmt.Errorf("%w: size %v exceeds %v", ErrInvalidConfig, c.Size, MaxSize)
	case c.Grace < 0:
		return fmt.Errorf("%w: grace %v must not be negative", ErrInvalidConfig, c.Grace)
	case c.Grace > (MaxOpenWindows-2)*c.Size:
		return fmt.Errorf("%w: grace %v exceeds %d windows of size %v", ErrInvalidConfig, c.Grace, MaxOpenWindows-2, c.Size)
	}
	return nil
}

// MaxOpen returns ceil((Size+Grace)/Size): the most windows a host has open
// at once when Close follows every Add.
func (c Config) MaxOpen() int {
	s := int64(c.Size)
	return int((s + int64(c.Grace) + s - 1) / s)
}

// Start returns the start of the window holding time t (ns since the epoch):
// t rounded down to a multiple of Size.
func (c Config) Start(t int64) int64 {
	s := int64(c.Size)
	r := t % s
	if r < 0 {
		r += s
	}
	return t - r
}
