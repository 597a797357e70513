package hub

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// mosquittoBin finds the broker. End-to-end tests skip without it on a
// developer machine but fail in CI, where `make test` installs it.
func mosquittoBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("mosquitto not installed (apt-get install mosquitto mosquitto-clients)")
	}
	t.Skip("mosquitto not installed")
	return ""
}

// pki is a CA with a server certificate for 127.0.0.1 and client
// certificates, written as PEM files under dir.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "earshot test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{dir: dir, ca: ca, caKey: key, CAFile: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	return p
}

// issue writes name.pem and name.key; server certificates are for 127.0.0.1.
func (p *pki) issue(t testing.TB, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

// clientTLS is the observer's TLS config (the link builds its own from files).
func (p *pki) clientTLS(t testing.TB, name string) *tls.Config {
	t.Helper()
	certFile, keyFile := p.issue(t, name, false)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mosquitto is a broker process on a fixed loopback port that a test can
// kill and start again.
type mosquitto struct {
	t      testing.TB
	bin    string
	conf   string
	addr   string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type brokerUser struct{ name, password, acl string }

// newMosquitto writes a config (TLS with client certificates when p is set,
// password file and ACL when users are given) and starts the broker.
func newMosquitto(t testing.TB, p *pki, users []brokerUser) *mosquitto {
	t.Helper()
	bin := mosquittoBin(t)
	dir := t.TempDir()
	m := &mosquitto{t: t, bin: bin, addr: freePort(t), logs: &lockedBuffer{}}
	_, port, _ := net.SplitHostPort(m.addr)
	var conf strings.Builder
	if u, err := user.Current(); err == nil {
		fmt.Fprintf(&conf, "user %s\n", u.Username) // as root, mosquitto would switch to an account that cannot read TempDir
	}
	fmt.Fprintf(&conf, "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n")
	fmt.Fprintf(&conf, "listener %s 127.0.0.1\n", port)
	if p != nil {
		cert, key := p.issue(t, "broker", true)
		fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n", p.CAFile, cert, key)
	}
	if len(users) == 0 {
		conf.WriteString("allow_anonymous true\n")
	} else {
		passwd, acl := filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
		var aclText strings.Builder
		for i, u := range users {
			args := []string{"-b", passwd, u.name, u.password}
			if i == 0 {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
			fmt.Fprintf(&aclText, "user %s\n%s\n", u.name, u.acl)
		}
		if err := os.WriteFile(acl, []byte(aclText.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\nacl_file %s\n", passwd, acl)
	}
	m.conf = filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(m.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(m.kill)
	return m
}

func (m *mosquitto) start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = m.logs, m.logs
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	m.mu.Lock()
	m.cmd, m.exited = cmd, exited
	m.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			m.t.Fatalf("mosquitto exited: %s", m.logs)
		default:
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto not listening on %s: %s", m.addr, m.logs)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// kill stops the broker the hard way (SIGKILL): no will, no goodbye.
func (m *mosquitto) kill() {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}
