package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"
)

// MaxCommandSize is the largest command payload the link accepts, in bytes.
const MaxCommandSize = 4096

// Command names, the last level of the cmd/<name> topics.
const (
	CmdMute      = "mute"
	CmdUnmute    = "unmute"
	CmdState     = "state"
	CmdDelete    = "delete"
	CmdRetention = "retention"
)

// Command is a validated hub command. Only the fields of its kind are set.
type Command struct {
	Name   string        // CmdMute, CmdUnmute, ...
	ID     string        // correlation id, echoed in the reply
	Mute   bool          // CmdMute: true to mute, false to unmute (Home Assistant switch)
	Scope  string        // CmdDelete: "all", "record" or "before"
	Record string        // CmdDelete with scope "record"
	Before time.Time     // CmdDelete with scope "before"
	Window time.Duration // CmdRetention
}

var (
	idPattern     = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`) // printable ASCII, no spaces
	recordPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// Wire forms, one per command, so that a field valid for one command is
// "unknown" for another.
type (
	wireID struct {
		ID *string `json:"id"`
	}
	wireMute struct {
		ID   *string `json:"id"`
		Mute *bool   `json:"mute"`
	}
	wireDelete struct {
		ID     *string `json:"id"`
		Scope  *string `json:"scope"`
		Record *string `json:"record"`
		Time   *string `json:"time"`
	}
	wireRetention struct {
		ID     *string `json:"id"`
		Window *string `json:"window"`
	}
)

// DecodeCommand validates a command received on cmd/<name>. It is strict:
// at most MaxCommandSize bytes, one JSON object, known fields only, an id,
// RFC 3339 times and windows that parse. The ceiling check of a retention
// window is left to the link, which knows the configured window.
func DecodeCommand(name string, payload []byte) (Command, error) {
	if len(payload) > MaxCommandSize {
		return Command{}, fmt.Errorf("payload of %d bytes exceeds %d", len(payload), MaxCommandSize)
	}
	if !utf8.Valid(payload) {
		return Command{}, errors.New("payload is not UTF-8")
	}
	cmd := Command{Name: name}
	switch name {
	case CmdUnmute, CmdState:
		var w wireID
		if err := decodeStrict(payload, &w); err != nil {
			return cmd, err
		}
		return cmd, cmd.setID(w.ID)
	case CmdMute:
		var w wireMute
		if err := decodeStrict(payload, &w); err != nil {
			return cmd, err
		}
		cmd.Mute = w.Mute == nil || *w.Mute
		return cmd, cmd.setID(w.ID)
	case CmdDelete:
		var w wireDelete
		if err := decodeStrict(payload, &w); err != nil {
			return cmd, err
		}
		if err := cmd.setID(w.ID); err != nil {
			return cmd, err
		}
		return cmd, cmd.setDelete(w)
	case CmdRetention:
		var w wireRetention
		if err := decodeStrict(payload, &w); err != nil {
			return cmd, err
		}
		if err := cmd.setID(w.ID); err != nil {
			return cmd, err
		}
		if w.Window == nil {
			return cmd, errors.New(`missing field "window"`)
		}
		d, err := ParseWindow(*w.Window)
		if err != nil {
			return cmd, err
		}
		cmd.Window = d
		return cmd, nil
	default:
		return cmd, fmt.Errorf("unknown command %q: want mute, unmute, state, delete or retention", truncate(name, 64))
	}
}

func (c *Command) setID(id *string) error {
	if id == nil {
		return errors.New(`missing field "id"`)
	}
	if !idPattern.MatchString(*id) {
		return errors.New(`field "id": want 1 to 128 printable ASCII characters without spaces`)
	}
	c.ID = *id
	return nil
}

func (c *Command) setDelete(w wireDelete) error {
	if w.Scope == nil {
		return errors.New(`missing field "scope": want all, record or before`)
	}
	c.Scope = *w.Scope
	switch c.Scope {
	case "all":
		if w.Record != nil || w.Time != nil {
			return errors.New(`scope "all" takes no "record" or "time"`)
		}
	case "record":
		if w.Time != nil {
			return errors.New(`scope "record" takes no "time"`)
		}
		if w.Record == nil || !recordPattern.MatchString(*w.Record) {
			return errors.New(`scope "record": want field "record" with a record id`)
		}
		c.Record = *w.Record
	case "before":
		if w.Record != nil {
			return errors.New(`scope "before" takes no "record"`)
		}
		if w.Time == nil {
			return errors.New(`scope "before": missing field "time" (RFC 3339)`)
		}
		t, err := time.Parse(time.RFC3339, *w.Time)
		if err != nil {
			return fmt.Errorf(`field "time": want RFC 3339 like 2026-01-02T15:04:05Z`)
		}
		c.Before = t
	default:
		return fmt.Errorf(`field "scope": %q: want all, record or before`, truncate(c.Scope, 32))
	}
	return nil
}

// decodeStrict decodes exactly one JSON object with known fields only.
func decodeStrict(payload []byte, v any) error {
	if len(bytes.TrimSpace(payload)) == 0 || bytes.TrimSpace(payload)[0] != '{' {
		return errors.New("payload: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("payload: %s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("payload: trailing data after the JSON object")
	}
	return nil
}

// jsonReason shortens decoder errors so that a reply never echoes large
// parts of the payload back.
func jsonReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q: wrong type %s", truncate(typeErr.Field, 64), typeErr.Value)
	}
	return truncate(err.Error(), 160)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// correlationID recovers the id of a command that failed validation, so the
// hub can match the ok:false reply. It returns "" if there is none.
func correlationID(payload []byte) string {
	if len(payload) > MaxCommandSize {
		return ""
	}
	var w struct {
		ID string `json:"id"`
	}
	// Only the first JSON value counts, so a reply to a payload with
	// trailing garbage still carries the id.
	if json.NewDecoder(bytes.NewReader(payload)).Decode(&w) != nil || !idPattern.MatchString(w.ID) {
		return ""
	}
	return w.ID
}
