package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// wavBytes builds a WAV file by hand so tests control every field.
type wavSpec struct {
	format     uint16
	channels   uint16
	rate       uint32
	bits       uint16
	fmtSize    uint32 // 0 means 16
	extensible []byte // subformat GUID tail for format 0xFFFE
	before     []byte // chunks between fmt and data
	dataSize   uint32 // 0xFFFFFFFF etc. to override; 0 means len(data)
	data       []byte
	noData     bool
}

func (w wavSpec) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0)) // readers ignore the RIFF size
	b.WriteString("WAVE")
	fmtBody := new(bytes.Buffer)
	binary.Write(fmtBody, binary.LittleEndian, w.format)
	binary.Write(fmtBody, binary.LittleEndian, w.channels)
	binary.Write(fmtBody, binary.LittleEndian, w.rate)
	binary.Write(fmtBody, binary.LittleEndian, w.rate*uint32(w.channels)*uint32(w.bits)/8)
	binary.Write(fmtBody, binary.LittleEndian, w.channels*w.bits/8)
	binary.Write(fmtBody, binary.LittleEndian, w.bits)
	if w.format == wavFormatExtensible {
		binary.Write(fmtBody, binary.LittleEndian, uint16(22))
		binary.Write(fmtBody, binary.LittleEndian, w.bits)
		binary.Write(fmtBody, binary.LittleEndian, uint32(4)) // channel mask
		fmtBody.Write(w.extensible)
	}
	size := w.fmtSize
	if size == 0 {
		size = uint32(fmtBody.Len())
	}
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, size)
	b.Write(fmtBody.Bytes())
	b.Write(w.before)
	if !w.noData {
		b.WriteString("data")
		ds := w.dataSize
		if ds == 0 {
			ds = uint32(len(w.data))
		}
		binary.Write(&b, binary.LittleEndian, ds)
		b.Write(w.data)
	}
	return b.Bytes()
}

func le16(s ...int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestWAVRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
		rate int
	}{
		{"empty", nil, 16000},
		{"extremes", []int16{0, 1, -1, 32767, -32768}, 16000},
		{"48k", []int16{5, 6, 7}, 48000},
		{"longer than one write chunk", make([]int16, 5000), 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.pcm {
				if len(tt.pcm) > 100 {
					tt.pcm[i] = int16(i * 7)
				}
			}
			var b bytes.Buffer
			if err := WriteWAV(&b, tt.pcm, tt.rate); err != nil {
				t.Fatal(err)
			}
			if b.Len() != 44+2*len(tt.pcm) {
				t.Errorf("file is %d bytes, want %d", b.Len(), 44+2*len(tt.pcm))
			}
			pcm, rate, err := ReadWAV(&b)
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || !slices.Equal(pcm, tt.pcm) && len(pcm)+len(tt.pcm) > 0 {
				t.Fatalf("got %d samples at %d Hz, want %d at %d", len(pcm), rate, len(tt.pcm), tt.rate)
			}
		})
	}
}

