package hub

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecodeCommand(t *testing.T) {
	tests := []struct {
		name, payload string
		want          Command
		wantErr       string
	}{
		{"mute", `{"id":"a"}`, Command{Name: "mute", ID: "a", Mute: true}, ""},
		{"mute", `{"id":"a","mute":false}`, Command{Name: "mute", ID: "a"}, ""},
		{"unmute", ` {"id":"a"} `, Command{Name: "unmute", ID: "a"}, ""},
		{"delete", `{"id":"a","scope":"record","record":"r1"}`, Command{Name: "delete", ID: "a", Scope: "record", Record: "r1"}, ""},
		{"delete", `{"id":"a","scope":"before","time":"2026-01-02T03:04:05Z"}`,
			Command{Name: "delete", ID: "a", Scope: "before", Before: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, ""},
		{"retention", `{"id":"a","window":"1d"}`, Command{Name: "retention", ID: "a", Window: 24 * time.Hour}, ""},
		{"state", `{}`, Command{}, `missing field "id"`},
		{"state", `{"id":""}`, Command{}, `field "id"`},
		{"state", `{"id":"has space"}`, Command{}, `field "id"`},
		{"state", `{"id":7}`, Command{}, "wrong type"},
		{"state", `[{"id":"a"}]`, Command{}, "JSON object"},
		{"state", `null`, Command{}, "JSON object"},
		{"state", "{\"id\":\"a\xff\"}", Command{}, "UTF-8"},
		{"delete", `{"id":"a"}`, Command{}, `missing field "scope"`},
		{"delete", `{"id":"a","scope":"record"}`, Command{}, `"record"`},
		{"delete", `{"id":"a","scope":"record","record":"../../etc"}`, Command{}, `"record"`},
		{"delete", `{"id":"a","scope":"all","time":"2026-01-02T03:04:05Z"}`, Command{}, "takes no"},
		{"delete", `{"id":"a","scope":"before","time":"2026-01-02 03:04:05"}`, Command{}, "RFC 3339"},
		{"delete", `{"id":"a","scope":"since","time":"2026-01-02T03:04:05Z"}`, Command{}, "want all, record or before"},
		{"retention", `{"id":"a"}`, Command{}, `missing field "window"`},
		{"retention", `{"id":"a","window":"forever"}`, Command{}, "duration"},
		{"shutdown", `{"id":"a"}`, Command{}, "unknown command"},
		{"state", `{"id":"a","x":1}`, Command{}, `unknown field "x"`},
		// Exact: field names match case and all, once each, and null is
		// not a value (encoding/json would take all three).
		{"state", `{"ID":"a"}`, Command{}, `unknown field "ID" (field names are case-sensitive: "id")`},
		{"delete", `{"id":"a","Scope":"all"}`, Command{}, `unknown field "Scope"`},
		{"state", `{"id":"a","id":"b"}`, Command{}, `duplicate field "id"`},
		{"delete", `{"id":"a","scope":"record","scope":"all"}`, Command{}, `duplicate field "scope"`},
		{"mute", `{"id":"a","mute":null}`, Command{}, `field "mute": null`},
		{"state", `{"id":null}`, Command{}, `field "id": null`},
		{"delete", `{"id":"a","scope":"all","record":null}`, Command{}, `field "record": null`},
		{"mute", `{"id":"a","mute":"true"}`, Command{}, `field "mute": wrong type string`},
		{"state", `{"id":"a"`, Command{}, "payload"},
	}
	for _, tc := range tests {
		got, err := DecodeCommand(tc.name, []byte(tc.payload))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("DecodeCommand(%s, %s) error = %v, want %q", tc.name, tc.payload, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("DecodeCommand(%s, %s) = %+v, %v; want %+v", tc.name, tc.payload, got, err, tc.want)
		}
	}
}

// FuzzCommand: the decoder never panics, never accepts more than 4 KiB, and
// whatever it accepts is a well-formed command; its errors stay short.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1"}`, `{"id":"c1","mute":false}`, `{"id":"c1","scope":"all"}`,
		`{"id":"c1","scope":"record","record":"r-1"}`,
		`{"id":"c1","scope":"before","time":"2026-11-27T10:00:00+01:00"}`,
		`{"id":"c1","window":"1d12h"}`, `{"id":"c1","window":"-5m"}`, `{"id":1}`, `[]`, `{"id":"c1"}{}`,
	} {
		for _, name := range []string{CmdMute, CmdUnmute, CmdState, CmdDelete, CmdRetention, "x"} {
			f.Add(name, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		if id := correlationID(payload); id != "" && !idPattern.MatchString(id) {
			t.Fatalf("correlationID returned malformed id %q", id)
		}
		cmd, err := DecodeCommand(name, payload)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Errorf("error of %d bytes: replies must stay small", len(err.Error()))
			}
			if !utf8.ValidString(err.Error()) {
				t.Errorf("error is not UTF-8: %q", err)
			}
			if _, jerr := json.Marshal(Reply{Error: err.Error()}); jerr != nil {
				t.Errorf("error not encodable: %v", jerr)
			}
			return
		}
		if len(payload) > MaxCommandSize {
			t.Fatalf("accepted %d bytes", len(payload))
		}
		if cmd.Name != name || !idPattern.MatchString(cmd.ID) {
			t.Fatalf("accepted malformed command %+v", cmd)
		}
		switch cmd.Name {
		case CmdDelete:
			if cmd.Scope != "all" && cmd.Scope != "record" && cmd.Scope != "before" ||
				(cmd.Scope == "record") != (cmd.Record != "") || cmd.Scope != "before" && !cmd.Before.IsZero() {
				t.Fatalf("accepted inconsistent delete %+v", cmd)
			}
		case CmdRetention:
			if cmd.Window < 0 {
				t.Fatalf("accepted negative window %v", cmd.Window)
			}
		case CmdMute, CmdUnmute, CmdState:
		default:
			t.Fatalf("accepted unknown command %q", cmd.Name)
		}
	})
}
