package config

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dblink-go/dblink/internal/pgerr"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// keysOf are the SCRAM-SHA-256 keys of a password (RFC 5802's
// SaltedPassword, ClientKey, ServerKey), as a server's verifier holds them.
func keysOf(t *testing.T, password string, salt []byte, iterations int) ScramKeys {
	t.Helper()
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, ScramKeyLen)
	if err != nil {
		t.Fatal(err)
	}
	return ScramKeys{ClientKey: scramHMAC(salted, "Client Key"), ServerKey: scramHMAC(salted, "Server Key")}
}

// RFC 7677's example exchange: the proof and the server signature of
// pencil's keys.
func TestScramProofRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	keys := keysOf(t, "pencil", salt, 4096)
	am := []byte("n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
	if got, want := scramProof(keys.ClientKey, am), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; got != want {
		t.Errorf("proof %s, want %s", got, want)
	}
	if got, want := base64.StdEncoding.EncodeToString(scramHMAC(keys.ServerKey, string(am))), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; got != want {
		t.Errorf("server signature %s, want %s", got, want)
	}
}

// scramServer is a PostgreSQL server that knows one role's SCRAM verifier
// (StoredKey and ServerKey) and nothing else: it authenticates a client,
// then sends what a server sends before its first ReadyForQuery.
type scramServer struct {
	salt       []byte
	iterations int
	storedKey  []byte
	serverKey  []byte // what it signs with (a wrong one for the mismatch test)
	trust      bool   // asks for no authentication at all
	proofs     chan bool
}

func newScramServer(t *testing.T, password string) *scramServer {
	salt := []byte("0123456789abcdef")
	keys := keysOf(t, password, salt, 4096)
	stored := sha256.Sum256(keys.ClientKey)
	return &scramServer{salt: salt, iterations: 4096, storedKey: stored[:], serverKey: keys.ServerKey, proofs: make(chan bool, 8)}
}

// listen serves connections on 127.0.0.1 until the test ends; it returns
// the port.
func (s *scramServer) listen(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			s.serve(c)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().(*net.TCPAddr).Port
}

func (s *scramServer) serve(c net.Conn) {
	be := pgproto3.NewBackend(c, c)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return
	}
	if _, ok := msg.(*pgproto3.SSLRequest); ok {
		c.Write([]byte("N"))
		if _, err := be.ReceiveStartupMessage(); err != nil {
			return
		}
	}
	if !s.trust && !s.authenticate(be) {
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "18.0"})
	be.Send(&pgproto3.ParameterStatus{Name: "client_encoding", Value: "UTF8"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 2}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	be.Flush()
	be.Receive() // the client's Terminate, or EOF
}

