// Package control is the local control socket between the earshot CLI and
// the daemon: one JSON request and one JSON response per connection, over a
// unix socket that only root and the earshot group can open. Voice history
// (transcripts and audio) crosses this socket and nothing else.
package control

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/earshot/earshot/retention"
)

// Commands understood by the daemon.
const (
	CmdStatus  = "status"
	CmdHistory = "history"
	CmdAudio   = "audio"
	CmdDelete  = "delete"
	CmdMute    = "mute"
	CmdUnmute  = "unmute"
)

// maxRequest bounds what the server reads from a client.
const maxRequest = 64 << 10

// Request is what the CLI sends.
type Request struct {
	Cmd    string     `json:"cmd"`
	IDs    []string   `json:"ids,omitempty"`    // delete (records), audio (one id)
	All    bool       `json:"all,omitempty"`    // delete --all
	Since  *time.Time `json:"since,omitempty"`  // history --since, delete --since
	Before *time.Time `json:"before,omitempty"` // delete --before
}

// Response is what the daemon answers.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Status is the daemon's state as `earshot status` shows it.
type Status struct {
	DeviceID   string     `json:"device_id"`
	Muted      bool       `json:"muted"`
	MuteSource string     `json:"mute_source,omitempty"` // button | hub | cli
	Window     string     `json:"window"`                // effective window
	Ceiling    string     `json:"ceiling"`               // configured window
	Records    int        `json:"records"`
	Bytes      int64      `json:"bytes"`
	Oldest     *time.Time `json:"oldest"`
	Hub        string     `json:"hub"`         // connected | disconnected | none
	FramesRead uint64     `json:"frames_read"` // microphone frames read since start; still while muted
	Listening  bool       `json:"listening"`   // the capture stream is running
	Started    time.Time  `json:"started"`
	Earcons    uint64     `json:"earcons"` // earcons played to the end since start
}

// HistoryEntry is one record of the voice history. In JSON (the socket,
// `earshot history --json`) its duration is in seconds, a number.
type HistoryEntry struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	Intent     string            `json:"intent"` // "" when nothing matched
	Slots      map[string]string `json:"slots,omitempty"`
	Transcript string            `json:"transcript"`
	Duration   time.Duration     `json:"-"`
}

type historyWire struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	Intent     string            `json:"intent"`
	Slots      map[string]string `json:"slots"`
	Transcript string            `json:"transcript"`
	Duration   float64           `json:"duration"` // seconds, to the millisecond
}

func (e HistoryEntry) MarshalJSON() ([]byte, error) {
	slots := e.Slots
	if slots == nil {
		slots = map[string]string{}
	}
	return json.Marshal(historyWire{e.ID, e.Time, e.Intent, slots, e.Transcript,
		math.Round(e.Duration.Seconds()*1000) / 1000})
}

func (e *HistoryEntry) UnmarshalJSON(b []byte) error {
	var w historyWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = HistoryEntry{ID: w.ID, Time: w.Time, Intent: w.Intent, Slots: w.Slots, Transcript: w.Transcript,
		Duration: time.Duration(math.Round(w.Duration * float64(time.Second)))}
	if len(e.Slots) == 0 {
		e.Slots = nil
	}
	return nil
}

// Audio is a recording as returned for play and export.
type Audio struct {
	ID         string `json:"id"`
	SampleRate int    `json:"sample_rate"`
	PCM        []byte `json:"pcm"` // signed 16-bit little-endian mono
}

// DeleteResult is what a delete returns: the receipts of what went.
type DeleteResult struct {
	Receipts []retention.Receipt `json:"receipts"`
}

// ErrUnreachable means no daemon answered on the socket.
var ErrUnreachable = errors.New("daemon unreachable")

// ErrDenied means the socket is there but this user may not open it.
var ErrDenied = errors.New("permission denied")

// EncodePCM encodes samples as signed 16-bit little-endian bytes.
func EncodePCM(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// DecodePCM is the inverse of EncodePCM; a trailing odd byte is ignored.
func DecodePCM(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}
