package config

// This file is libpq 15's conninfo parser (conninfo_parse and
// conninfo_uri_parse in fe-connect.c), byte for byte where messages are
// concerned, so that contrib dblink's DETAIL texts come out unchanged.

import (
	"fmt"
	"strings"
)

// Options is a parsed libpq connection string: keyword -> value, with libpq
// 15's keyword set. A keyword absent from the map was not given.
type Options map[string]string

// ConnInfoError is a connection string that libpq would refuse. Error()
// is libpq's message without the trailing newline.
type ConnInfoError struct {
	Msg string
}

func (e *ConnInfoError) Error() string { return e.Msg }

// connInfoErrorf builds a *ConnInfoError.
func connInfoErrorf(format string, args ...any) error {
	return &ConnInfoError{Msg: fmt.Sprintf(format, args...)}
}

// redacted stands in for text that might be (part of) a password. libpq
// would quote it; dblink must not.
const redacted = "********"

// ParseConnInfo parses a libpq keyword/value string or a postgresql:// /
// postgres:// URI the way libpq 15's conninfo parser does
// (PQconninfoParse). It does not expand dbname (PQconnectdb, which contrib
// dblink calls, does not either) and does not read the environment or any
// file. Errors are *ConnInfoError whose Error() is libpq's text, except that
// anything that may be part of a password is replaced by "********".
func ParseConnInfo(s string) (Options, error) {
	// A C string ends at the first NUL; the backend can hand us nothing else.
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if uriPrefixLen(s) > 0 {
		return parseURI(s)
	}
	return parseKeywordValue(s)
}

// HasPassword reports whether the string itself carries a non-empty password
// (keyword, URI user:pw@, or ?password=). The passfile, a service file and
// the environment do not count, as in contrib's dblink_connstr_check.
func (o Options) HasPassword() bool {
	return o["password"] != ""
}

// isConnInfoSpace is C isspace() in the C locale.
func isConnInfoSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// storeOption records one keyword, applying libpq's requiressl alias.
func (o Options) storeOption(keyword, value string) bool {
	if keyword == "requiressl" {
		// libpq keeps this pre-9.x spelling as an alias of sslmode.
		keyword = "sslmode"
		if strings.HasPrefix(value, "1") {
			value = "require"
		} else {
			value = "prefer"
		}
	}
	if _, ok := LookupKeyword(keyword); !ok {
		return false
	}
	o[keyword] = value
	return true
}

// parseKeywordValue is conninfo_parse.
func parseKeywordValue(s string) (Options, error) {
	o := Options{}
	afterSecret := false // the previous value was a password: fragments may follow
	i := 0
	for i < len(s) {
		if isConnInfoSpace(s[i]) {
			i++
			continue
		}

		// The keyword runs to '=' or whitespace.
		start := i
		for i < len(s) && s[i] != '=' && !isConnInfoSpace(s[i]) {
			i++
		}
		name := s[start:i]
		for i < len(s) && isConnInfoSpace(s[i]) {
			i++
		}
		if i == len(s) || s[i] != '=' {
			return nil, connInfoErrorf(`missing "=" after "%s" in connection info string`, hideAfterSecret(name, afterSecret))
		}
		i++
		for i < len(s) && isConnInfoSpace(s[i]) {
			i++
		}

		var value string
		var err error
		if i < len(s) && s[i] == '\'' {
			value, i, err = scanQuotedValue(s, i+1)
			if err != nil {
				return nil, err
			}
		} else {
			value, i = scanBareValue(s, i)
		}

		if !o.storeOption(name, value) {
			return nil, connInfoErrorf(`invalid connection option "%s"`, hideAfterSecret(name, afterSecret))
		}
		// "host= password=se cret" makes "password=se" the host
		afterSecret = isSecretKeyword(name) || passwordSetting.MatchString(value)
	}
	return o, nil
}

// hideAfterSecret redacts a word libpq would quote that may hold a password:
// one that directly follows a password value ("password=se cret" makes libpq
// quote "cret"), and the userinfo password of a URI-shaped word in a
// keyword/value string ("host=x postgresql://u:pw@h" makes it quote the URI).
func hideAfterSecret(name string, afterSecret bool) string {
	if afterSecret {
		return redacted
	}
	if uriPrefixLen(name) > 0 {
		return (&uriParser{uri: name}).redactedURI()
	}
	return name
}