// authenticate runs the server's side of SCRAM-SHA-256 and reports whether
// the client proved it holds the ClientKey.
func (s *scramServer) authenticate(be *pgproto3.Backend) bool {
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	be.Flush()
	be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := be.Receive()
	if err != nil {
		return false
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || !bytes.HasPrefix(first.Data, []byte("n,,")) {
		return false
	}
	bare := bytes.Clone(first.Data[3:]) // the backend reuses its buffer
	_, nonce, _ := bytes.Cut(bare, []byte("r="))
	serverFirst := fmt.Sprintf("r=%sSERVERNONCE,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(s.salt), s.iterations)
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	be.Flush()
	be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	if msg, err = be.Receive(); err != nil {
		return false
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return false
	}
	withoutProof, proof64, _ := bytes.Cut(final.Data, []byte(",p="))
	am := string(bare) + "," + serverFirst + "," + string(withoutProof)
	proof, err := base64.StdEncoding.DecodeString(string(proof64))
	if err != nil || len(proof) != ScramKeyLen {
		return false
	}
	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey
	sig := scramHMAC(s.storedKey, am)
	for i := range proof {
		proof[i] ^= sig[i]
	}
	got := sha256.Sum256(proof)
	s.proofs <- bytes.Equal(got[:], s.storedKey)
	if !bytes.Equal(got[:], s.storedKey) {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "alice"`})
		be.Flush()
		return false
	}
	be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(scramHMAC(s.serverKey, am)))})
	return true
}

func scramConnect(t *testing.T, port int, extra string, keys *ScramKeys) (*pgconn.PgConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	connstr := fmt.Sprintf("host=127.0.0.1 port=%d user=alice dbname=db sslmode=disable %s", port, extra)
	return testConnect(ctx, connstr, Settings{RequirePassword: true, ScramKeys: keys})
}

// errText is an error as the session would show it: message and detail.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	e := pgerr.AsError(err)
	return e.Message + "\nDETAIL: " + e.Detail
}

func TestScramKeysConnect(t *testing.T) {
	withMajor(t, 18)
	srv := newScramServer(t, "pencil")
	port := srv.listen(t)
	keys := keysOf(t, "pencil", srv.salt, srv.iterations)

	c, err := scramConnect(t, port, "require_auth=scram-sha-256", &keys)
	if err != nil {
		t.Fatalf("connect with the keys: %v", errText(err))
	}
	c.Close(context.Background())
	if !<-srv.proofs {
		t.Error("the server did not accept the proof")
	}

	// a (wrong) password in the string: the keys are what counts, as in
	// libpq 18, whatever form of the password pgconn salts
	for _, pw := range []string{"not-pencil", "I\u2168\u00aa\u00df"} {
		c, err = scramConnect(t, port, "require_auth=scram-sha-256 password="+pw, &keys)
		if err != nil {
			t.Fatalf("connect with the keys and password %q: %v", pw, err)
		}
		c.Close(context.Background())
		<-srv.proofs
	}
}

func TestScramKeysWrongClientKey(t *testing.T) {
	withMajor(t, 18)
	srv := newScramServer(t, "pencil")
	port := srv.listen(t)
	keys := keysOf(t, "not pencil", srv.salt, srv.iterations)
	_, err := scramConnect(t, port, "require_auth=scram-sha-256", &keys)
	if err == nil || !strings.Contains(errText(err), `password authentication failed for user "alice"`) {
		t.Fatalf("err = %v, want the server's refusal", errText(err))
	}
	if <-srv.proofs {
		t.Error("the server accepted a proof of the wrong key")
	}
	for _, k := range [][]byte{keys.ClientKey, keys.ServerKey} {
		if strings.Contains(errText(err), base64.StdEncoding.EncodeToString(k)) {
			t.Error("the error shows a key")
		}
	}
}

func TestScramKeysServerSignatureMismatch(t *testing.T) {
	withMajor(t, 18)
	srv := newScramServer(t, "pencil")
	srv.serverKey = keysOf(t, "other", srv.salt, srv.iterations).ServerKey
	port := srv.listen(t)
	keys := keysOf(t, "pencil", srv.salt, srv.iterations)
	_, err := scramConnect(t, port, "require_auth=scram-sha-256", &keys)
	want := fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: incorrect server signature`, port)
	if err == nil || pgerr.AsError(err).Detail != want {
		t.Fatalf("err = %v, want %q", errText(err), want)
	}
	if !<-srv.proofs {
		t.Error("the server did not accept the proof")
	}
}

// The password rule: the keys stand in for a password only with
// require_auth=scram-sha-256 as the string's last word, as in contrib 18;
// a server that asks for no SCRAM fails require_auth with libpq's words.
func TestScramKeysPasswordRule(t *testing.T) {
	withMajor(t, 18)
	keys := keysOf(t, "pencil", []byte("salt"), 4096)
	for _, tc := range []struct {
		connstr string
		keys    *ScramKeys
		ok      bool
	}{
		{"host=h require_auth=scram-sha-256", &keys, true},
		{"host=h", &keys, false},
		{"host=h require_auth=scram-sha-256 require_auth=password", &keys, false},
		{"host=h require_auth=scram-sha-256", nil, false},
		{"host=h require_auth=scram-sha-256", &ScramKeys{}, false},
	} {
		_, err := Prepare(tc.connstr, Settings{RequirePassword: true, ScramKeys: tc.keys})
		if tc.ok != (err == nil) {
			t.Errorf("Prepare(%q, keys %v): %v", tc.connstr, tc.keys != nil, err)
		}
		if err != nil && pgerr.AsError(err).SQLState != "2F003" {
			t.Errorf("Prepare(%q): %v, want the password rule's error", tc.connstr, err)
		}
	}

	srv := newScramServer(t, "pencil")
	srv.trust = true
	port := srv.listen(t)
	_, err := scramConnect(t, port, "require_auth=scram-sha-256", &keys)
	want := fmt.Sprintf(`connection to server at "127.0.0.1", port %d failed: authentication method requirement "scram-sha-256" failed: server did not complete authentication`, port)
	if err == nil || pgerr.AsError(err).Detail != want {
		t.Fatalf("trust: err = %v, want %q", errText(err), want)
	}
}

// The proxy refuses to go on when pgconn's proof is of no password it
// knows (it could not give pgconn the signature it expects).
func TestScramKeysProxyUnknownPassword(t *testing.T) {
	keys := keysOf(t, "pencil", []byte("salt"), 4096)
	var sent bytes.Buffer
	p := newScramKeysProxy(keys, "pgconn's", nil, &sent)
	p.state = scramWantClientFinal
	p.clientFirstBare = []byte("n=,r=abc")
	p.serverFirst = []byte("r=abcdef,s=" + base64.StdEncoding.EncodeToString([]byte("salt")) + ",i=4096")
	body := "c=biws,r=abcdef,p=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	msg := append([]byte{'p', 0, 0, 0, byte(4 + len(body))}, body...)
	if _, err := p.Write(msg); err == nil || errors.Is(err, errIncorrectServerSignature) {
		t.Fatalf("Write: %v", err)
	}
	if sent.Len() != 0 {
		t.Error("the proxy sent a proof it could not follow")
	}
}
