package hub

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(pass, []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pass")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" = valid
	}{
		{"loopback tcp", func(c *Config) {}, ""},
		{"localhost without port", func(c *Config) { c.Broker = "tcp://localhost" }, ""},
		{"empty broker", func(c *Config) { c.Broker = "" }, "mqtt.broker: empty"},
		{"unknown scheme", func(c *Config) { c.Broker = "http://127.0.0.1:1883" }, "mqtt.broker"},
		{"plain tcp to the network", func(c *Config) { c.Broker = "tcp://hub.local:1883" }, "mqtt.allow_insecure"},
		{"plain ws to the network", func(c *Config) { c.Broker = "ws://10.0.0.2:9001/mqtt" }, "mqtt.allow_insecure"},
		{"plain tcp allowed explicitly", func(c *Config) { c.Broker = "tcp://hub.local:1883"; c.AllowInsecure = true }, ""},
		{"tls to the network", func(c *Config) { c.Broker = "ssl://hub.local:8883" }, ""},
		{"credentials in url", func(c *Config) { c.Broker = "tcp://u:p@127.0.0.1:1883" }, "mqtt.password_file"},
		{"bad device id", func(c *Config) { c.DeviceID = "Kitchen Speaker" }, "device_id"},
		{"wildcard in prefix", func(c *Config) { c.TopicPrefix = "earshot/#" }, "mqtt.topic_prefix"},
		{"negative ttl", func(c *Config) { c.ActionTTL = -1 }, "mqtt.action_ttl"},
		{"password file", func(c *Config) { c.Username = "earshot"; c.PasswordFile = pass }, ""},
		{"password file missing", func(c *Config) { c.Username = "earshot"; c.PasswordFile = filepath.Join(dir, "nope") }, "mqtt.password_file"},
		{"password file empty", func(c *Config) { c.Username = "earshot"; c.PasswordFile = empty }, "mqtt.password_file"},
		{"password without user", func(c *Config) { c.PasswordFile = pass }, "mqtt.username"},
		{"ca file not pem", func(c *Config) { c.Broker = "ssl://127.0.0.1:8883"; c.CAFile = notPEM }, "mqtt.ca_file"},
		{"cert without key", func(c *Config) { c.Broker = "ssl://127.0.0.1:8883"; c.CertFile = notPEM }, "mqtt.key_file"},
		{"tls files on tcp", func(c *Config) { c.CAFile = notPEM }, "not ssl://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:1883")
			tc.edit(&cfg)
			l, err := New(cfg, newFakeStore(), &fakeMuter{})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tc.wantErr)
			}
			if l != nil {
				t.Error("New returned a link with an error")
			}
		})
	}
}

func TestPasswordIsReadAndNeverLogged(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(pass, []byte("hunter2-very-secret\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := testConfig("hub.example:1883")
	cfg.AllowInsecure = true
	cfg.Username, cfg.PasswordFile = "earshot", pass
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := New(cfg, newFakeStore(), &fakeMuter{})
	if err != nil {
		t.Fatal(err)
	}
	if l.cfg.password != "hunter2-very-secret" {
		t.Errorf("password = %q, want the file's line without its ending", l.cfg.password)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("password in logs: %s", logs.String())
	}
	for _, want := range []string{"world-readable", "unencrypted"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning mentioning %q in logs: %s", want, logs.String())
		}
	}
}