// scanBareValue reads an unquoted value starting at i: up to whitespace,
// with backslash taking the next byte literally. It returns the value and
// the position after the terminating whitespace.
func scanBareValue(s string, i int) (string, int) {
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		if isConnInfoSpace(c) {
			return b.String(), i + 1
		}
		if c == '\\' {
			i++
			if i < len(s) {
				b.WriteByte(s[i])
				i++
			}
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), i
}

// scanQuotedValue reads a single-quoted value whose body starts at i. A
// backslash takes the next byte literally; a doubled quote is not an escape.
func scanQuotedValue(s string, i int) (string, int, error) {
	var b strings.Builder
	for {
		if i >= len(s) {
			return "", 0, connInfoErrorf("unterminated quoted string in connection info string")
		}
		c := s[i]
		switch c {
		case '\\':
			i++
			if i < len(s) {
				b.WriteByte(s[i])
				i++
			}
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
			i++
		}
	}
}

// uriPrefixLen is uri_prefix_length: the scheme designators are
// case-sensitive.
func uriPrefixLen(s string) int {
	for _, p := range []string{"postgresql://", "postgres://"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// uriParser carries conninfo_uri_parse_options's state.
type uriParser struct {
	uri  string // the whole URI, as given
	opts Options
}

// parseURI is conninfo_uri_parse_options.
func parseURI(uri string) (Options, error) {
	up := &uriParser{uri: uri, opts: Options{}}
	p := uriPrefixLen(uri)

	p, err := up.parseUserInfo(p)
	if err != nil {
		return nil, err
	}
	p, term, err := up.parseHosts(p)
	if err != nil {
		return nil, err
	}
	if term != 0 && term != '?' {
		// Path: the database name, up to the query.
		start := p + 1
		p = start
		for p < len(uri) && uri[p] != '?' {
			p++
		}
		term = 0
		if p < len(uri) {
			term = '?'
		}
		// An empty dbname would force the default; libpq leaves it unset.
		if dbname := uri[start:p]; dbname != "" {
			if err := up.storeDecoded("dbname", dbname); err != nil {
				return nil, err
			}
		}
	}
	if term != 0 {
		if err := up.parseParams(uri[p+1:]); err != nil {
			return nil, err
		}
	}
	return up.opts, nil
}

// parseUserInfo reads "user[:password]@" if an '@' comes before any '/'.
// It returns the position of the netloc.
func (up *uriParser) parseUserInfo(start int) (int, error) {
	uri := up.uri
	at := start
	for at < len(uri) && uri[at] != '@' && uri[at] != '/' {
		at++
	}
	if at == len(uri) || uri[at] != '@' {
		return start, nil
	}
	userEnd := start
	for uri[userEnd] != ':' && uri[userEnd] != '@' {
		userEnd++
	}
	if user := uri[start:userEnd]; user != "" {
		if err := up.storeDecoded("user", user); err != nil {
			return 0, err
		}
	}
	if uri[userEnd] == ':' {
		if password := uri[userEnd+1 : at]; password != "" {
			if err := up.storeDecoded("password", password); err != nil {
				return 0, err
			}
		}
	}
	return at + 1, nil
}

// parseHosts reads the comma-separated netloc[:port] list. It returns the
// position of the terminator and the terminator itself (0 at end of string,
// '/' or '?').
func (up *uriParser) parseHosts(p int) (int, byte, error) {
	uri := up.uri
	at := func(i int) byte { // C string semantics: NUL past the end
		if i < len(uri) {
			return uri[i]
		}
		return 0
	}
	var hosts, ports strings.Builder
	var term byte
	for {
		var host string
		if at(p) == '[' {
			p++
			start := p
			for at(p) != 0 && at(p) != ']' {
				p++
			}
			if at(p) == 0 {
				return 0, 0, connInfoErrorf(`end of string reached when looking for matching "]" in IPv6 host address in URI: "%s"`, up.redactedURI())
			}
			if p == start {
				return 0, 0, connInfoErrorf(`IPv6 host address may not be empty in URI: "%s"`, up.redactedURI())
			}
			host = uri[start:p]
			p++
			if c := at(p); c != 0 && c != ':' && c != '/' && c != '?' && c != ',' {
				return 0, 0, connInfoErrorf(`unexpected character "%c" at position %d in URI (expected ":" or "/"): "%s"`, c, p+1, up.redactedURI())
			}
		} else {
			start := p
			for c := at(p); c != 0 && c != ':' && c != '/' && c != '?' && c != ','; c = at(p) {
				p++
			}
			host = uri[start:p]
		}
		term = at(p)
		hosts.WriteString(host)

		if term == ':' {
			p++
			start := p
			for c := at(p); c != 0 && c != '/' && c != '?' && c != ','; c = at(p) {
				p++
			}
			term = at(p)
			ports.WriteString(uri[start:p])
		}
		if term != ',' {
			break
		}
		p++
		hosts.WriteByte(',')
		ports.WriteByte(',')
	}
	if h := hosts.String(); h != "" {
		if err := up.storeDecoded("host", h); err != nil {
			return 0, 0, err
		}
	}
	if pt := ports.String(); pt != "" {
		if err := up.storeDecoded("port", pt); err != nil {
			return 0, 0, err
		}
	}
	return p, term, nil
}

// parseParams is conninfo_uri_parse_params: "k=v&k=v", both sides
// percent-decoded, unknown keywords refused.
func (up *uriParser) parseParams(params string) error {
	for params != "" {
		var pair string
		if amp := strings.IndexByte(params, '&'); amp >= 0 {
			pair, params = params[:amp], params[amp+1:]
		} else {
			pair, params = params, ""
		}
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			return connInfoErrorf(`missing key/value separator "=" in URI query parameter: "%s"`, pair)
		}
		rawKey, rawValue := pair[:eq], pair[eq+1:]
		if strings.IndexByte(rawValue, '=') >= 0 {
			return connInfoErrorf(`extra key/value separator "=" in URI query parameter: "%s"`, rawKey)
		}
		key, err := uriDecode(rawKey)
		if err != nil {
			return err
		}
		value, err := uriDecode(rawValue)
		if err != nil {
			if isSecretKeyword(key) {
				return connInfoErrorf(`invalid percent-encoded token: "%s"`, redacted)
			}
			return err
		}
		// JDBC compatibility, as in libpq.
		if key == "ssl" && value == "true" {
			key, value = "sslmode", "require"
		}
		if !up.opts.storeOption(key, value) {
			return connInfoErrorf(`invalid URI query parameter: "%s"`, key)
		}
	}
	return nil
}

// storeDecoded percent-decodes a URI component and stores it.
func (up *uriParser) storeDecoded(keyword, raw string) error {
	value, err := uriDecode(raw)
	if err != nil {
		if isSecretKeyword(keyword) {
			return connInfoErrorf(`invalid percent-encoded token: "%s"`, redacted)
		}
		return err
	}
	up.opts.storeOption(keyword, value)
	return nil
}

// redactedURI is the URI with the password of its userinfo hidden, for
// messages where libpq quotes the whole URI.
func (up *uriParser) redactedURI() string {
	uri := up.uri
	start := uriPrefixLen(uri)
	at := start
	for at < len(uri) && uri[at] != '@' && uri[at] != '/' {
		at++
	}
	if at == len(uri) || uri[at] != '@' {
		return uri
	}
	colon := strings.IndexByte(uri[start:at], ':')
	if colon < 0 || start+colon+1 == at {
		return uri
	}
	return uri[:start+colon+1] + redacted + uri[at:]
}

// uriDecode is conninfo_uri_decode.
func uriDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", connInfoErrorf(`invalid percent-encoded token: "%s"`, s)
		}
		hi, ok1 := hexDigit(s[i+1])
		lo, ok2 := hexDigit(s[i+2])
		if !ok1 || !ok2 {
			return "", connInfoErrorf(`invalid percent-encoded token: "%s"`, s)
		}
		c := hi<<4 | lo
		if c == 0 {
			return "", connInfoErrorf(`forbidden value %%00 in percent-encoded value: "%s"`, s)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

// hexDigit is get_hexdigit.
func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// String renders the options as a keyword/value string, in libpq's keyword
// order, every value quoted, that ParseConnInfo turns back into o. It
// contains any password: never put it in a message.
func (o Options) String() string {
	var b strings.Builder
	for _, k := range Keywords {
		v, ok := o[k.Name]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.Name)
		b.WriteByte('=')
		b.WriteString(quoteConnInfoValue(v))
	}
	return b.String()
}

// connInfoEscaper backslash-escapes \ and ' in a quoted value.
var connInfoEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// quoteConnInfoValue single-quotes v with \ and ' backslash-escaped.
func quoteConnInfoValue(v string) string {
	return "'" + connInfoEscaper.Replace(v) + "'"
}
