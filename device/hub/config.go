package hub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
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
	Intents     []string      // intent names, for Home Assistant's voice command event and triggers

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
}

func (c Config) validate() (*settings, error) {
	s := &settings{Config: c}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Clock == nil {
		s.Clock = time.Now
	}
	if !deviceIDPattern.MatchString(c.DeviceID) {
		return nil, fmt.Errorf("device_id: %q: want 1 to 64 of [a-z0-9-]", c.DeviceID)
	}
	if s.TopicPrefix == "" {
		s.TopicPrefix = defaultPrefix
	}
	if !prefixPattern.MatchString(s.TopicPrefix) {
		return nil, fmt.Errorf("mqtt.topic_prefix: %q: want topic levels of [A-Za-z0-9_-] separated by /, no wildcards", s.TopicPrefix)
	}
	switch {
	case c.ActionTTL < 0:
		return nil, fmt.Errorf("mqtt.action_ttl: %v: must not be negative", c.ActionTTL)
	case c.ActionTTL == 0:
		s.ActionTTL = defaultActionTTL
	}
	if c.Window < 0 {
		return nil, fmt.Errorf("retention.window: %v: must not be negative", c.Window)
	}
	if c.ReplyRate < 0 || c.OutboxSize < 0 || c.ReceiptQueue < 0 || c.CommandQueue < 0 || c.ReplyBurst < 0 ||
		c.KeepAlive < 0 || c.MaxReconnect < 0 {
		return nil, errors.New("mqtt: queue sizes, rates and timings must not be negative")
	}
	setDefault(&s.OutboxSize, defaultOutbox)
	setDefault(&s.ReceiptQueue, defaultReceiptQueue)
	setDefault(&s.CommandQueue, defaultCommandQueue)
	setDefault(&s.ReplyRate, defaultReplyRate)
	setDefault(&s.ReplyBurst, defaultReplyBurst)
	setDefault(&s.KeepAlive, defaultKeepAlive)
	setDefault(&s.MaxReconnect, defaultMaxReconnect)

	u, err := s.parseBroker()
	if err != nil {
		return nil, err
	}
	s.brokerURL = u.String()

	if c.PasswordFile != "" {
		if c.Username == "" {
			return nil, errors.New("mqtt.password_file: set, but mqtt.username is empty")
		}
		s.password, err = readPassword(c.PasswordFile, s.Logger)
		if err != nil {
			return nil, err
		}
	}
	if u.Scheme == "ssl" || u.Scheme == "wss" {
		s.tls, err = c.tlsConfig(u.Hostname())
		if err != nil {
			return nil, err
		}
	} else if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
		return nil, fmt.Errorf("mqtt.ca_file/cert_file/key_file: set, but mqtt.broker %q is not ssl:// or wss://", c.Broker)
	}
	return s, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// parseBroker checks the scheme, fills in the default port and refuses
// plaintext to anything but loopback unless allow_insecure is set: a hub link
// carries credentials and mute/delete commands.
func (s *settings) parseBroker() (*url.URL, error) {
	if s.Broker == "" {
		return nil, errors.New("mqtt.broker: empty (leave the hub link out instead of calling hub.New)")
	}
	u, err := url.Parse(s.Broker)
	if err != nil {
		return nil, fmt.Errorf("mqtt.broker: %w", err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("mqtt.broker: credentials in the URL; use mqtt.username and mqtt.password_file")
	}
	defaultPort := map[string]string{"tcp": "1883", "ssl": "8883", "ws": "80", "wss": "443"}[u.Scheme]
	if defaultPort == "" {
		return nil, fmt.Errorf("mqtt.broker: %q: scheme must be tcp://, ssl://, ws:// or wss://", s.Broker)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("mqtt.broker: %q: no host", s.Broker)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), defaultPort)
	}
	if (u.Scheme == "tcp" || u.Scheme == "ws") && !isLoopback(u.Hostname()) {
		if !s.AllowInsecure {
			return nil, fmt.Errorf("mqtt.broker: %q is plaintext to a non-loopback host: credentials and commands would cross the network unencrypted; use ssl:// or set mqtt.allow_insecure: true", s.Broker)
		}
		s.Logger.Warn("hub link is unencrypted to a non-loopback broker (mqtt.allow_insecure: true)", "broker", u.Redacted())
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func readPassword(path string, log *slog.Logger) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("mqtt.password_file: %w", err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		log.Warn("mqtt.password_file is world-readable; chmod 0640 or stricter", "file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("mqtt.password_file: %w", err)
	}
	// Only the line ending goes; other whitespace may be part of a password.
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("mqtt.password_file: %s: empty", path)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return "", fmt.Errorf("mqtt.password_file: %s: want the password on one line", path)
	}
	return pw, nil
}

func (c Config) tlsConfig(serverName string) (*tls.Config, error) {
	t := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.ca_file: %s: no PEM certificates found", c.CAFile)
		}
		t.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	case c.CertFile != "":
		return nil, errors.New("mqtt.key_file: empty, but mqtt.cert_file is set")
	case c.KeyFile != "":
		return nil, errors.New("mqtt.cert_file: empty, but mqtt.key_file is set")
	}
	return t, nil
}
