package hub

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	netproxy "golang.org/x/net/proxy"
)

// boundedConn is the broker connection as paho reads it, with the payload
// of every PUBLISH larger than limit cut out as it streams past. paho reads
// a whole packet into memory and then copies its payload, so a single
// 64 MiB message on a command topic cost the device 200 MB; the device
// refuses such a command anyway (MaxCommandSize). The packet keeps its
// topic, QoS and packet id, so paho acknowledges it as usual, and its
// payload is replaced by a marker that tells the link how big it was.
//
// Only reads are touched, and only PUBLISH payloads: every other packet,
// and every byte of a packet within the limit, passes unchanged.
type boundedConn struct {
	net.Conn
	r       *bufio.Reader
	limit   int
	pending []byte // the next packet's (possibly rewritten) head, not yet read
	body    int    // bytes of the current packet still to pass through
	skip    int    // bytes of a cut payload still to discard
}

func newBoundedConn(c net.Conn, limit int) *boundedConn {
	return &boundedConn{Conn: c, r: bufio.NewReaderSize(c, 4096), limit: limit}
}

// cutPrefix starts the marker that stands in for a cut payload. No command
// or Home Assistant status starts with a NUL byte.
const cutPrefix = "\x00cut "

// cutSize reports the size of the payload a marker stands for.
func cutSize(payload []byte) (int, bool) {
	s, ok := strings.CutPrefix(string(payload), cutPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

var errMalformedPacket = errors.New("hub link: malformed MQTT packet from the broker")

func (c *boundedConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 && c.body == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if len(p) > c.body {
		p = p[:c.body]
	}
	n, err := c.r.Read(p)
	c.body -= n
	return n, err
}

// next reads the head of the next packet: its fixed header, and for a
// PUBLISH over the limit its topic and packet id too, which it rewrites.
func (c *boundedConn) next() error {
	if c.skip > 0 {
		if _, err := c.r.Discard(c.skip); err != nil {
			return err
		}
		c.skip = 0
	}
	first, err := c.r.ReadByte()
	if err != nil {
		return err
	}
	head := append(c.pending[:0], first)
	head, length, err := readRemainingLength(c.r, head)
	if err != nil {
		return err
	}
	if first>>4 != packets.Publish || length <= c.limit {
		c.pending, c.body = head, length
		return nil
	}
	var tl [2]byte
	if _, err := io.ReadFull(c.r, tl[:]); err != nil {
		return unexpected(err)
	}
	vh := 2 + int(binary.BigEndian.Uint16(tl[:])) // topic length and topic
	if qos := (first >> 1) & 3; qos > 0 {
		vh += 2 // packet id
	}
	if vh > length {
		return fmt.Errorf("%w: PUBLISH topic longer than the packet", errMalformedPacket)
	}
	rest := make([]byte, vh-2)
	if _, err := io.ReadFull(c.r, rest); err != nil {
		return unexpected(err)
	}
	payload := length - vh
	if payload <= c.limit {
		c.pending = append(append(head, tl[:]...), rest...)
		c.body = payload
		return nil
	}
	marker := cutPrefix + strconv.Itoa(payload)
	head = appendRemainingLength([]byte{first}, vh+len(marker))
	c.pending = append(append(append(head, tl[:]...), rest...), marker...)
	c.skip = payload
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readRemainingLength reads MQTT's variable-length integer (at most four
// bytes of seven bits each), appending its bytes as read to b.
func readRemainingLength(r io.ByteReader, b []byte) ([]byte, int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		d, err := r.ReadByte()
		if err != nil {
			return b, 0, unexpected(err)
		}
		b = append(b, d)
		n |= int(d&0x7f) << shift
		if d&0x80 == 0 {
			return b, n, nil
		}
		shift += 7
	}
	return b, 0, fmt.Errorf("%w: remaining length longer than four bytes", errMalformedPacket)
}

func appendRemainingLength(b []byte, n int) []byte {
	for {
		d := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// openConnection dials the broker as paho would (tcp, ssl, ws, wss;
// a proxy from the environment for tcp and ssl) and bounds what paho may
// read from the connection.
func (l *Link) openConnection(u *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	var c net.Conn
	var err error
	switch u.Scheme {
	case "ws", "wss":
		d := *u
		d.User = nil
		tlsc := o.TLSConfig
		if u.Scheme == "ws" {
			tlsc = nil
		}
		c, err = mqtt.NewWebsocket(d.String(), tlsc, o.ConnectTimeout, o.HTTPHeaders, o.WebsocketOptions)
	default:
		c, err = netproxy.FromEnvironmentUsing(o.Dialer).Dial("tcp", u.Host)
		if err == nil && u.Scheme == "ssl" {
			c, err = handshake(c, o.TLSConfig, o.ConnectTimeout)
		}
	}
	if err != nil {
		return nil, err
	}
	return newBoundedConn(c, MaxCommandSize), nil
}

func handshake(c net.Conn, cfg *tls.Config, timeout time.Duration) (net.Conn, error) {
	tc := tls.Client(c, cfg)
	_ = c.SetDeadline(time.Now().Add(timeout))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return tc, nil
}
