package hub

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the `mqtt` section of the earshot config plus what the daemon
// knows about the device. Field names follow the YAML keys; errors from New
// name the key as mqtt.<key>.
type Config struct {
	Broker        string // tcp://host:1883, ssl://host:8883, ws://host/mqtt, wss://host/mqtt
	Username      string
	PasswordFile  string // the password is read from this file, never from the YAML
	CAFile        string // PEM bundle; empty = system roots (ssl/wss only)
	CertFile      string // client certificate (PEM), with KeyFile
	KeyFile       string
	AllowInsecure bool // allow plain tcp:// or ws:// to a non-loopback broker

	TopicPrefix string        // default "earshot"
	DeviceID    string        // [a-z0-9-]{1,64}
	ActionTTL   time.Duration // default 60s; an undelivered action older than this is dropped
	Discovery   bool          // publish Home Assistant discovery configs (false: remove them)
	Hermes      bool          // also publish hermes/intent/<intentName>
	Window      time.Duration // retention ceiling: cmd/retention may shorten, never lengthen past it
	Version     string        // earshot's version, for the device and origin blocks of Home Assistant discovery
	Intents     []string      // intent names, for Home Assistant's voice command event and triggers

	// ReceiptAcked, if set, is called with a receipt's id once the broker
	// has acknowledged its last part (the daemon then drops it from its
	// durable queue).
	ReceiptAcked func(id string)

	Logger *slog.Logger     // default slog.Default()
	Clock  func() time.Time // wall clock for action ages; default time.Now

	// Bounds and timings. Zero values pick the defaults in brackets; the daemon
	// normally leaves them alone, tests shorten them.
	OutboxSize   int           // actions held while offline [64]
	ReceiptQueue int           // receipts held while offline [256]
	CommandQueue int           // commands waiting to be handled; a flood beyond this is dropped [64]
	ReplyRate    float64       // replies (and so handled commands) per second [20]
	ReplyBurst   int           // reply burst [40]
	KeepAlive    time.Duration // [30s]
	MaxReconnect time.Duration // ceiling of the reconnect backoff [30s]
}

const (
	defaultPrefix       = "earshot"
	defaultActionTTL    = 60 * time.Second
	defaultOutbox       = 64
	defaultReceiptQueue = 256
	defaultCommandQueue = 64
	defaultReplyRate    = 20
	defaultReplyBurst   = 40
	defaultKeepAlive    = 30 * time.Second
	defaultMaxReconnect = 30 * time.Second
)

