package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	for _, c := range []struct {
		name      string
		doneAt    int // the look that reports done (0: never)
		errAt     int
		wantLooks int
		wantErr   func(error) bool
		wantSlept time.Duration
	}{
		{name: "done at once", doneAt: 1, wantLooks: 1, wantErr: func(err error) bool { return err == nil }},
		{name: "done on the 4th look", doneAt: 4, wantLooks: 4, wantSlept: 3 * time.Second, wantErr: func(err error) bool { return err == nil }},
		{name: "check error ends it", errAt: 2, wantLooks: 2, wantSlept: time.Second, wantErr: func(err error) bool { return errors.Is(err, boom) }},
		{name: "timeout on the clock", wantLooks: 11, wantSlept: 10 * time.Second, wantErr: func(err error) bool {
			var te *TimeoutError
			return errors.As(err, &te) && te.Last == "still 1 missing" && te.Timeout == 10*time.Second
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := NewFake(start)
			looks := 0
			var msgs []string
			err := Poll(context.Background(), clock, "thing", time.Second, 10*time.Second, func(context.Context) (bool, string, error) {
				looks++
				if looks == c.errAt {
					return false, "", boom
				}
				return looks == c.doneAt, "still 1 missing", nil
			}, func(m string) { msgs = append(msgs, m) })
			if !c.wantErr(err) {
				t.Errorf("err = %v", err)
			}
			if looks != c.wantLooks {
				t.Errorf("looks = %d, want %d", looks, c.wantLooks)
			}
			if got := clock.Slept(); got != c.wantSlept {
				t.Errorf("slept %s, want %s", got, c.wantSlept)
			}
			if looks > 1 && c.errAt == 0 && len(msgs) != 1 {
				t.Errorf("progress = %v, want the message once (it did not change)", msgs)
			}
		})
	}
}

func TestPollCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Poll(ctx, NewFake(time.Now()), "thing", time.Second, time.Minute, func(context.Context) (bool, string, error) {
		cancel()
		return false, "", nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRealSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled at once", err)
	}
}
