package daemon

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot/earshot/audio/listen"
)

// stuckListener stands in for a listener busy with one frame for as long
// as a test likes, as one reading a command with the second opinion is
// for a second or more; no real listener can be made that slow on demand.
type stuckListener struct {
	listen.Recognizer
	at      uint64        // the frame it sticks on
	stuck   chan struct{} // closed when it sticks
	release chan struct{} // close to let it go on
	fed     atomic.Uint64
	resets  atomic.Uint64
	once    sync.Once
	let     sync.Once
}

// stuckAt returns a listener that sticks on frame n until go on is
// called (or the test ends).
func stuckAt(t *testing.T, n uint64) *stuckListener {
	s := &stuckListener{at: n, stuck: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(s.goOn)
	return s
}

func (s *stuckListener) goOn() { s.let.Do(func() { close(s.release) }) }

func (s *stuckListener) Feed(frame []int16) (listen.Utterance, bool, error) {
	if s.fed.Add(1) == s.at {
		s.once.Do(func() { close(s.stuck) })
		<-s.release
	}
	return s.Recognizer.Feed(frame)
}

func (s *stuckListener) Reset() {
	s.resets.Add(1)
	s.Recognizer.Reset()
}

// TestAListenerBusyWithACommandMissesNothingAndMuteStillStops: the
// microphone is read while the listener is busy, and what it hears then
// is queued for the listener, not lost; a mute stops the stream at once
// however busy the listener is, and what was queued goes with it.
func TestAListenerBusyWithACommandMissesNothingAndMuteStillStops(t *testing.T) {
	s := stuckAt(t, 10)
	r := newRigWith(t, rigSetup{daemon: func(d *Daemon) {
		s.Recognizer = d.listener
		d.listener = s
	}})
	<-s.stuck
	read := r.status().FramesRead
	// Half a second of real-time input read while the listener is stuck.
	r.waitFor("frames read while the listener is busy", func() bool { return r.status().FramesRead >= read+25 })
	r.press(100 * time.Millisecond)
	r.waitFor("the stream stopped while the listener is busy", func() bool { return !r.status().Listening })
	if s.fed.Load() != s.at {
		t.Fatalf("fed %d frames while stuck on frame %d", s.fed.Load(), s.at)
	}
	s.goOn()
	// The mute's mark reaches the listener, after no frame queued
	// before it: those went with the mute.
	r.waitFor("the listener reset", func() bool { return s.resets.Load() > 0 })
	if fed := s.fed.Load(); fed != s.at {
		t.Errorf("the listener was fed %d frames queued before the mute", fed-s.at)
	}
	r.press(100 * time.Millisecond)
	r.waitFor("listening again", func() bool { return r.status().Listening && s.fed.Load() > s.at+25 })
	if st := r.status(); st.FramesDropped != 0 {
		t.Errorf("%d frames dropped with a queue of %d", st.FramesDropped, r.d.queue)
	}
}

// TestAListenerTooFarBehindDropsTheNewest: past the queue, the newest
// frames are dropped and counted, and the daemon goes on.
func TestAListenerTooFarBehindDropsTheNewest(t *testing.T) {
	s := stuckAt(t, 5)
	r := newRigWith(t, rigSetup{daemon: func(d *Daemon) {
		s.Recognizer = d.listener
		d.listener = s
		d.queue = 10
	}})
	<-s.stuck
	r.waitFor("frames dropped", func() bool { return r.status().FramesDropped >= 5 })
	s.goOn()
	dropped := r.status().FramesDropped
	r.waitFor("the listener caught up", func() bool { return s.fed.Load() >= s.at+50 })
	// Fed: what was queued, then what came after.
	if now := r.status().FramesDropped; now > dropped+2 {
		t.Errorf("dropping went on after the listener caught up: %d -> %d", dropped, now)
	}
}
