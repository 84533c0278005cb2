package config

// This file reads what a connection takes from files: the service file,
// the password file, and the root certificate, client certificate and key
// for TLS. A connection string is hostile input and may name any path, so
// every file is read under libpq's rules (only when this connection needs
// it, never for sslmode=disable or a unix socket), by the goroutine that
// connects (never the backend's thread, which must not stall), and only if
// it is a regular file of at most maxFileSize bytes: /dev/zero, a FIFO or a
// huge log file must neither exhaust memory nor hang the backend.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jackc/pgpassfile"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxFileSize bounds every file read for a connection; certificates, keys,
// password and service files are far smaller.
const maxFileSize = 1 << 20

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = fmt.Errorf("file is larger than %d bytes", maxFileSize)
)

// readSmallFile reads a regular file of at most maxFileSize bytes. The open
// does not block on a FIFO (O_NONBLOCK), and what is not a regular file is
// refused before anything is read.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	if st.Size() > maxFileSize {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// fileReason is err as libpq's messages end: strerror's words for an errno.
func fileReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return strerror(err)
}

// homeDir is libpq's home directory: $HOME, else the account's.
func homeDir() string {
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// setting is libpq's value of key: the string's own (an empty one means
// def, as libpq reads its file options), else its environment variable,
// else def.
func setting(o Options, key, def string) string {
	v, given := o[key]
	if !given {
		if k, ok := LookupKeyword(key); ok && k.EnvVar != "" {
			v = os.Getenv(k.EnvVar)
		}
	}
	if v == "" {
		return def
	}
	return v
}

// underHome is a default path in the home directory ("" without one).
func underHome(parts ...string) string {
	h := homeDir()
	if h == "" {
		return ""
	}
	return filepath.Join(append([]string{h}, parts...)...)
}

// exists reports whether path names something (libpq's stat() == 0).
func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

// --- service file -------------------------------------------------------

// defaultSysconfDir is where Debian's libpq looks for the system-wide
// pg_service.conf when PGSYSCONFDIR is not set.
const defaultSysconfDir = "/etc/postgresql-common"

// serviceName is the service a connection asks for: the service keyword,
// even empty, else PGSERVICE.
func serviceName(o Options) string {
	if name, given := o["service"]; given {
		return name
	}
	return os.Getenv("PGSERVICE")
}

// withService returns o with the settings of its service (the service
// keyword, even empty, else PGSERVICE) added beneath its own, as libpq's
// parseServiceInfo does: the user's service file (PGSERVICEFILE, else
// ~/.pg_service.conf) first, then the system-wide one. file is the service
// file it came from ("" when no service was asked for).
func withService(o Options) (out Options, file string, err error) {
	name := serviceName(o)
	if _, given := o["service"]; !given && name == "" {
		return o, "", nil
	}
	files := []string{os.Getenv("PGSERVICEFILE")}
	if files[0] == "" {
		files[0] = underHome(".pg_service.conf")
	}
	sysconf := os.Getenv("PGSYSCONFDIR")
	if sysconf == "" {
		sysconf = defaultSysconfDir
	}
	files = append(files, filepath.Join(sysconf, "pg_service.conf"))
	for _, path := range files {
		if !exists(path) {
			continue
		}
		data, err := readSmallFile(path)
		if err != nil {
			return nil, "", connInfoErrorf(`service file "%s" not found`, path)
		}
		settings, found, err := parseServiceFile(data, path, name)
		if err != nil {
			return nil, "", err
		}
		if !found {
			continue
		}
		out = Options{}
		for k, v := range settings {
			out[k] = v
		}
		for k, v := range o {
			out[k] = v
		}
		return out, path, nil
	}
	return nil, "", connInfoErrorf(`definition of service "%s" not found`, name)
}

// maxServiceLine is libpq's line buffer: longer lines are an error.
const maxServiceLine = 255

// parseServiceFile is libpq 15's parseServiceFile for a libpq built
// without LDAP: the settings of section [name] of a service file, whether
// it was found, and libpq's error (naming the file and line) for a line of
// that section it cannot take. Lines outside that section are not checked.
func parseServiceFile(data []byte, path, name string) (map[string]string, bool, error) {
	settings := map[string]string{}
	found := false
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		if len(line) >= maxServiceLine {
			return nil, false, connInfoErrorf(`line %d too long in service file "%s"`, lineNo, path)
		}
		line = strings.TrimFunc(line, func(r rune) bool { return r < 128 && isConnInfoSpace(byte(r)) })
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if found {
				break // the end of the service's section
			}
			found = strings.HasPrefix(line[1:], name) && len(line) > len(name)+1 && line[len(name)+1] == ']'
			continue
		}
		if !found {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		switch {
		case !ok:
			// also an LDAP URL: this build has no LDAP
			return nil, false, connInfoErrorf(`syntax error in service file "%s", line %d`, path, lineNo)
		case key == "service":
			return nil, false, connInfoErrorf(`nested service specifications not supported in service file "%s", line %d`, path, lineNo)
		}
		if _, known := LookupKeyword(key); !known {
			return nil, false, connInfoErrorf(`syntax error in service file "%s", line %d`, path, lineNo)
		}
		if _, set := settings[key]; !set {
			settings[key] = val // the first one counts, as in libpq
		}
	}
	return settings, found, nil
}

