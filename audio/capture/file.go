package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/earshot/earshot/audio"
	"github.com/earshot/earshot/audio/capture/resample"
)

// ErrClosed is returned by a FileSource's Read and Start after Close.
var ErrClosed = errors.New("capture: source closed")

// FileOptions configure OpenFile.
type FileOptions struct {
	// Realtime paces Read like a microphone: each 20 ms frame becomes
	// available 20 ms after the previous one. Otherwise Read returns as
	// fast as it is called (tests, evaluation).
	Realtime bool
	// Loop restarts the file at its end instead of returning io.EOF.
	Loop bool
	// Logger receives the resampling notice; nil discards.
	Logger *slog.Logger
}

// FileSource plays a WAV file as if it were a microphone. It implements
// audio.Source. Like a microphone it opens stopped: Read returns
// audio.ErrStopped until Start. Stop keeps the position, so after Start the
// file continues where it was; nothing is consumed while stopped.
type FileSource struct {
	path     string
	pcm      []int16  // the audio, when held in memory
	file     *os.File // or the open WAV, read a frame at a time
	dataOff  int64    // offset of the first sample in file
	scratch  []byte   // one frame of file bytes, reused so Read does not allocate
	n        int      // samples in all
	realtime bool
	loop     bool

	mu      sync.Mutex
	pos     int
	running bool
	closed  bool
	stop    chan struct{} // closed by Stop and Close to wake a pacing Read
	epoch   time.Time     // when Start was called
	paced   int64         // frames delivered since epoch
	timer   *time.Timer   // reused for pacing so Read does not allocate

	framesRead atomic.Uint64
}

// OpenFile opens a 16-bit mono WAV file. A 16 kHz file is streamed from
// disk a frame at a time, so a long recording costs no memory; other rates
// are read whole and resampled to 16 kHz.
func OpenFile(path string, opts FileOptions) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	cr := &countingReader{r: f}
	rate, size, err := readWAVHeader(cr)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	if rate == audio.SampleRate {
		if s, err := streamFile(path, f, cr.n, size, opts); err == nil {
			return s, nil
		} else if !errors.Is(err, errNotSeekable) {
			f.Close()
			return nil, fmt.Errorf("capture: %s: %w", path, err)
		}
	}
	defer f.Close()
	pcm, err := readData(cr, size)
	if err != nil {
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	if rate != audio.SampleRate {
		if opts.Logger != nil {
			opts.Logger.Debug("resampling input file", "path", path, "from_hz", rate, "to_hz", audio.SampleRate)
		}
		if pcm, err = resample.PCM(pcm, rate, audio.SampleRate); err != nil {
			return nil, fmt.Errorf("capture: %s: %w", path, err)
		}
	}
	return NewPCMSource(path, pcm, opts), nil
}

var errNotSeekable = errors.New("not a regular file")

// streamFile makes a source that reads f's samples in place.
func streamFile(path string, f *os.File, off int64, size uint32, opts FileOptions) (*FileSource, error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, errNotSeekable // a pipe or device: read it whole instead
	}
	avail := fi.Size() - off
	n := int64(size)
	switch {
	case size >= wavStreamingSize: // length unknown when written: to the end
		n = avail
	case n > avail:
		return nil, fmt.Errorf("wav: data chunk says %d bytes but the file ends after %d: truncated file", size, avail)
	}
	s := NewPCMSource(path, nil, opts)
	s.file, s.dataOff, s.n = f, off, int(n/2)
	s.scratch = make([]byte, 2*audio.FrameSamples)
	return s, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewPCMSource returns a source that plays pcm (16 kHz mono) as OpenFile's
// source plays a file; name appears in errors. It keeps pcm, not a copy.
func NewPCMSource(name string, pcm []int16, opts FileOptions) *FileSource {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &FileSource{path: name, pcm: pcm, n: len(pcm), realtime: opts.Realtime, loop: opts.Loop, timer: t}
}

