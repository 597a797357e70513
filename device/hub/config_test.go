package hub

import (
	"bytes"
	"errors"
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

// What the daemon refuses at start, check-config must refuse too, and say
// all of it at once: the same validation, with every problem under its key.
func TestCheckReportsEveryProblemUnderItsKey(t *testing.T) {
	dir := t.TempDir()
	p := newPKI(t)
	cert, key := p.issue(t, "device", false)
	_, otherKey := p.issue(t, "other", false)
	worldKey := filepath.Join(dir, "world.key")
	b, _ := os.ReadFile(key)
	os.WriteFile(worldKey, b, 0o644)
	os.Chmod(worldKey, 0o644)
	passDir := filepath.Join(dir, "pass.d")
	os.Mkdir(passDir, 0o700)

	tests := []struct {
		name     string
		edit     func(*Config)
		want     []string // problems, as "key: substring"
		warnings []string
	}{
		{"port out of range", func(c *Config) { c.Broker = "tcp://127.0.0.1:99999" }, []string{"mqtt.broker: \"tcp://127.0.0.1:99999\": port 99999: want 1 to 65535"}, nil},
		{"password file is a directory", func(c *Config) { c.Username = "e"; c.PasswordFile = passDir }, []string{"mqtt.password_file: " + passDir + " is a directory"}, nil},
		{"key does not match the certificate", func(c *Config) {
			c.Broker, c.CAFile, c.CertFile, c.KeyFile = "ssl://127.0.0.1:8883", p.CAFile, cert, otherKey
		}, []string{"mqtt.key_file: " + otherKey + " with mqtt.cert_file " + cert + ": tls: private key does not match public key"}, nil},
		{"world-readable key", func(c *Config) {
			c.Broker, c.CAFile, c.CertFile, c.KeyFile = "ssl://127.0.0.1:8883", p.CAFile, cert, worldKey
		}, nil, []string{"mqtt.key_file: " + worldKey + " is world-readable"}},
		{"all at once", func(c *Config) {
			c.Broker, c.CAFile, c.PasswordFile = "ssl://127.0.0.1:8883", filepath.Join(dir, "none.pem"), filepath.Join(dir, "none.pass")
			c.TopicPrefix = "a/#"
		}, []string{"mqtt.topic_prefix:", "mqtt.username: empty", "mqtt.password_file: stat " + filepath.Join(dir, "none.pass"), "mqtt.ca_file: open " + filepath.Join(dir, "none.pem")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:1883")
			tc.edit(&cfg)
			warnings, err := Check(cfg)
			var cerr *ConfigError
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
			} else if !errors.As(err, &cerr) || len(cerr.Problems) != len(tc.want) {
				t.Fatalf("Check = %v, want %d problems", err, len(tc.want))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check error\n%v\nlacks %q", err, w)
				}
			}
			if len(warnings) != len(tc.warnings) {
				t.Errorf("warnings %q, want %q", warnings, tc.warnings)
			}
			for i, w := range tc.warnings {
				if i < len(warnings) && !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q lacks %q", warnings[i], w)
				}
			}
		})
	}
}
