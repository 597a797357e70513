package hub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// publishHeader encodes an MQTT PUBLISH with the payload's length only: the
// payload itself is streamed by the caller.
func publishHeader(topic string, qos byte, id uint16, payloadLen int) []byte {
	vh := binary.BigEndian.AppendUint16(nil, uint16(len(topic)))
	vh = append(vh, topic...)
	if qos > 0 {
		vh = binary.BigEndian.AppendUint16(vh, id)
	}
	b := []byte{packets.Publish<<4 | qos<<1}
	b = appendRemainingLength(b, len(vh)+payloadLen)
	return append(b, vh...)
}

func encodePacket(t testing.TB, p packets.ControlPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zeros streams n zero bytes without holding them.
type zeros struct{ n int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), z.n)
	clear(p[:n])
	z.n -= n
	return n, nil
}

// A 64 MiB command took the daemon from 31 to 233 MB: paho reads a whole
// packet into one buffer and copies the payload into a second. The link's
// connection cuts such a payload as it streams past, so paho reads a few
// bytes in its place and the hub still gets an answer naming the size.
func TestOversizedPublishIsCutBeforePahoReadsIt(t *testing.T) {
	const huge = 64 << 20
	small := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	small.TopicName, small.Qos, small.MessageID, small.Payload = "earshot/den/cmd/state", 1, 7, []byte(`{"id":"a"}`)
	connack := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)

	device, broker := net.Pipe()
	defer device.Close()
	go func() {
		defer broker.Close()
		w := func(r io.Reader) bool { _, err := io.Copy(broker, r); return err == nil }
		_ = w(bytes.NewReader(encodePacket(t, connack))) &&
			w(bytes.NewReader(publishHeader("earshot/den/cmd/state", 1, 9, huge))) &&
			w(&zeros{huge}) &&
			w(bytes.NewReader(encodePacket(t, small)))
	}()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conn := newBoundedConn(device, MaxCommandSize)
	var got []packets.ControlPacket
	for {
		p, err := packets.ReadPacket(conn)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read packet %d: %v", len(got), err)
			}
			break
		}
		got = append(got, p)
	}
	runtime.ReadMemStats(&after)

	if len(got) != 3 {
		t.Fatalf("read %d packets, want 3: %v", len(got), got)
	}
	if _, ok := got[0].(*packets.ConnackPacket); !ok {
		t.Errorf("first packet %v, want the CONNACK untouched", got[0])
	}
	cut, ok := got[1].(*packets.PublishPacket)
	if !ok || cut.TopicName != "earshot/den/cmd/state" || cut.MessageID != 9 || cut.Qos != 1 {
		t.Fatalf("cut packet %v: want the same topic, QoS and packet id (the broker expects its PUBACK)", got[1])
	}
	if size, ok := cutSize(cut.Payload); !ok || size != huge {
		t.Errorf("cut payload %q: want the marker for %d bytes", cut.Payload, huge)
	}
	if last := got[2].(*packets.PublishPacket); last.MessageID != 7 || !bytes.Equal(last.Payload, small.Payload) {
		t.Errorf("packet after the cut one: %v %q", last, last.Payload)
	}
	// paho alone allocates 2 × 64 MiB here.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading a 64 MiB PUBLISH allocated %d bytes", alloc)
	}
}

func TestBoundedConnPassesEverythingElse(t *testing.T) {
	var stream []byte
	for _, p := range []packets.ControlPacket{
		packets.NewControlPacket(packets.Connack),
		packets.NewControlPacket(packets.Suback),
		packets.NewControlPacket(packets.Pingresp),
		&packets.PublishPacket{FixedHeader: packets.FixedHeader{MessageType: packets.Publish, Retain: true}, TopicName: "homeassistant/status", Payload: []byte("online")},
		&packets.PublishPacket{FixedHeader: packets.FixedHeader{MessageType: packets.Publish, Qos: 1}, TopicName: "a/b", MessageID: 3, Payload: bytes.Repeat([]byte("x"), MaxCommandSize)},
	} {
		stream = append(stream, encodePacket(t, p)...)
	}
	// A PUBLISH whose topic alone is longer than the limit still passes:
	// only payloads are cut.
	long := bytes.Repeat([]byte("t"), 2*MaxCommandSize)
	stream = append(stream, publishHeader(string(long), 0, 0, 2)...)
	stream = append(stream, "{}"...)

	out, err := io.ReadAll(newBoundedConn(&readConn{r: bytes.NewReader(stream)}, MaxCommandSize))
	if err != nil || !bytes.Equal(out, stream) {
		t.Errorf("stream changed: err %v, %d bytes in, %d out", err, len(stream), len(out))
	}
}

func TestBoundedConnRefusesMalformedLengths(t *testing.T) {
	for name, in := range map[string][]byte{
		"five length bytes":    {packets.Publish << 4, 0x80, 0x80, 0x80, 0x80, 0x01},
		"topic past the end":   append(append(appendRemainingLength([]byte{packets.Publish << 4}, MaxCommandSize+10), 0xff, 0xff), make([]byte, MaxCommandSize+10)...),
		"cut short in the hdr": {packets.Publish << 4, 0x80},
	} {
		_, err := io.ReadAll(newBoundedConn(&readConn{r: bytes.NewReader(in)}, MaxCommandSize))
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// readConn is a net.Conn that only reads.
type readConn struct {
	net.Conn
	r io.Reader
}

func (c *readConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// FuzzBoundedConn: whatever the broker sends, the connection never panics
// or hangs, passes a stream with nothing to cut unchanged, and paho never
// reads a PUBLISH payload over the limit from it.
func FuzzBoundedConn(f *testing.F) {
	f.Add(append(publishHeader("c/state", 1, 1, 20), bytes.Repeat([]byte("p"), 20)...), 8)
	f.Add(append(publishHeader("c", 0, 0, 3), "abc"...), 8)
	f.Add([]byte{0x20, 0x02, 0x00, 0x00, 0xd0, 0x00}, 8)
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0x7f}, 8)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit = max(0, min(limit, 64))
		out, _ := io.ReadAll(newBoundedConn(&readConn{r: bytes.NewReader(in)}, limit))
		if len(out) > len(in)+64 && len(out) > 2*len(in) {
			t.Fatalf("%d bytes in, %d out", len(in), len(out))
		}
		for rest := out; len(rest) > 0; {
			// Only whole packets: paho allocates what a header declares.
			r := bytes.NewReader(rest[1:])
			_, n, err := readRemainingLength(r, nil)
			whole := len(rest) - r.Len() + n
			if err != nil || whole > len(rest) {
				break
			}
			p, err := packets.ReadPacket(bytes.NewReader(rest[:whole]))
			rest = rest[whole:]
			if err != nil {
				break
			}
			if pub, ok := p.(*packets.PublishPacket); ok && len(pub.Payload) > limit {
				if _, cut := cutSize(pub.Payload); !cut {
					t.Fatalf("paho read a payload of %d bytes past the limit %d", len(pub.Payload), limit)
				}
			}
		}
		// What is not cut passes unchanged, up to where it stops being MQTT.
		if !bytes.Contains(out, []byte(cutPrefix)) && !bytes.HasPrefix(in, out) {
			t.Fatalf("nothing to cut, but the stream changed:\n in %x\nout %x", in, out)
		}
	})
}
