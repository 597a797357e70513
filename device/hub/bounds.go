package hub

import (
	"context"
	"time"
)

// recentSet remembers the last n keys added, in insertion order.
type recentSet struct {
	ring []string
	next int
	m    map[string]struct{}
}

func newRecentSet(n int) *recentSet {
	return &recentSet{ring: make([]string, max(n, 1)), m: make(map[string]struct{}, n)}
}

// add records k and reports whether it was new.
func (s *recentSet) add(k string) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.m, old)
	}
	s.ring[s.next] = k
	s.next = (s.next + 1) % len(s.ring)
	s.m[k] = struct{}{}
	return true
}

// has reports whether k is among the last n keys added.
func (s *recentSet) has(k string) bool {
	_, ok := s.m[k]
	return ok
}

// replyCache keeps the encoded replies of the last n commands by key, so a
// QoS1 duplicate is answered without running the command twice. Memory is
// bounded by n replies.
type replyCache struct {
	keys  *recentSet
	reply map[string][]byte
}

func newReplyCache(n int) *replyCache {
	return &replyCache{keys: newRecentSet(n), reply: make(map[string][]byte, n)}
}

func (c *replyCache) get(k string) ([]byte, bool) {
	b, ok := c.reply[k]
	return b, ok
}

func (c *replyCache) put(k string, b []byte) {
	evict := c.keys.ring[c.keys.next]
	if c.keys.add(k) && evict != "" {
		delete(c.reply, evict)
	}
	c.reply[k] = b
}

// limiter is a token bucket on the monotonic clock. wait blocks until a
// token is available, so under a flood commands are handled (and replied
// to) at most at rate per second after an initial burst.
type limiter struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

func (l *limiter) wait(ctx context.Context) error {
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return nil
	}
	need := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
	t := time.NewTimer(need)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	l.tokens = 0
	l.last = time.Now()
	return nil
}