// Duration returns the length of the audio.
func (s *FileSource) Duration() time.Duration {
	return time.Duration(s.n) * time.Second / audio.SampleRate
}

// FramesRead returns the number of frames Read has delivered.
func (s *FileSource) FramesRead() uint64 { return s.framesRead.Load() }

// Start starts (or resumes) the source. Starting a running source does
// nothing.
func (s *FileSource) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if !s.running {
		s.running = true
		s.stop = make(chan struct{})
		s.epoch = time.Now()
		s.paced = 0
	}
	return nil
}

// Stop stops the source; a Read waiting on pacing returns audio.ErrStopped.
func (s *FileSource) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	return nil
}

func (s *FileSource) stopLocked() {
	if s.running {
		s.running = false
		close(s.stop)
	}
}

// Close stops the source for good. It is idempotent.
func (s *FileSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	if !s.closed && s.file != nil {
		s.file.Close()
	}
	s.closed = true
	return nil
}

// Read fills buf, whose length must be a multiple of audio.FrameSamples. At
// the end of the file the last frame is padded with silence and the next
// Read returns io.EOF (unless Loop).
func (s *FileSource) Read(buf []int16) error {
	if len(buf)%audio.FrameSamples != 0 {
		return fmt.Errorf("capture: read of %d samples from %s: want a multiple of %d", len(buf), s.path, audio.FrameSamples)
	}
	for off := 0; off < len(buf); off += audio.FrameSamples {
		eof, err := s.readFrame(buf[off : off+audio.FrameSamples])
		if err != nil {
			return err
		}
		if eof {
			if off == 0 {
				return io.EOF
			}
			clear(buf[off:])
			return nil
		}
	}
	return nil
}

// readFrame fills one frame; eof reports that the file had nothing left.
func (s *FileSource) readFrame(dst []int16) (eof bool, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	if !s.running {
		s.mu.Unlock()
		return false, audio.ErrStopped
	}
	if s.pos >= s.n && s.loop && s.n > 0 {
		s.pos = 0
	}
	if s.pos >= s.n {
		s.mu.Unlock()
		return true, nil
	}
	if s.realtime {
		// A microphone hands over frame k once it has been recorded, at
		// epoch + (k+1) x 20 ms. Pacing against the epoch, not the last
		// Read, keeps a slow reader from drifting.
		due := s.epoch.Add(time.Duration(s.paced+1) * audio.FrameDuration)
		stop := s.stop
		s.mu.Unlock()
		if wait := time.Until(due); wait > 0 {
			s.timer.Reset(wait)
			select {
			case <-s.timer.C:
			case <-stop:
				s.timer.Stop()
				return false, audio.ErrStopped
			}
		}
		s.mu.Lock()
		if !s.running || s.stop != stop {
			// Stopped (and maybe restarted) while waiting: this frame
			// belongs to the old run.
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return false, ErrClosed
			}
			return false, audio.ErrStopped
		}
		s.paced++
	}
	n, err := s.copyAt(dst, s.pos)
	if err != nil {
		s.mu.Unlock()
		return false, err
	}
	clear(dst[n:])
	s.pos += n
	if n < len(dst) && s.loop {
		// Wrap mid-frame so a looping source has no gap of silence.
		if s.pos, err = s.copyAt(dst[n:], 0); err != nil {
			s.mu.Unlock()
			return false, err
		}
	}
	s.mu.Unlock()
	s.framesRead.Add(1)
	return false, nil
}

// copyAt copies samples from position pos into dst and returns how many.
func (s *FileSource) copyAt(dst []int16, pos int) (int, error) {
	if s.file == nil {
		return copy(dst, s.pcm[pos:]), nil
	}
	n := min(len(dst), s.n-pos, len(s.scratch)/2)
	b := s.scratch[:2*n]
	if _, err := s.file.ReadAt(b, s.dataOff+2*int64(pos)); err != nil {
		return 0, fmt.Errorf("capture: reading %s: %w", s.path, err)
	}
	for i := range n {
		dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return n, nil
}
