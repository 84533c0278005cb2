package config

// SCRAM-SHA-256 with the keys of the session's login instead of a password:
// PostgreSQL 18's use_scram_passthrough. libpq 18 takes the keys as the
// options scram_client_key and scram_server_key; pgconn derives them from
// a password only, so a scramKeysProxy sits between pgconn and the socket
// while the connection authenticates and puts the keys in:
//
//   - pgconn runs SCRAM as usual with the password it was given (a random
//     one when the string has none), and writes the client-final-message
//     with the proof of that password;
//   - the proxy replaces that proof with the one of the login's ClientKey
//     (RFC 5802: ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage),
//     StoredKey = H(ClientKey)), over the same AuthMessage: pgconn's own
//     client-first-message-bare, the server-first-message and pgconn's
//     client-final-message-without-proof, channel binding included;
//   - it checks the server's signature with the login's ServerKey
//     (HMAC(ServerKey, AuthMessage)) and fails the connect when it does not
//     match; when it does, pgconn is handed the signature its password
//     expects, so pgconn's own check passes.
//
// Everything else passes through untouched, and once authentication is
// over (AuthenticationOk, an error, or a method other than SASL) the proxy
// is a plain pass-through. The keys are never written anywhere but into
// the proof, and no error names them.

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/text/secure/precis"
)

// ScramKeyLen is the length of a SCRAM-SHA-256 ClientKey or ServerKey.
const ScramKeyLen = sha256.Size

// ScramKeys are the ClientKey and ServerKey of the session's login, which
// PostgreSQL 18 keeps after a SCRAM login (MyProcPort->scram_ClientKey,
// scram_ServerKey). A connection given them authenticates with them when
// the server asks for SCRAM-SHA-256, as libpq 18 does with scram_client_key
// and scram_server_key.
type ScramKeys struct {
	ClientKey []byte // ScramKeyLen bytes
	ServerKey []byte // ScramKeyLen bytes
}

// valid reports whether both keys have the right length.
func (k *ScramKeys) valid() bool {
	return k != nil && len(k.ClientKey) == ScramKeyLen && len(k.ServerKey) == ScramKeyLen
}

// errIncorrectServerSignature is libpq's words for a server that does not
// prove it knows the ServerKey.
var errIncorrectServerSignature = errors.New("incorrect server signature")

