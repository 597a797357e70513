package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
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

// DecodeCommand validates a command received on cmd/<name>. It is strict:
// at most MaxCommandSize bytes, one JSON object whose field names are
// exactly those of the command (case and all), each at most once and never
// null, an id, RFC 3339 times and windows that parse. The ceiling check of a retention
// window is left to the link, which knows the configured window.
func DecodeCommand(name string, payload []byte) (Command, error) {
	if len(payload) > MaxCommandSize {
		return Command{}, fmt.Errorf("payload of %d bytes exceeds %d", len(payload), MaxCommandSize)
	}
	if !utf8.Valid(payload) {
		return Command{}, errors.New("payload is not UTF-8")
	}
	cmd := Command{Name: name}
	var id, scope, record, at, window *string
	var mute *bool
	fields := map[string]any{"id": &id}
	switch name {
	case CmdUnmute, CmdState:
	case CmdMute:
		fields["mute"] = &mute
	case CmdDelete:
		fields["scope"], fields["record"], fields["time"] = &scope, &record, &at
	case CmdRetention:
		fields["window"] = &window
	default:
		return cmd, fmt.Errorf("unknown command %q: want mute, unmute, state, delete or retention", truncate(name, 64))
	}
	if err := decodeStrict(payload, fields); err != nil {
		return cmd, err
	}
	if err := cmd.setID(id); err != nil {
		return cmd, err
	}
	switch name {
	case CmdMute:
		cmd.Mute = mute == nil || *mute
	case CmdDelete:
		return cmd, cmd.setDelete(scope, record, at)
	case CmdRetention:
		if window == nil {
			return cmd, errors.New(`missing field "window"`)
		}
		d, err := ParseWindow(*window)
		if err != nil {
			return cmd, err
		}
		cmd.Window = d
	}
	return cmd, nil
}

// fingerprint is the command and its arguments, whatever the JSON looked
// like: two payloads with the same fingerprint ask for the same thing.
func (c Command) fingerprint() string {
	return fmt.Sprintf("%s mute=%t scope=%q record=%q before=%s window=%d",
		c.Name, c.Mute, c.Scope, c.Record, c.Before.UTC().Format(time.RFC3339Nano), c.Window)
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

func (c *Command) setDelete(scope, record, at *string) error {
	if scope == nil {
		return errors.New(`missing field "scope": want all, record or before`)
	}
	c.Scope = *scope
	switch c.Scope {
	case "all":
		if record != nil || at != nil {
			return errors.New(`scope "all" takes no "record" or "time"`)
		}
	case "record":
		if at != nil {
			return errors.New(`scope "record" takes no "time"`)
		}
		if record == nil || !recordPattern.MatchString(*record) {
			return errors.New(`scope "record": want field "record" with a record id`)
		}
		c.Record = *record
	case "before":
		if record != nil {
			return errors.New(`scope "before" takes no "record"`)
		}
		if at == nil {
			return errors.New(`scope "before": missing field "time" (RFC 3339)`)
		}
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf(`field "time": want RFC 3339 like 2026-01-02T15:04:05Z`)
		}
		c.Before = t
	default:
		return fmt.Errorf(`field "scope": %q: want all, record or before`, truncate(c.Scope, 32))
	}
	return nil
}

// decodeStrict decodes exactly one JSON object into fields, which maps each
// field name the command knows to a pointer to decode its value into.
// encoding/json alone would match names case-insensitively, let a repeated
// field overwrite the first and take null as "absent"; a hub command is
// refused for each of these, so that what the hub meant is never a guess.
func decodeStrict(payload []byte, fields map[string]any) error {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("payload: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return fmt.Errorf("payload: %s", jsonReason(err))
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("payload: %s", jsonReason(err))
		}
		name, _ := tok.(string) // object keys are always strings
		dst, known := fields[name]
		switch {
		case !known:
			return unknownField(name, fields)
		case seen[name]:
			return fmt.Errorf("payload: duplicate field %q", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("payload: %s", jsonReason(err))
		}
		if string(raw) == "null" {
			return fmt.Errorf("field %q: null is not a value; leave the field out instead", name)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return fmt.Errorf("field %q: wrong type %s", name, typeErr.Value)
			}
			return fmt.Errorf("field %q: %s", name, jsonReason(err))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("payload: %s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("payload: trailing data after the JSON object")
	}
	return nil
}

// unknownField names a field the command does not have, and the one it
// meant if only the case differs.
func unknownField(name string, fields map[string]any) error {
	for known := range fields {
		if strings.EqualFold(known, name) {
			return fmt.Errorf("payload: unknown field %q (field names are case-sensitive: %q)", truncate(name, 64), known)
		}
	}
	return fmt.Errorf("payload: unknown field %q", truncate(name, 64))
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
