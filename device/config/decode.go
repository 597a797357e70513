package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree by hand, so that every problem carries
// the line it is on and unknown keys are caught at any depth.
type decoder struct {
	file  string
	lines map[string]int  // dotted key -> line of its value
	bad   map[string]bool // keys whose value did not decode
	errs  []string
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: map[string]int{}, bad: map[string]bool{}}
}

func (d *decoder) addf(line int, format string, args ...any) {
	d.errs = append(d.errs, fmt.Sprintf("%s:%d: %s", d.file, line, fmt.Sprintf(format, args...)))
}

// errorf reports a validation problem at the line of key (or line 1 if the
// key came from the defaults). A key whose value did not decode has been
// reported already.
func (d *decoder) errorf(key, format string, args ...any) {
	if d.bad[key] {
		return
	}
	line := d.lines[key]
	if line == 0 {
		line = 1
		format += " (default value)"
	}
	d.addf(line, "%s: "+format, append([]any{key}, args...)...)
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return &Error{Problems: d.errs}
}

// Error lists every problem found in a config file, one per line.
type Error struct{ Problems []string }

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

type setter func(key string, n *yaml.Node)

// decode reports whether the file was YAML with a mapping at the top, so
// that its values are worth validating.
func (d *decoder) decode(data []byte, c *Config) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 says "yaml: line N: reason"; keep the line, add the file.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, tail, ok := strings.Cut(rest, ":"); ok {
				if line, err := strconv.Atoi(n); err == nil {
					d.addf(line, "invalid YAML:%s", tail)
					return false
				}
			}
		}
		d.addf(1, "invalid YAML: %s", msg)
		return false
	}
	if len(doc.Content) == 0 {
		d.addf(1, "empty config: want at least device_id")
		return false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.addf(root.Line, "the top level: want a mapping of keys, got %s", kindName(root))
		return false
	}
	d.mapping("", root, map[string]setter{
		"device_id": d.str(&c.DeviceID),
		"audio": d.section(map[string]setter{
			"input":       d.str(&c.Audio.Input),
			"sample_rate": d.integer(&c.Audio.SampleRate),
			"preroll":     d.duration(&c.Audio.Preroll),
		}),
		"wake": d.section(map[string]setter{
			"phrase":         d.str(&c.Wake.Phrase),
			"sensitivity":    d.float(&c.Wake.Sensitivity),
			"head":           d.str(&c.Wake.Head),
			"models":         d.str(&c.Wake.Models),
			"second_opinion": d.boolean(&c.Wake.SecondOpinion),
		}),
		"speech": d.section(map[string]setter{
			"intents":       d.str(&c.Speech.Intents),
			"max_utterance": d.duration(&c.Speech.MaxUtterance),
			"end_silence":   d.duration(&c.Speech.EndSilence),
			"command_wait":  d.duration(&c.Speech.CommandWait),
		}),
		"retention": d.section(map[string]setter{
			"dir":       d.str(&c.Retention.Dir),
			"window":    d.duration(&c.Retention.Window),
			"max_bytes": d.size(&c.Retention.MaxBytes),
			"keys":      d.str(&c.Retention.Keys),
		}),
		"mqtt": d.section(map[string]setter{
			"broker":         d.str(&c.MQTT.Broker),
			"username":       d.str(&c.MQTT.Username),
			"password_file":  d.str(&c.MQTT.PasswordFile),
			"ca_file":        d.str(&c.MQTT.CAFile),
			"cert_file":      d.str(&c.MQTT.CertFile),
			"key_file":       d.str(&c.MQTT.KeyFile),
			"allow_insecure": d.boolean(&c.MQTT.AllowInsecure),
			"topic_prefix":   d.str(&c.MQTT.TopicPrefix),
			"action_ttl":     d.duration(&c.MQTT.ActionTTL),
			"discovery":      d.boolean(&c.MQTT.Discovery),
			"hermes":         d.boolean(&c.MQTT.Hermes),
			"password": func(key string, n *yaml.Node) {
				d.addf(n.Line, "%s: never put the password in the config; write it to a file readable only by earshot and set mqtt.password_file", key)
			},
		}),
		"gpio": d.section(map[string]setter{
			"mute_button": d.str(&c.GPIO.MuteButton),
			"mute_led":    d.str(&c.GPIO.MuteLED),
		}),
		"control": d.section(map[string]setter{
			"socket": d.str(&c.Control.Socket),
		}),
	})
	return true
}