func TestReadWAVAccepts(t *testing.T) {
	mono16 := wavSpec{format: 1, channels: 1, rate: 16000, bits: 16, data: le16(1, 2, 3)}
	tests := []struct {
		name string
		spec func(w *wavSpec)
		want []int16
	}{
		{"plain", func(w *wavSpec) {}, []int16{1, 2, 3}},
		{"LIST chunk before data, odd size padded", func(w *wavSpec) {
			w.before = append([]byte("LIST\x03\x00\x00\x00abc"), 0)
		}, []int16{1, 2, 3}},
		{"extensible PCM", func(w *wavSpec) {
			w.format = wavFormatExtensible
			w.extensible = append([]byte{1, 0}, pcmSubformat...)
		}, []int16{1, 2, 3}},
		{"streaming size 0xFFFFFFFF", func(w *wavSpec) { w.dataSize = 0xFFFFFFFF }, []int16{1, 2, 3}},
		{"streaming size cut mid-sample", func(w *wavSpec) {
			w.dataSize = 0x7FFFFFFF
			w.data = append(w.data, 9)
		}, []int16{1, 2, 3}},
		{"trailing chunk after data", func(w *wavSpec) {
			w.dataSize = 6
			w.data = append(w.data, []byte("LIST\x00\x00\x00\x00")...)
		}, []int16{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mono16
			tt.spec(&w)
			pcm, rate, err := ReadWAV(bytes.NewReader(w.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if rate != 16000 || !slices.Equal(pcm, tt.want) {
				t.Fatalf("got %v at %d Hz, want %v at 16000", pcm, rate, tt.want)
			}
		})
	}
}

func TestReadWAVRejects(t *testing.T) {
	mono16 := wavSpec{format: 1, channels: 1, rate: 16000, bits: 16, data: le16(1, 2, 3)}
	tests := []struct {
		name string
		raw  []byte // used when spec is nil
		spec func(w *wavSpec)
		want string
	}{
		{"empty", []byte{}, nil, "not a RIFF/WAVE file"},
		{"mp3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"), nil, "not a RIFF/WAVE file"},
		{"RIFF but not WAVE", []byte("RIFF\x00\x00\x00\x00AVI LIST"), nil, "not a RIFF/WAVE file"},
		{"stereo", nil, func(w *wavSpec) { w.channels = 2 }, "2 channels, want mono"},
		{"8-bit", nil, func(w *wavSpec) { w.bits = 8 }, "8 bits per sample, want 16"},
		{"24-bit", nil, func(w *wavSpec) { w.bits = 24 }, "24 bits per sample, want 16"},
		{"float", nil, func(w *wavSpec) { w.format = 3; w.bits = 32 }, "format code 3"},
		{"extensible float", nil, func(w *wavSpec) {
			w.format = wavFormatExtensible
			w.extensible = append([]byte{3, 0}, pcmSubformat[:13]...)
			w.extensible = append(w.extensible, 0x72)
		}, "non-PCM subformat"},
		{"zero rate", nil, func(w *wavSpec) { w.rate = 0 }, "sample rate 0 Hz"},
		{"absurd rate", nil, func(w *wavSpec) { w.rate = 1 << 30 }, "sample rate"},
		{"fmt too small", nil, func(w *wavSpec) { w.fmtSize = 8 }, "fmt chunk of 8 bytes"},
		{"truncated data", nil, func(w *wavSpec) { w.dataSize = 100 }, "says 100 bytes but the file ends after 6"},
		{"odd data", nil, func(w *wavSpec) { w.data = append(w.data, 1) }, "not whole 16-bit samples"},
		{"no data chunk", nil, func(w *wavSpec) { w.noData = true }, "no data chunk"},
		{"truncated chunk", nil, func(w *wavSpec) { w.before = []byte("LIST\xff\x00\x00\x00ab"); w.noData = true }, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if tt.spec != nil {
				w := mono16
				tt.spec(&w)
				raw = w.bytes()
			}
			_, _, err := ReadWAV(bytes.NewReader(raw))
			if err == nil {
				t.Fatalf("ReadWAV succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadWAV error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, _, err := ReadWAV(strings.NewReader("hello")); !errors.Is(err, ErrNotWAV) {
		t.Errorf("ReadWAV(text) = %v, want ErrNotWAV", err)
	}
}

func TestWriteWAVRejectsBadRate(t *testing.T) {
	for _, r := range []int{0, -16000, 1 << 30} {
		if err := WriteWAV(new(bytes.Buffer), []int16{1}, r); err == nil {
			t.Errorf("WriteWAV at %d Hz succeeded, want error", r)
		}
	}
}

// FuzzReadWAV checks that any input either fails cleanly or yields samples
// that survive a write/read round trip.
func FuzzReadWAV(f *testing.F) {
	var b bytes.Buffer
	WriteWAV(&b, []int16{1, -2, 3}, 16000)
	f.Add(b.Bytes())
	f.Add(wavSpec{format: wavFormatExtensible, channels: 1, rate: 44100, bits: 16,
		extensible: append([]byte{1, 0}, pcmSubformat...), data: le16(4, 5)}.bytes())
	f.Add(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: 0xFFFFFFFF, data: le16(7),
		before: []byte("LIST\x01\x00\x00\x00x\x00")}.bytes())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, rate, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteWAV(&out, pcm, rate); err != nil {
			t.Fatalf("read %d samples at %d Hz but cannot write them back: %v", len(pcm), rate, err)
		}
		pcm2, rate2, err := ReadWAV(&out)
		if err != nil || rate2 != rate || !slices.Equal(pcm, pcm2) {
			t.Fatalf("round trip changed the audio: %v", err)
		}
	})
}