// --- password file ------------------------------------------------------

// passwordFromFile is libpq's passwordFromFile: the password file's entry
// for the first host, or "". As libpq, it ignores (with a warning in the
// server log) a file that is not plain or that group or others can read.
func passwordFromFile(o Options, cfg *pgconn.Config) string {
	path := setting(o, "passfile", underHome(".pgpass"))
	st, err := os.Stat(path)
	if path == "" || err != nil {
		return ""
	}
	if !st.Mode().IsRegular() {
		warnf("password file \"%s\" is not a plain file", path)
		return ""
	}
	if st.Mode().Perm()&0o077 != 0 {
		warnf("password file \"%s\" has group or world access; permissions should be u=rw (0600) or less", path)
		return ""
	}
	data, err := readSmallFile(path)
	if err != nil {
		return ""
	}
	pf, err := pgpassfile.ParsePassfile(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	host := cfg.Host
	if network, _ := pgconn.NetworkAddress(cfg.Host, cfg.Port); network == "unix" {
		host = "localhost"
	}
	return pf.FindPassword(host, fmt.Sprint(cfg.Port), cfg.Database, cfg.User)
}

// warnf writes a libpq warning where libpq writes it: the server's log.
func warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "WARNING: "+format+"\n", args...)
}

// --- TLS files ----------------------------------------------------------

// tlsConfigs are the distinct TLS configurations of cfg's attempts: none
// when no attempt uses TLS (sslmode=disable, unix sockets).
func tlsConfigs(cfg *pgconn.Config) []*tls.Config {
	var out []*tls.Config
	add := func(t *tls.Config) {
		for _, seen := range out {
			if seen == t {
				return
			}
		}
		if t != nil {
			out = append(out, t)
		}
	}
	add(cfg.TLSConfig)
	for _, fb := range cfg.Fallbacks {
		add(fb.TLSConfig)
	}
	return out
}

// applyTLSFiles makes cfg's TLS attempts take the root certificate and the
// client certificate and key as libpq's initialize_SSL does: only once the
// server has agreed to TLS, during the handshake. So a server without TLS,
// sslmode=disable or a unix socket never makes anything be read.
//
// The server's certificate is checked against the root certificate file
// whenever one exists (libpq then verifies the chain whatever the sslmode),
// and its host name too for verify-full; without the file, verify-ca and
// verify-full fail and the other modes do not verify.
func applyTLSFiles(cfg *pgconn.Config, o Options) error {
	configs := tlsConfigs(cfg)
	if len(configs) == 0 {
		return nil
	}
	for _, k := range []string{"sslcrl", "sslcrldir"} {
		if setting(o, k, "") != "" {
			return connInfoErrorf(`connection option "%s" is not supported: certificate revocation lists cannot be checked`, k)
		}
	}
	mode := setting(o, "sslmode", "prefer")
	for _, t := range configs {
		host := ""
		if mode == "verify-full" {
			host = t.ServerName // pgconn's: the host name, never a hostaddr
		}
		t.InsecureSkipVerify = true // verifyServer does it, as libpq would
		t.VerifyPeerCertificate = nil
		t.RootCAs = nil
		t.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyServer(cs, o, mode, host)
		}
		t.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, err := clientCertificate(o)
			if cert == nil && err == nil {
				cert = &tls.Certificate{} // none: libpq sends none
			}
			return cert, err
		}
	}
	return nil
}

// verifyServer checks the server's certificate during the handshake.
func verifyServer(cs tls.ConnectionState, o Options, mode, host string) error {
	roots, err := rootCertificates(o, mode)
	if err != nil || roots == nil {
		return err
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return connInfoErrorf("SSL error: certificate verify failed")
	}
	if host != "" && leaf.VerifyHostname(host) != nil {
		return hostMismatch(leaf, host)
	}
	return nil
}

