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
