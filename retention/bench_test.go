package retention

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const benchRecords = 10_000

var (
	benchOnce     sync.Once
	benchTemplate string // a store of 10k records, copied per benchmark
	benchErr      error
)

func benchOptions(clk *fakeClock) Options {
	return Options{
		Window: 24 * time.Hour, Clock: clk.Now, Monotonic: clk.Mono,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// template10k builds, once per process, a store of 10k records one second
// apart, each with 50 ms of audio (10k four-second utterances would be
// 1.3 GB; the index and the per-record work are the same).
func template10k(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "earshot-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchTemplate = dir
		clk := newFakeClock(epoch.Add(benchRecords * time.Second))
		s, err := Open(dir, benchOptions(clk))
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		pcm := tone(800, 1)
		for i := range benchRecords {
			r := Record{Time: epoch.Add(time.Duration(i) * time.Second), Transcript: "turn on the kitchen lights", Intent: "LightsOn", Slots: map[string]string{"room": "kitchen"}}
			if _, err := s.Append(r, pcm); err != nil {
				benchErr = err
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchTemplate
}

func copyStore(b *testing.B, src, dst string) {
	ents, err := os.ReadDir(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, de := range ents {
		if !de.Type().IsRegular() || de.Name() == lockFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, de.Name()), data, 0o600)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend4s(b *testing.B) {
	clk := newFakeClock(epoch)
	s, err := Open(b.TempDir(), benchOptions(clk))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pcm := tone(4*sampleRate, 1)
	rec := Record{Transcript: "set a timer for five minutes", Intent: "SetTimer", Slots: map[string]string{"minutes": "5"}}
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(pcm)))
	b.ResetTimer()
	for i := range b.N {
		if i%256 == 255 { // keep the disk use bounded; not part of an append
			b.StopTimer()
			s.DeleteAll()
			b.StartTimer()
		}
		if _, err := s.Append(rec, pcm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkDeleteAll10k(b *testing.B) {
	tmpl := template10k(b)
	clk := newFakeClock(epoch.Add(benchRecords * time.Second))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		copyStore(b, tmpl, dir)
		s, err := Open(dir, benchOptions(clk))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rc, err := s.DeleteAll()
		b.StopTimer()
		if err != nil || rc.Records != benchRecords {
			b.Fatalf("DeleteAll = %+v, %v", rc, err)
		}
		s.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkOpen10k(b *testing.B) {
	dir := b.TempDir()
	copyStore(b, template10k(b), dir)
	clk := newFakeClock(epoch.Add(benchRecords * time.Second))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, err := Open(dir, benchOptions(clk))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if st := s.Stats(); st.Records != benchRecords {
			b.Fatalf("opened %d records", st.Records)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkEnforceOneExpiredOf10k(b *testing.B) {
	dir := b.TempDir()
	copyStore(b, template10k(b), dir)
	clk := newFakeClock(epoch.Add(benchRecords * time.Second))
	o := benchOptions(clk)
	s, err := Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pcm := tone(800, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Record i (stored at epoch+i s) expires now; nothing else does.
		clk.Set(epoch.Add(time.Duration(i)*time.Second + o.Window))
		rs, err := s.Enforce(time.Time{})
		if err != nil || len(rs) != 1 || rs[0].Records != 1 {
			b.Fatalf("Enforce = %+v, %v", rs, err)
		}
		b.StopTimer() // keep 10k records: add one at the new end
		if _, err := s.Append(Record{Time: epoch.Add(time.Duration(benchRecords+i) * time.Second)}, pcm); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}