// hostMismatch words a certificate that does not name host as libpq 15
// does, counting the names it examined: the subject alternative names,
// and the common name when no alternative name of host's kind exists.
func hostMismatch(leaf *x509.Certificate, host string) error {
	var names []string
	names = append(names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	ofHostsKind := len(leaf.DNSNames) > 0
	if net.ParseIP(host) != nil {
		ofHostsKind = len(leaf.IPAddresses) > 0
	}
	if !ofHostsKind && leaf.Subject.CommonName != "" {
		names = append(names, leaf.Subject.CommonName)
	}
	switch len(names) {
	case 0:
		return connInfoErrorf("could not get server's host name from server certificate")
	case 1:
		return connInfoErrorf(`server certificate for "%s" does not match host name "%s"`, names[0], host)
	case 2:
		return connInfoErrorf(`server certificate for "%s" (and 1 other name) does not match host name "%s"`, names[0], host)
	}
	return connInfoErrorf(`server certificate for "%s" (and %d other names) does not match host name "%s"`, names[0], len(names)-1, host)
}

// rootCertificates loads the root certificate file, if there is one. A
// missing file is an error only for sslmode verify-ca and verify-full.
func rootCertificates(o Options, mode string) (*x509.CertPool, error) {
	path := setting(o, "sslrootcert", underHome(".postgresql", "root.crt"))
	if !exists(path) {
		if mode == "verify-ca" || mode == "verify-full" {
			return nil, connInfoErrorf("root certificate file \"%s\" does not exist\n"+
				"Either provide the file or change sslmode to disable server certificate verification.", path)
		}
		return nil, nil
	}
	data, err := readSmallFile(path)
	if err != nil {
		return nil, connInfoErrorf(`could not read root certificate file "%s": %s`, path, fileReason(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, connInfoErrorf(`could not read root certificate file "%s": no certificate found`, path)
	}
	return pool, nil
}

// clientCertificate loads the client certificate and its key, if the
// certificate file exists (libpq sends none otherwise).
func clientCertificate(o Options) (*tls.Certificate, error) {
	certPath := setting(o, "sslcert", underHome(".postgresql", "postgresql.crt"))
	if !exists(certPath) {
		return nil, nil
	}
	certPEM, err := readSmallFile(certPath)
	if err != nil {
		return nil, connInfoErrorf(`could not open certificate file "%s": %s`, certPath, fileReason(err))
	}
	keyPath := setting(o, "sslkey", underHome(".postgresql", "postgresql.key"))
	st, err := os.Stat(keyPath)
	if keyPath == "" || err != nil {
		return nil, connInfoErrorf(`certificate present, but not private key file "%s"`, keyPath)
	}
	if !st.Mode().IsRegular() {
		return nil, connInfoErrorf(`private key file "%s" is not a regular file`, keyPath)
	}
	if keyAccessTooOpen(st) {
		return nil, connInfoErrorf(`private key file "%s" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root`, keyPath)
	}
	keyPEM, err := readSmallFile(keyPath)
	if err == nil {
		keyPEM, err = decryptKey(keyPEM, o["sslpassword"])
	}
	if err != nil {
		return nil, connInfoErrorf(`could not load private key file "%s": %s`, keyPath, fileReason(err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, connInfoErrorf(`could not load private key file "%s": %s`, keyPath, err)
	}
	return &cert, nil
}

// keyAccessTooOpen is libpq's check of a private key file's permissions.
func keyAccessTooOpen(st fs.FileInfo) bool {
	perm := st.Mode().Perm()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == 0 {
		return perm&0o137 != 0 // u=rw,g=r at most
	}
	return perm&0o077 != 0
}

// decryptKey returns an encrypted PEM key decrypted with sslpassword (the
// legacy PEM encryption libpq's OpenSSL reads), or the key as it is.
func decryptKey(keyPEM []byte, password string) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	//nolint:staticcheck // legacy PEM encryption is what such key files use
	if block == nil || !x509.IsEncryptedPEMBlock(block) {
		return keyPEM, nil
	}
	if password == "" {
		return nil, errors.New("the key is encrypted and no sslpassword was given")
	}
	//nolint:staticcheck
	der, err := x509.DecryptPEMBlock(block, []byte(password))
	if err != nil {
		return nil, errors.New("bad decrypt")
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}
