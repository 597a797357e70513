package hub

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkActionPublish measures one action from PublishAction to the
// broker's PUBACK (QoS1) against a real mosquitto on loopback.
func BenchmarkActionPublish(b *testing.B) {
	broker := newMosquitto(b, nil, nil)
	l, err := New(testConfig(broker.Addr), newFakeStore(), &fakeMuter{})
	if err != nil {
		b.Fatal(err)
	}
	delivered := make(chan string, 1)
	l.delivered = func(id string) { delivered <- id }
	startLink(b, l)
	waitUntil(b, "connected", l.Connected)

	lat := make([]time.Duration, 0, b.N)
	slots := map[string]string{"room": "kitchen"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		l.PublishAction(Action{ID: fmt.Sprint("bench-", i), Intent: "LightsOn", Slots: slots})
		<-delivered
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkCommandFlood sends bursts of 10,000 commands and reports how many
// the link handled per second with replies limited to 500/s, and how many it
// dropped at its bounded queue.
func BenchmarkCommandFlood(b *testing.B) {
	addr, _ := startBroker(b, "")
	obs := newObserver(b, "tcp://"+addr, "earshot/kitchen-speaker/availability")
	cfg := testConfig(addr)
	cfg.ReplyRate, cfg.ReplyBurst = 500, 40
	l := runLink(b, cfg, newFakeStore(), &fakeMuter{})
	obs.waitFor("online", hasPayload(topicAvail, "online"))

	const burst = 10000
	var handled, dropped uint64
	var elapsed time.Duration
	b.ResetTimer()
	for i := range b.N {
		h0, d0 := l.handledCmds.Load(), l.droppedCmds.Load()
		start := time.Now()
		for j := range burst {
			obs.client.Publish(topicCmd+"state", 1, false, fmt.Sprintf(`{"id":"f%d-%d"}`, i, j))
		}
		waitUntil(b, "flood handled", func() bool {
			return l.handledCmds.Load()-h0+l.droppedCmds.Load()-d0 >= burst
		})
		elapsed += time.Since(start)
		handled += l.handledCmds.Load() - h0
		dropped += l.droppedCmds.Load() - d0
	}
	b.StopTimer()
	b.ReportMetric(float64(handled)/elapsed.Seconds(), "handled/s")
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
	b.ReportMetric(float64(handled)/float64(b.N), "handled/op")
}

// BenchmarkOutboxMemory reports the heap held by a full outbox (the bound
// while the broker is unreachable).
func BenchmarkOutboxMemory(b *testing.B) {
	cfg := testConfig("127.0.0.1:1")
	b.ReportAllocs()
	var held uint64
	for range b.N {
		l, err := New(cfg, newFakeStore(), &fakeMuter{})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := range l.cfg.OutboxSize * 2 { // overfill: the oldest are dropped
			l.PublishAction(Action{
				ID: fmt.Sprintf("01J%023d", j), Time: time.Now(), Intent: "LightsOn",
				Slots: map[string]string{"room": "living room", "level": strings.Repeat("9", 3)},
			})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(held), "outbox-bytes")
	b.ReportMetric(float64(held)/float64(defaultOutbox), "bytes/action")
}

func BenchmarkDecodeCommand(b *testing.B) {
	payload := []byte(`{"id":"c-1764270000","scope":"before","time":"2026-11-27T10:00:00+01:00"}`)
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeCommand(CmdDelete, payload); err != nil {
			b.Fatal(err)
		}
	}
}
