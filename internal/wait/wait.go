// Package wait is eksbg's one way to wait: a Clock that tells the time and
// sleeps (the real one, or a fake that moves on at once for unit tests),
// and Poll, a timer/ctx.Done loop with a (done, err) check, as eksctl's
// pkg/cfn/waiter and pkg/actions/nodegroup do. Nothing in eksbg calls
// time.Sleep in a loop or builds its own timer select.
package wait

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock tells the time and waits. Real is time's; Fake is for tests.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// Sleep waits d, or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Sleep waits d with a timer, or until ctx ends.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Fake is a clock for tests: Sleep returns at once and moves the time on by
// d, so a wait of minutes runs in microseconds and still sees the time it
// would on AWS. It is safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

// NewFake returns a fake clock at start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now is the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep moves the time on by d unless ctx has ended.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.Advance(d)
	return nil
}

// Advance moves the time on by d (d <= 0 does nothing).
func (f *Fake) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.slept += d
}

// Slept is the total time Sleep and Advance moved the clock on.
func (f *Fake) Slept() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slept
}

// TimeoutError is Poll's error when the timeout passed before the check
// was done; Last is the check's last word on what it waits for.
type TimeoutError struct {
	What    string
	Timeout time.Duration
	Last    string
}

func (e *TimeoutError) Error() string {
	if e.Last == "" {
		return fmt.Sprintf("%s: not done after %s", e.What, e.Timeout)
	}
	return fmt.Sprintf("%s: not done after %s: %s", e.What, e.Timeout, e.Last)
}

// Check is one look at what Poll waits for: done, or a message saying what
// is still missing, or an error that ends the wait.
type Check func(ctx context.Context) (done bool, msg string, err error)

// Poll calls check at once and then every interval until it is done, ctx
// ends, or timeout passes on the clock. progress, if set, gets each new
// message. An error from check ends the wait (wrapped with what); so does
// ctx, with its error. The timeout is also a context deadline, so a check
// that hangs is bounded on the real clock too.
func Poll(ctx context.Context, c Clock, what string, interval, timeout time.Duration, check Check, progress func(msg string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline := c.Now().Add(timeout)
	last := ""
	for {
		done, msg, err := check(ctx)
		switch {
		case ctx.Err() != nil && !done:
			return expired(ctx, what, timeout, last)
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case done:
			return nil
		}
		if msg != last {
			last = msg
			if progress != nil {
				progress(msg)
			}
		}
		if !c.Now().Before(deadline) {
			return &TimeoutError{What: what, Timeout: timeout, Last: last}
		}
		if err := c.Sleep(ctx, min(interval, deadline.Sub(c.Now()))); err != nil {
			return expired(ctx, what, timeout, last)
		}
	}
}

func expired(ctx context.Context, what string, timeout time.Duration, last string) error {
	if ctx.Err() == context.DeadlineExceeded {
		return &TimeoutError{What: what, Timeout: timeout, Last: last}
	}
	return fmt.Errorf("%s: %w", what, ctx.Err())
}
