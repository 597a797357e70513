package hub

import "time"

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

// replyCache keeps, by correlation id, the last n commands handled and
// their encoded replies, so a QoS1 duplicate is answered without running
// the command twice. Memory is bounded by n replies.
type replyCache struct {
	keys    *recentSet
	handled map[string]handled
}

// handled is a command that was run: what it was, and what it answered.
type handled struct {
	command string // Command.fingerprint
	reply   []byte
}

func newReplyCache(n int) *replyCache {
	return &replyCache{keys: newRecentSet(n), handled: make(map[string]handled, n)}
}

func (c *replyCache) get(id string) (handled, bool) {
	h, ok := c.handled[id]
	return h, ok
}

func (c *replyCache) put(id string, h handled) {
	evict := c.keys.ring[c.keys.next]
	if c.keys.add(id) && evict != "" {
		delete(c.handled, evict)
	}
	c.handled[id] = h
}

// jitter spreads a backoff delay d over [d/2, d): after a broker restart
// every speaker in the house would otherwise reconnect in the same instant,
// and again at each doubling. rnd returns a number in [0, n).
func jitter(d time.Duration, rnd func(n int64) int64) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(rnd(int64(d/2)))
}
