package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/earshot/earshot/audio/capture/resample"
)

// MaxWAVBytes bounds the audio data ReadWAV accepts (about 4.6 hours of
// 16 kHz mono), so a corrupt header cannot make it allocate without limit.
const MaxWAVBytes = 512 << 20

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	// A data size at or above this is a streaming placeholder (arecord
	// and sox write 0x7FFFFFFF or 0xFFFFFFFF when the length is unknown):
	// read to the end of the file instead.
	wavStreamingSize = 0x7FFF0000
)

// pcmSubformat is the GUID tail of KSDATAFORMAT_SUBTYPE_PCM in an
// extensible fmt chunk; its first two bytes are the format code.
var pcmSubformat = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// ErrNotWAV is returned by ReadWAV for input that is not a RIFF/WAVE file.
var ErrNotWAV = errors.New("not a RIFF/WAVE file")

// ReadWAV reads a 16-bit PCM mono WAV file and returns its samples and
// sample rate. Anything else (stereo, 8/24/32-bit, float, compressed,
// truncated) is an error that says what the file holds and what is wanted;
// convert with `sox in.wav -r 16000 -c 1 -b 16 out.wav`.
func ReadWAV(r io.Reader) (pcm []int16, sampleRate int, err error) {
	sampleRate, size, err := readWAVHeader(r)
	if err != nil {
		return nil, 0, err
	}
	pcm, err = readData(r, size)
	return pcm, sampleRate, err
}

// readWAVHeader reads up to the start of the data chunk and returns the
// sample rate and the data chunk's declared size; r is left at the first
// sample.
func readWAVHeader(r io.Reader) (sampleRate int, dataSize uint32, err error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, fmt.Errorf("wav: reading RIFF header: %w (%w)", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, 0, fmt.Errorf("wav: header %q...%q: %w", hdr[0:4], hdr[8:12], ErrNotWAV)
	}
	var haveFmt bool
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return 0, 0, fmt.Errorf("wav: no fmt chunk before end of file")
			}
			return 0, 0, fmt.Errorf("wav: no data chunk before end of file")
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			rate, err := readFmt(r, size)
			if err != nil {
				return 0, 0, err
			}
			sampleRate, haveFmt = rate, true
		case "data":
			if !haveFmt {
				return 0, 0, fmt.Errorf("wav: data chunk before fmt chunk")
			}
			return sampleRate, size, nil
		default:
			if err := skip(r, int64(size)+int64(size&1)); err != nil {
				return 0, 0, fmt.Errorf("wav: skipping %q chunk of %d bytes: truncated file", id, size)
			}
		}
	}
}

func readFmt(r io.Reader, size uint32) (int, error) {
	if size < 16 || size > 1024 {
		return 0, fmt.Errorf("wav: fmt chunk of %d bytes, want 16..1024", size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, fmt.Errorf("wav: fmt chunk: truncated file")
	}
	format := binary.LittleEndian.Uint16(b[0:2])
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bits := binary.LittleEndian.Uint16(b[14:16])
	if format == wavFormatExtensible {
		if size < 40 || !bytes.Equal(b[26:40], pcmSubformat) {
			return 0, fmt.Errorf("wav: extensible format with a non-PCM subformat; want 16-bit PCM")
		}
		format = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case format != wavFormatPCM:
		return 0, fmt.Errorf("wav: format code %d (compressed or float), want 1 (16-bit PCM)", format)
	case channels != 1:
		return 0, fmt.Errorf("wav: %d channels, want mono (1); convert with sox in.wav -c 1 out.wav", channels)
	case bits != 16:
		return 0, fmt.Errorf("wav: %d bits per sample, want 16; convert with sox in.wav -b 16 out.wav", bits)
	case rate == 0 || rate > resample.MaxRate:
		return 0, fmt.Errorf("wav: sample rate %d Hz, want 1..%d", rate, resample.MaxRate)
	}
	return int(rate), nil
}

func readData(r io.Reader, size uint32) ([]int16, error) {
	streaming := size >= wavStreamingSize
	limit := int64(size)
	if streaming || limit > MaxWAVBytes {
		limit = MaxWAVBytes
	}
	// ReadAll grows with what is actually there instead of trusting the
	// header's size for the allocation.
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("wav: reading data: %w", err)
	}
	switch {
	case int64(len(data)) > MaxWAVBytes:
		return nil, fmt.Errorf("wav: more than %d bytes of audio, which is more than earshot plays or analyses", MaxWAVBytes)
	case !streaming && int64(len(data)) > int64(size):
		data = data[:size] // trailing chunks after data are allowed and ignored
	case !streaming && int64(len(data)) < int64(size):
		return nil, fmt.Errorf("wav: data chunk says %d bytes but the file ends after %d: truncated file", size, len(data))
	}
	if len(data)%2 != 0 {
		if !streaming {
			return nil, fmt.Errorf("wav: data chunk of %d bytes is not whole 16-bit samples", len(data))
		}
		data = data[:len(data)-1] // a streaming writer cut off mid-sample
	}
	pcm := make([]int16, len(data)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return pcm, nil
}

func skip(r io.Reader, n int64) error {
	got, err := io.CopyN(io.Discard, r, n)
	if got == n {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// WriteWAV writes pcm as a 16-bit PCM mono WAV file at sampleRate.
func WriteWAV(w io.Writer, pcm []int16, sampleRate int) error {
	if sampleRate <= 0 || sampleRate > resample.MaxRate {
		return fmt.Errorf("wav: sample rate %d Hz, want 1..%d", sampleRate, resample.MaxRate)
	}
	dataBytes := 2 * int64(len(pcm))
	if dataBytes > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d samples do not fit in a WAV file", len(pcm))
	}
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(sampleRate*2)) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)                    // block align
	binary.LittleEndian.PutUint16(h[34:], 16)                   // bits
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataBytes))
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("wav: write header: %w", err)
	}
	// Encode in chunks: a recording can be megabytes, a copy of it need not be.
	var buf [4096]byte
	for len(pcm) > 0 {
		n := min(len(pcm), len(buf)/2)
		for i, s := range pcm[:n] {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(s))
		}
		if _, err := w.Write(buf[:2*n]); err != nil {
			return fmt.Errorf("wav: write data: %w", err)
		}
		pcm = pcm[n:]
	}
	return nil
}
