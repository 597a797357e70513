package eval

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Label
		wantErr string
	}{
		{
			name: "header, comments, extra columns",
			in: "file\tkind\tintent\tslots\tvoice\n# comment\n\nwake/w1.wav\twake\tLightsOn\troom=living room\tflite:slt\n" +
				"wake/w2.wav\twake\tSetTimer\tminutes=5;unit=m\nwake/w3.wav\twake\t-\t-\nother/o1.wav\tother\t-\t-\r\n",
			want: []Label{
				{File: "wake/w1.wav", Kind: KindWake, Intent: "LightsOn", Slots: map[string]string{"room": "living room"}, Tags: map[string]string{"voice": "flite:slt"}, Line: 4},
				{File: "wake/w2.wav", Kind: KindWake, Intent: "SetTimer", Slots: map[string]string{"minutes": "5", "unit": "m"}, Line: 5},
				{File: "wake/w3.wav", Kind: KindWake, Slots: map[string]string{}, Line: 6},
				{File: "other/o1.wav", Kind: KindOther, Slots: map[string]string{}, Line: 7},
			},
		},
		{
			name: "extra columns without a header",
			in:   "a.wav\twake\tX\t-\tflite:slt\n",
			want: []Label{{File: "a.wav", Kind: KindWake, Intent: "X", Slots: map[string]string{}, Line: 1}},
		},
		{name: "too few columns", in: "a.wav\twake\tX\n", wantErr: "labels.tsv:1: 3 column(s), expected 4"},
		{name: "bad kind", in: "a.wav\twake\tX\t-\nb.wav\tspeech\t-\t-\n", wantErr: `labels.tsv:2: kind "speech": expected "wake", "other" or "bare"`},
		{name: "bare with intent", in: "a.wav\tbare\tX\t-\n", wantErr: "kind bare with intent"},
		{
			name: "bare",
			in:   "b.wav\tbare\t-\t-\n",
			want: []Label{{File: "b.wav", Kind: KindBare, Slots: map[string]string{}, Line: 1}},
		},
		{name: "bad slots", in: "a.wav\twake\tX\troom\n", wantErr: `labels.tsv:1: slots "room"`},
		{name: "duplicate slot", in: "a.wav\twake\tX\tr=a;r=b\n", wantErr: `slot "r" given twice`},
		{name: "other with intent", in: "a.wav\tother\tX\t-\n", wantErr: "kind other"},
		{name: "slots without intent", in: "a.wav\twake\t-\tr=a\n", wantErr: "slots without an intent"},
		{name: "escaping path", in: "../a.wav\twake\tX\t-\n", wantErr: "inside the corpus directory"},
		{name: "absolute path", in: "/etc/a.wav\twake\tX\t-\n", wantErr: "inside the corpus directory"},
		{name: "duplicate file", in: "a.wav\twake\tX\t-\na.wav\tother\t-\t-\n", wantErr: "already labelled on line 1"},
		{name: "empty", in: "file\tkind\tintent\tslots\n", wantErr: "no labelled files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLabels(strings.NewReader(tt.in), "labels.tsv")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseLabels(f *testing.F) {
	f.Add("file\tkind\tintent\tslots\nw.wav\twake\tLightsOn\troom=kitchen\no.wav\tother\t-\t-\n")
	f.Add("a\twake\tX\tk=v;;k2=\n")
	f.Add("\t\t\t\n")
	f.Fuzz(func(t *testing.T, in string) {
		labels, err := ParseLabels(strings.NewReader(in), "labels.tsv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "labels.tsv") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for _, l := range labels {
			if l.File == "" || (l.Kind != KindWake && l.Kind != KindOther && l.Kind != KindBare) || l.Slots == nil {
				t.Fatalf("bad label %+v", l)
			}
		}
	})
}

func TestLine(t *testing.T) {
	r := Result{Counts: Counts{Recall: 0.96, FAPerHour: 0, IntentAcc: 0.95}, RTF: 0.0123, RSSMB: 38.14}
	if got, want := r.Line(), "recall=0.960 fa_per_hour=0.00 intent_acc=0.950 rtf=0.012 rss_mb=38.1"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}