// Authentication request codes of the messages the proxy follows.
const (
	authOK           = 0
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// scramKeysState is where the exchange is.
type scramKeysState int

const (
	scramIdle            scramKeysState = iota // before the server asks for SASL
	scramWantClientFirst                       // SASL asked: pgconn's SASLInitialResponse next
	scramWantServerFirst                       // AuthenticationSASLContinue next
	scramWantClientFinal                       // pgconn's SASLResponse next
	scramWantServerFinal                       // AuthenticationSASLFinal next
	scramDone                                  // pass-through from now on
)

// scramKeysProxy is the reader and writer pgconn's frontend uses while the
// connection authenticates (see the top of the file). One per attempt.
type scramKeysProxy struct {
	keys     ScramKeys
	password string    // the password pgconn was given
	r        io.Reader // the connection, as pgconn reads it
	w        io.Writer // the connection, as pgconn writes it

	state   scramKeysState
	pending []byte // read from r and checked, not yet handed to pgconn
	err     error  // the proxy's failure, returned from then on

	clientFirstBare []byte
	serverFirst     []byte
	authMessage     []byte
	pgconnSignature []byte // base64, what pgconn's password expects
}

// newScramKeysProxy returns the proxy over r and w for keys; password is
// what pgconn authenticates with.
func newScramKeysProxy(keys ScramKeys, password string, r io.Reader, w io.Writer) *scramKeysProxy {
	return &scramKeysProxy{keys: keys, password: password, r: r, w: w}
}

// dummyScramPassword is the password pgconn gets when the connection
// string has none: random, so it proves nothing to any server.
func dummyScramPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Read hands pgconn the server's messages, checked and rewritten where the
// exchange needs it.
func (p *scramKeysProxy) Read(b []byte) (int, error) {
	for len(p.pending) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if p.state == scramDone {
			return p.r.Read(b)
		}
		if err := p.readMessage(); err != nil {
			p.err = err
		}
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

// readMessage reads one whole message from the server into pending, after
// the exchange has looked at it.
func (p *scramKeysProxy) readMessage() error {
	var header [5]byte
	if _, err := io.ReadFull(p.r, header[:]); err != nil {
		return err
	}
	size := int(binary.BigEndian.Uint32(header[1:]))
	if size < 4 || size-4 > startupMessageLimit {
		// pgconn's own limit would refuse it too: pass it on, unread
		p.state = scramDone
		p.pending = append([]byte(nil), header[:]...)
		return nil
	}
	msg := make([]byte, 5+size-4)
	copy(msg, header[:])
	if _, err := io.ReadFull(p.r, msg[5:]); err != nil {
		return err
	}
	if header[0] != 'R' || len(msg) < 9 {
		// an error, a protocol negotiation, or anything after the
		// authentication: nothing more to do
		if header[0] == 'E' {
			p.state = scramDone
		}
		p.pending = msg
		return nil
	}
	code := binary.BigEndian.Uint32(msg[5:9])
	data := msg[9:]
	switch {
	case code == authSASL && p.state == scramIdle:
		p.state = scramWantClientFirst
	case code == authSASLContinue && p.state == scramWantServerFirst:
		p.serverFirst = append([]byte(nil), data...)
		p.state = scramWantClientFinal
	case code == authSASLFinal && p.state == scramWantServerFinal:
		rewritten, err := p.serverFinal(data)
		if err != nil {
			return err
		}
		msg = authMessage(authSASLFinal, rewritten)
		p.state = scramDone
	case code == authSASLContinue || code == authSASLFinal:
		// out of order: pgconn reports it
		p.state = scramDone
	default:
		// AuthenticationOk, or a method other than SASL: pgconn (and
		// require_auth) deal with it
		p.state = scramDone
	}
	p.pending = msg
	return nil
}

// authMessage frames an Authentication message.
func authMessage(code uint32, data []byte) []byte {
	msg := make([]byte, 9, 9+len(data))
	msg[0] = 'R'
	binary.BigEndian.PutUint32(msg[1:], uint32(8+len(data)))
	binary.BigEndian.PutUint32(msg[5:], code)
	return append(msg, data...)
}

// Write sends pgconn's messages, with the client proof of the keys in its
// client-final-message.
func (p *scramKeysProxy) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if len(b) > 0 && b[0] != 'p' && (p.state == scramWantClientFirst || p.state == scramWantClientFinal) {
		// pgconn gave up on the exchange (require_auth, a missing
		// mechanism): whatever it sends now is none of the proxy's business
		p.state = scramDone
	}
	switch p.state {
	case scramWantClientFirst:
		if err := p.clientFirst(b); err != nil {
			p.err = err
			return 0, err
		}
		p.state = scramWantServerFirst
	case scramWantClientFinal:
		out, err := p.clientFinal(b)
		if err != nil {
			p.err = err
			return 0, err
		}
		if _, err := p.w.Write(out); err != nil {
			return 0, err
		}
		p.state = scramWantServerFinal
		return len(b), nil
	}
	return p.w.Write(b)
}

// saslMessage returns the body of the one SASLInitialResponse or
// SASLResponse ('p') message that b must be.
func saslMessage(b []byte) ([]byte, error) {
	if len(b) < 5 || int(binary.BigEndian.Uint32(b[1:5])) != len(b)-1 {
		return nil, errors.New("unexpected message from the client during SCRAM authentication")
	}
	return b[5:], nil
}

// clientFirst notes the client-first-message-bare of pgconn's
// SASLInitialResponse (mechanism, NUL, length, client-first-message).
func (p *scramKeysProxy) clientFirst(b []byte) error {
	body, err := saslMessage(b)
	if err != nil {
		return err
	}
	nul := bytes.IndexByte(body, 0)
	if nul < 0 || len(body) < nul+5 {
		return errors.New("malformed SCRAM message from the client")
	}
	first := body[nul+5:]
	// gs2-header: cbind-flag "," [authzid] ","; the bare message follows
	comma := bytes.IndexByte(first, ',')
	if comma < 0 {
		return errors.New("malformed SCRAM message from the client")
	}
	second := bytes.IndexByte(first[comma+1:], ',')
	if second < 0 {
		return errors.New("malformed SCRAM message from the client")
	}
	p.clientFirstBare = append([]byte(nil), first[comma+1+second+1:]...)
	return nil
}

// clientFinal returns pgconn's SASLResponse with the proof of the keys, and
// notes the signature pgconn will expect from the server.
func (p *scramKeysProxy) clientFinal(b []byte) ([]byte, error) {
	body, err := saslMessage(b)
	if err != nil {
		return nil, err
	}
	at := bytes.LastIndex(body, []byte(",p="))
	if at < 0 {
		return nil, errors.New("malformed SCRAM message from the client")
	}
	withoutProof := body[:at]
	pgconnProof := body[at+3:]
	p.authMessage = bytes.Join([][]byte{p.clientFirstBare, p.serverFirst, withoutProof}, []byte(","))

	salt, iterations, err := scramSaltAndIterations(p.serverFirst)
	if err != nil {
		return nil, err
	}
	// pgconn may have normalized its password (SASLprep) or not: the one
	// whose proof pgconn sent is the one whose signature it will expect
	for _, pw := range scramPasswordForms(p.password) {
		salted, err := pbkdf2.Key(sha256.New, pw, salt, iterations, ScramKeyLen)
		if err != nil {
			return nil, err
		}
		clientKey := scramHMAC(salted, "Client Key")
		if !hmac.Equal(pgconnProof, []byte(scramProof(clientKey, p.authMessage))) {
			continue
		}
		serverKey := scramHMAC(salted, "Server Key")
		p.pgconnSignature = []byte(base64.StdEncoding.EncodeToString(scramHMAC(serverKey, string(p.authMessage))))
		final := append(append(append([]byte(nil), withoutProof...), ",p="...), scramProof(p.keys.ClientKey, p.authMessage)...)
		out := make([]byte, 5, 5+len(final))
		out[0] = 'p'
		binary.BigEndian.PutUint32(out[1:], uint32(4+len(final)))
		return append(out, final...), nil
	}
	return nil, errors.New("could not follow the client's SCRAM exchange")
}

// serverFinal checks the server-final-message ("v=" signature) against the
// ServerKey and returns the one pgconn expects in its place.
func (p *scramKeysProxy) serverFinal(data []byte) ([]byte, error) {
	v, ok := bytes.CutPrefix(data, []byte("v="))
	if !ok {
		return data, nil // "e=" or garbage: pgconn reports it
	}
	if i := bytes.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	want := base64.StdEncoding.EncodeToString(scramHMAC(p.keys.ServerKey, string(p.authMessage)))
	if !hmac.Equal(v, []byte(want)) {
		return nil, errIncorrectServerSignature
	}
	return append([]byte("v="), p.pgconnSignature...), nil
}

// scramSaltAndIterations reads s= and i= of a server-first-message
// (pgconn has already checked it before it wrote the client-final-message).
func scramSaltAndIterations(serverFirst []byte) ([]byte, int, error) {
	var salt []byte
	iterations := 0
	for _, attr := range bytes.Split(serverFirst, []byte(",")) {
		switch {
		case bytes.HasPrefix(attr, []byte("s=")):
			s, err := base64.StdEncoding.DecodeString(string(attr[2:]))
			if err != nil {
				return nil, 0, fmt.Errorf("invalid SCRAM salt received from server: %w", err)
			}
			salt = s
		case bytes.HasPrefix(attr, []byte("i=")):
			n, err := strconv.Atoi(string(attr[2:]))
			if err != nil || n <= 0 {
				return nil, 0, errors.New("invalid SCRAM iteration count received from server")
			}
			iterations = n
		}
	}
	if salt == nil || iterations == 0 {
		return nil, 0, errors.New("invalid SCRAM server-first-message received from server")
	}
	return salt, iterations, nil
}

// scramPasswordForms are the forms of a password pgconn may have salted:
// as given, and SASLprep'd (PRECIS OpaqueString) when that differs.
func scramPasswordForms(password string) []string {
	forms := []string{password}
	if prepped, err := precis.OpaqueString.String(password); err == nil && prepped != password {
		forms = append(forms, prepped)
	}
	return forms
}

// scramHMAC is HMAC-SHA-256(key, msg).
func scramHMAC(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// scramProof is the base64 ClientProof of clientKey over authMessage.
func scramProof(clientKey, authMessage []byte) string {
	storedKey := sha256.Sum256(clientKey)
	proof := scramHMAC(storedKey[:], string(authMessage))
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	return base64.StdEncoding.EncodeToString(proof)
}
