package sphinx

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseDictionary(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Dictionary
		wantErr string
	}{
		{"variants", "hey HH EY\njarvis JH AA R V AH S\njarvis(2) JH AA R V IH S\n",
			Dictionary{"hey": {"HH EY"}, "jarvis": {"JH AA R V AH S", "JH AA R V IH S"}}, ""},
		{"comments and case", ";;; header\n# note\n\nLIGHTS L AY T S\n", Dictionary{"lights": {"L AY T S"}}, ""},
		{"word without phones", "hey HH EY\nbroken\n", nil, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDictionary(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLookupWords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.dict")
	if err := os.WriteFile(path, []byte("hey HH EY\njarvis JH AA R V AH S\nlights L AY T S\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, missing, err := LookupWords(path, []string{"Hey", "jarvis", "zzyzx", "qqq", "zzyzx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Dictionary{"hey": {"HH EY"}, "jarvis": {"JH AA R V AH S"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("words = %v, want %v", got, want)
	}
	if want := []string{"qqq", "zzyzx"}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %v, want %v", missing, want)
	}
	if _, _, err := LookupWords(filepath.Join(t.TempDir(), "none.dict"), nil); err == nil {
		t.Error("missing dictionary file: no error")
	}
}

func TestSoundAlikes(t *testing.T) {
	dict := strings.Join([]string{
		"jarvis JH AA R V AH S",
		"jarvis'(2) JH AA R V AH S", // not a plain word
		"jervis JH ER V AH S",       // one phone short
		"marvin M AA R V AH N",      // two substitutions
		"harvest HH AA R V AH S T",  // one substitution, one extra phone
		"sarvis S AA R V AH S",      // one substitution
		"sarvis(2) S AA R V IH S",
		"jarvin JH AA R V IH N",          // two substitutions
		"jars JH AA R Z",                 // a part of the word: phones missing
		"jarvises JH AA R V AH S AH Z",   // two extra phones
		"garbanzos G AA R B AE N Z OW S", // too far
		"jarviss JH AA R V AH S",         // a homophone
		"Marvel M AA R V AH L",           // upper case is not read as a word here
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "d.dict")
	if err := os.WriteFile(path, []byte(dict), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := SoundAlikes(path, []string{"JH AA R V AH S"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := Dictionary{
		"marvin":   {"M AA R V AH N"},
		"harvest":  {"HH AA R V AH S T"},
		"sarvis":   {"S AA R V AH S", "S AA R V IH S"},
		"jarvin":   {"JH AA R V IH N"},
		"jarvises": {"JH AA R V AH S AH Z"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("within 2 edits: got %v, want %v", got, want)
	}
	got, err = SoundAlikes(path, []string{"JH AA R V AH S"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// (Only the near pronunciations of a word: its others are further off.)
	if want := (Dictionary{"sarvis": {"S AA R V AH S"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("within 1 edit: got %v, want %v", got, want)
	}
	if _, err := SoundAlikes(filepath.Join(t.TempDir(), "none.dict"), []string{"HH EY"}, 1); err == nil {
		t.Error("missing dictionary file: no error")
	}
}

func TestPhoneEdits(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"JH AA R V AH S", "JH AA R V AH S", 2, 0},
		{"JH AA R V AH S", "M AA R V AH N", 2, 2},
		{"JH AA R V AH S", "HH AA R V AH S T", 2, 2},
		{"JH AA R V AH S", "AA JH AA R V AH S", 2, 1}, // an extra phone in front
		{"JH AA R V AH S", "JH AA R V AH", 2, 3},      // a phone missing: never
		{"JH AA R V AH S", "G AA R B AE N Z OW S", 2, 3},
		{"HH EY", "S EY", 1, 1},
		{"HH EY", "EY", 1, 2},
	}
	for _, tt := range tests {
		var b [][]byte
		for _, p := range strings.Fields(tt.b) {
			b = append(b, []byte(p))
		}
		row := make([]int, len(b)+1)
		if got := phoneEdits(strings.Fields(tt.a), b, tt.limit, row); got != tt.want {
			t.Errorf("phoneEdits(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

// BenchmarkSoundAlikes scans the installed 134k-word dictionary, as the
// daemon does once at start.
func BenchmarkSoundAlikes(b *testing.B) {
	path := DictionaryPath("")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SoundAlikes(path, []string{"JH AA R V AH S"}, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseDictionary(f *testing.F) {
	f.Add("hey HH EY\njarvis(2) JH AA R V IH S\n")
	f.Add(";;; c\nx\n")
	f.Add("a(\nb) B\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDictionary(strings.NewReader(in))
		if err != nil {
			return
		}
		for w, ps := range d {
			if w == "" || strings.ContainsAny(w, " \t") || len(ps) == 0 {
				t.Fatalf("bad entry %q -> %q", w, ps)
			}
		}
	})
}
