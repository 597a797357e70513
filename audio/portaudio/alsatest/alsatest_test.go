package alsatest

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRawRoundTrip(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	raw := Raw(pcm)
	if !bytes.Equal(raw[:4], []byte{0, 0, 1, 0}) {
		t.Fatalf("Raw is not little-endian: % x", raw[:4])
	}
	if got := Samples(raw); !slices.Equal(got, pcm) {
		t.Fatalf("Samples(Raw(x)) = %v, want %v", got, pcm)
	}
	if got := Samples(append(raw, 7)); !slices.Equal(got, pcm) {
		t.Fatalf("a trailing odd byte changed the samples: %v", got)
	}
}

func TestConfig(t *testing.T) {
	c := Config("/tmp/in.raw", "/tmp/out.raw")
	for _, want := range []string{
		"<" + SystemConfig + ">",
		"pcm.!default",
		"type file",
		`slave.pcm "null"`,
		`infile "/tmp/in.raw"`,
		`file "/tmp/out.raw"`,
		`format "raw"`,
		"ctl.!default",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q:\n%s", want, c)
		}
	}
}

// TestInChild checks the child sees the generated configuration and data.
func TestInChild(t *testing.T) {
	raw := Raw([]int16{1, 2, 3})
	if !InChild(t, raw, "# extra block") {
		return
	}
	f := ChildFiles()
	got, err := os.ReadFile(f.Infile)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("child infile %q: %v, % x; want % x", f.Infile, err, got, raw)
	}
	conf, err := os.ReadFile(f.Config)
	if err != nil || !strings.Contains(string(conf), f.Infile) || !strings.HasSuffix(string(conf), "# extra block") {
		t.Fatalf("child ALSA_CONFIG_PATH %q: %v\n%s", f.Config, err, conf)
	}
}
