package config

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// A file a connection string names is read only if it is a regular file of
// at most maxFileSize bytes, and a FIFO nobody writes to does not block.
func TestReadSmallFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for path, want := range map[string]error{"/dev/zero": errNotRegular, fifo: errNotRegular, dir: errNotRegular, big: errTooLarge} {
			if _, err := readSmallFile(path); !errors.Is(err, want) {
				t.Errorf("readSmallFile(%s) = %v, want %v", path, err, want)
			}
		}
		if data, err := readSmallFile(small); err != nil || string(data) != "cert" {
			t.Errorf("readSmallFile(small) = %q, %v", data, err)
		}
		if _, err := readSmallFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a missing file: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("readSmallFile blocked")
	}
}

func TestParseServiceFile(t *testing.T) {
	const path = "/etc/svc.conf"
	file := "dbname=ignored\n# comment\n[one]\nhost=h1\n  port=5 \nhost=h2\n[two]\nservice=one\n[three]\nnosuch=1\n[ldap]\nldap://127.0.0.1:9/x\n"
	tests := []struct {
		name    string
		want    map[string]string
		found   bool
		wantErr string
	}{
		{name: "one", want: map[string]string{"host": "h1", "port": "5"}, found: true},
		{name: "on", want: map[string]string{}, found: false},
		{name: "nosuch", want: map[string]string{}, found: false},
		{name: "two", wantErr: `nested service specifications not supported in service file "/etc/svc.conf", line 8`},
		{name: "three", wantErr: `syntax error in service file "/etc/svc.conf", line 10`},
		{name: "ldap", wantErr: `syntax error in service file "/etc/svc.conf", line 12`},
	}
	for _, tt := range tests {
		got, found, err := parseServiceFile([]byte(file), path, tt.name)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || found != tt.found || len(got) != len(tt.want) {
			t.Errorf("%s: %v, %v, %v; want %v, %v", tt.name, got, found, err, tt.want, tt.found)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got[k], v)
			}
		}
	}
	long := "[one]\nhost=" + strings.Repeat("h", 300) + "\n"
	if _, _, err := parseServiceFile([]byte(long), path, "one"); err == nil || !strings.Contains(err.Error(), "line 2 too long") {
		t.Errorf("a long line: %v", err)
	}
}

// libpq ignores a password file that group or others can read, or that is
// not a plain file.
func TestPasswordFromFile(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(pass, []byte("db.example:5432:app:alice:s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &pgconn.Config{Host: "db.example", Port: 5432, Database: "app", User: "alice"}
	o := Options{"passfile": pass}
	if got := passwordFromFile(o, cfg); got != "" {
		t.Errorf("mode 0644: password %q used", got)
	}
	if err := os.Chmod(pass, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := passwordFromFile(o, cfg); got != "s3cret" {
		t.Errorf("mode 0600: password %q, want s3cret", got)
	}
	if got := passwordFromFile(Options{"passfile": "/dev/zero"}, cfg); got != "" {
		t.Errorf("/dev/zero: password %q", got)
	}
}

func TestHostMismatch(t *testing.T) {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "db"}, DNSNames: []string{"localhost"}}
	if got := hostMismatch(leaf, "127.0.0.1").Error(); got != `server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"` {
		t.Errorf("IP host, no IP SAN: %s", got)
	}
	if got := hostMismatch(leaf, "other").Error(); got != `server certificate for "localhost" does not match host name "other"` {
		t.Errorf("DNS host, a DNS SAN: %s", got)
	}
	leaf.IPAddresses = []net.IP{net.ParseIP("10.0.0.1")}
	if got := hostMismatch(leaf, "127.0.0.1").Error(); got != `server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"` {
		t.Errorf("IP host, an IP SAN: %s", got)
	}
	if got := hostMismatch(&x509.Certificate{}, "h").Error(); got != "could not get server's host name from server certificate" {
		t.Errorf("no names: %s", got)
	}
}