func (d *decoder) mapping(prefix string, n *yaml.Node, fields map[string]setter) {
	what := "the top level"
	if prefix != "" {
		what = strings.TrimSuffix(prefix, ".")
	}
	if n.Kind != yaml.MappingNode {
		d.addf(n.Line, "%s: want a mapping of keys, got %s", what, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		set, ok := fields[k.Value]
		switch {
		case !ok:
			d.addf(k.Line, "%s: unknown key (known keys in %s: %s)", key, what, knownKeys(fields))
		case seen[k.Value]:
			d.addf(k.Line, "%s: duplicate key", key)
		default:
			seen[k.Value] = true
			d.lines[key] = v.Line
			set(key, v)
		}
	}
}

func knownKeys(fields map[string]setter) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "password" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func (d *decoder) section(fields map[string]setter) setter {
	return func(key string, n *yaml.Node) { d.mapping(key+".", n, fields) }
}

// scalar returns the node's value if it is a plain scalar of the wanted tag.
func (d *decoder) scalar(key string, n *yaml.Node, want string, tags ...string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		for _, t := range tags {
			if n.ShortTag() == t {
				return n.Value, true
			}
		}
	}
	d.addf(n.Line, "%s: want %s, got %s", key, want, kindName(n))
	d.bad[key] = true
	return "", false
}

func (d *decoder) str(dst *string) setter {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n, "a string", "!!str", "!!null"); ok {
			*dst = v
			if n.ShortTag() == "!!null" {
				*dst = ""
			}
		}
	}
}

func (d *decoder) boolean(dst *bool) setter {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n, "true or false", "!!bool"); ok {
			*dst = v == "true" || v == "True" || v == "TRUE"
		}
	}
}

func (d *decoder) integer(dst *int) setter {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n, "a whole number", "!!int"); ok {
			i, err := strconv.Atoi(v)
			if err != nil {
				d.addf(n.Line, "%s: want a whole number, got %q", key, v)
				d.bad[key] = true
				return
			}
			*dst = i
		}
	}
}

func (d *decoder) float(dst *float64) setter {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n, "a number", "!!float", "!!int"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				d.addf(n.Line, "%s: want a number, got %q", key, v)
				d.bad[key] = true
				return
			}
			*dst = f
		}
	}
}

func (d *decoder) duration(dst *time.Duration) setter {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n, "a duration such as 700ms, 24h or 7d", "!!str", "!!int")
		if !ok {
			return
		}
		dur, err := ParseDuration(v)
		if err != nil {
			d.addf(n.Line, "%s: %v", key, err)
			d.bad[key] = true
			return
		}
		*dst = dur
	}
}

func (d *decoder) size(dst *int64) setter {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n, "a size such as 256MiB", "!!str", "!!int")
		if !ok {
			return
		}
		sz, err := ParseSize(v)
		if err != nil {
			d.addf(n.Line, "%s: %v", key, err)
			d.bad[key] = true
			return
		}
		*dst = sz
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!bool":
		return "a boolean (" + n.Value + ")"
	case "!!int", "!!float":
		return "a number (" + n.Value + ")"
	}
	return strconv.Quote(n.Value)
}

var dayRE = regexp.MustCompile(`[0-9.]+d`)

// ParseDuration parses a Go duration with an extra unit "d" (24h), e.g.
// "7d", "1d12h", "700ms". A bare "0" is zero. Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("want a duration such as 700ms, 24h or 7d, got nothing")
	}
	if s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("want a duration that is not negative, got %q", s)
	}
	// No Go unit contains a "d", so each "<n>d" can be rewritten as hours;
	// time.ParseDuration sums repeated units ("24h12h").
	var bad bool
	hours := dayRE.ReplaceAllStringFunc(s, func(m string) string {
		f, err := strconv.ParseFloat(strings.TrimSuffix(m, "d"), 64)
		bad = bad || err != nil
		return strconv.FormatFloat(f*24, 'f', -1, 64) + "h"
	})
	if bad {
		return 0, fmt.Errorf("want a duration such as 700ms, 24h or 7d, got %q", s)
	}
	if last := s[len(s)-1]; last >= '0' && last <= '9' {
		return 0, fmt.Errorf("want a duration with a unit (ms, s, m, h, d), got %q", s)
	}
	d, err := time.ParseDuration(hours)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 700ms, 24h or 7d, got %q", s)
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// ParseSize parses a byte size: a whole number of bytes or a number with one
// of B, KB, MB, GB (powers of 1000), KiB, MiB, GiB, K, M, G (powers of 1024).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	num := s
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || num == "" {
		return 0, fmt.Errorf("want a size such as 256MiB or 1GB, got %q", s)
	}
	v := f * float64(mult)
	if v > 1<<50 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}