var (
	deviceIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	prefixPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$`)
)

// settings is a validated Config with everything resolved that needs the
// filesystem (password, TLS material), so Run never fails on configuration.
type settings struct {
	Config
	brokerURL string
	password  string
	tls       *tls.Config
	warnings  []string // worth saying, not worth refusing
}

// Problem is one thing wrong with a hub Config, under the key of the
// earshot config it comes from (mqtt.broker, mqtt.password_file, ...).
type Problem struct {
	Key, Reason string
}

// ConfigError lists every problem of a hub Config, each naming its key.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Key + ": " + p.Reason
	}
	return strings.Join(lines, "\n")
}

// problems collects what is wrong with a Config, so that one pass reports
// all of it.
type problems []Problem

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, Problem{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// Check validates c exactly as New does, reading the password and TLS
// files, and returns the warnings New would log. `earshot check-config`
// calls it, so it refuses what `earshot run` would refuse.
func Check(c Config) (warnings []string, err error) {
	s, err := c.validate()
	if err != nil {
		return nil, err
	}
	return s.warnings, nil
}

func (c Config) validate() (*settings, error) {
	s := &settings{Config: c}
	var bad problems
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Clock == nil {
		s.Clock = time.Now
	}
	if !deviceIDPattern.MatchString(c.DeviceID) {
		bad.add("device_id", "%q: want 1 to 64 of [a-z0-9-]", c.DeviceID)
	}
	if s.TopicPrefix == "" {
		s.TopicPrefix = defaultPrefix
	}
	if !prefixPattern.MatchString(s.TopicPrefix) {
		bad.add("mqtt.topic_prefix", "%q: want topic levels of [A-Za-z0-9_-] separated by /, no wildcards", s.TopicPrefix)
	}
	switch {
	case c.ActionTTL < 0:
		bad.add("mqtt.action_ttl", "%v: must not be negative", c.ActionTTL)
	case c.ActionTTL == 0:
		s.ActionTTL = defaultActionTTL
	}
	if c.Window < 0 {
		bad.add("retention.window", "%v: must not be negative", c.Window)
	}
	if c.ReplyRate < 0 || c.OutboxSize < 0 || c.ReceiptQueue < 0 || c.CommandQueue < 0 || c.ReplyBurst < 0 ||
		c.KeepAlive < 0 || c.MaxReconnect < 0 {
		bad.add("mqtt", "queue sizes, rates and timings must not be negative")
	}
	setDefault(&s.OutboxSize, defaultOutbox)
	setDefault(&s.ReceiptQueue, defaultReceiptQueue)
	setDefault(&s.CommandQueue, defaultCommandQueue)
	setDefault(&s.ReplyRate, defaultReplyRate)
	setDefault(&s.ReplyBurst, defaultReplyBurst)
	setDefault(&s.KeepAlive, defaultKeepAlive)
	setDefault(&s.MaxReconnect, defaultMaxReconnect)

	u := s.parseBroker(&bad)
	if u != nil {
		s.brokerURL = u.String()
	}
	s.readPassword(&bad)
	tlsScheme := u != nil && (u.Scheme == "ssl" || u.Scheme == "wss")
	switch {
	case tlsScheme:
		s.tls = c.tlsConfig(u.Hostname(), &bad, &s.warnings)
	case u != nil && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != ""):
		bad.add(firstSet(map[string]string{"mqtt.ca_file": c.CAFile, "mqtt.cert_file": c.CertFile, "mqtt.key_file": c.KeyFile}),
			"set, but mqtt.broker %q is not ssl:// or wss://", c.Broker)
	}
	if len(bad) > 0 {
		return nil, &ConfigError{Problems: bad}
	}
	return s, nil
}

// firstSet returns the first key, in sorted order, whose value is set.
func firstSet(vals map[string]string) string {
	keys := make([]string, 0, len(vals))
	for k, v := range vals {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys[0]
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// parseBroker checks the scheme and port, fills in the default port and
// refuses plaintext to anything but loopback unless allow_insecure is set:
// a hub link carries credentials and mute/delete commands.
func (s *settings) parseBroker(bad *problems) *url.URL {
	if s.Broker == "" {
		bad.add("mqtt.broker", "empty (leave the hub link out instead of calling hub.New)")
		return nil
	}
	u, err := url.Parse(s.Broker)
	if err != nil {
		bad.add("mqtt.broker", "%v", err)
		return nil
	}
	if u.User != nil {
		bad.add("mqtt.broker", "credentials in the URL; use mqtt.username and mqtt.password_file")
		return nil
	}
	defaultPort := map[string]string{"tcp": "1883", "ssl": "8883", "ws": "80", "wss": "443"}[u.Scheme]
	if defaultPort == "" {
		bad.add("mqtt.broker", "%q: scheme must be tcp://, ssl://, ws:// or wss://", s.Broker)
		return nil
	}
	if u.Hostname() == "" {
		bad.add("mqtt.broker", "%q: no host", s.Broker)
		return nil
	}
	if p := u.Port(); p == "" {
		u.Host = net.JoinHostPort(u.Hostname(), defaultPort)
	} else if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		bad.add("mqtt.broker", "%q: port %s: want 1 to 65535", s.Broker, p)
		return nil
	}
	if (u.Scheme == "tcp" || u.Scheme == "ws") && !isLoopback(u.Hostname()) {
		if !s.AllowInsecure {
			bad.add("mqtt.broker", "%q is plaintext to a non-loopback host: credentials and commands would cross the network unencrypted; use ssl:// or set mqtt.allow_insecure: true", s.Broker)
			return u // the scheme is still worth checking the TLS keys against
		}
		s.warnings = append(s.warnings, fmt.Sprintf("mqtt.broker: the hub link to %s is unencrypted (mqtt.allow_insecure: true)", u.Redacted()))
	}
	return u
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readPassword reads mqtt.password_file: one line, not empty.
func (s *settings) readPassword(bad *problems) {
	path := s.PasswordFile
	if path == "" {
		return
	}
	if s.Username == "" {
		bad.add("mqtt.username", "empty, but mqtt.password_file is set: a password needs a user")
	}
	b, ok := readSecret("mqtt.password_file", path, bad, &s.warnings)
	if !ok {
		return
	}
	// Only the line ending goes; other whitespace may be part of a password.
	pw := strings.TrimRight(string(b), "\r\n")
	switch {
	case pw == "":
		bad.add("mqtt.password_file", "%s: empty: want the password on its first line", path)
	case strings.ContainsAny(pw, "\r\n"):
		bad.add("mqtt.password_file", "%s: want the password on one line", path)
	default:
		s.password = pw
	}
}

// readSecret reads a file that holds a secret (password, private key),
// refusing a directory and warning when others may read it.
func readSecret(key, path string, bad *problems, warnings *[]string) ([]byte, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		bad.add(key, "%v", err)
		return nil, false
	}
	if fi.IsDir() {
		bad.add(key, "%s is a directory: want a file", path)
		return nil, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		bad.add(key, "%v", err)
		return nil, false
	}
	if fi.Mode().Perm()&0o004 != 0 {
		*warnings = append(*warnings, fmt.Sprintf("%s: %s is world-readable; chmod 0640 or stricter", key, path))
	}
	return b, true
}

func (c Config) tlsConfig(serverName string, bad *problems, warnings *[]string) *tls.Config {
	t := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			bad.add("mqtt.ca_file", "%v", err)
		case !pool.AppendCertsFromPEM(pem):
			bad.add("mqtt.ca_file", "%s: no PEM certificates found", c.CAFile)
		default:
			t.RootCAs = pool
		}
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		certPEM, err := os.ReadFile(c.CertFile)
		if err != nil {
			bad.add("mqtt.cert_file", "%v", err)
		}
		keyPEM, ok := readSecret("mqtt.key_file", c.KeyFile, bad, warnings)
		if err != nil || !ok {
			break
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			bad.add("mqtt.key_file", "%s with mqtt.cert_file %s: %v", c.KeyFile, c.CertFile, err)
			break
		}
		t.Certificates = []tls.Certificate{cert}
	case c.CertFile != "":
		bad.add("mqtt.key_file", "empty, but mqtt.cert_file is set")
	case c.KeyFile != "":
		bad.add("mqtt.cert_file", "empty, but mqtt.key_file is set")
	}
	return t
}
