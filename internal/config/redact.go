package config

// This file hides passwords in connection error messages. libpq quotes
// values verbatim, and a malformed string can put (part of) a password into
// another value: "port= password=x" makes "password=x" the port, and in
// "postgresql://u:pw/x@h" the "/" ends the host, so "pw" becomes the port.
// Every connection-time failure (parse, config, connect) reaches the shim
// through connectFailed, which passes its text through secrets.redact.

import (
	"regexp"
	"slices"
	"strings"
)

// secrets are the texts of one connection string that may be a password.
type secrets []string

// secretsOf collects them from a string and its parse (nil when it did not
// parse): the password and sslpassword values; in a URI, the userinfo
// password and each value of a query key that names a password, raw and
// percent-decoded, whole and cut where libpq's URI parser cuts (a password
// with an unencoded "/" lands partly in the port, partly in the dbname).
func secretsOf(connstr string, o Options) secrets {
	var s secrets
	add := func(v string) {
		for _, x := range []string{v, decodedOrEmpty(v)} {
			if x != "" && !slices.Contains(s, x) {
				s = append(s, x)
			}
		}
	}
	add(o["password"])
	add(o["sslpassword"])
	if i := strings.IndexByte(connstr, 0); i >= 0 {
		connstr = connstr[:i] // as ParseConnInfo
	}
	if p := uriPrefixLen(connstr); p > 0 {
		for _, v := range uriSecrets(connstr[p:]) {
			add(v)
		}
	} else {
		for _, v := range textAfterPasswordSettings(connstr) {
			add(v)
		}
	}
	// longest first, so that a piece never splits a whole secret
	slices.SortStableFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// textAfterPasswordSettings is what follows every "password=" in the raw
// text of a keyword/value string, wherever the parser put it (a quoted
// value may have swallowed the setting, leaving the password a bare word
// of its own): the word up to the next blank, and its part before a quote.
func textAfterPasswordSettings(s string) []string {
	const key = "password"
	var out []string
	for i := 0; i+len(key) <= len(s); i++ {
		// ASCII case folding only: strings.ToLower could change the length
		// of invalid UTF-8 and so every index after it
		if !asciiEqualFold(s[i:i+len(key)], key) {
			continue
		}
		rest := strings.TrimLeft(s[i+len(key):], " \t\n\r\f\v")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\n\r\f\v")
		rest = strings.TrimPrefix(rest, "'")
		word, _, _ := strings.Cut(rest, " ")
		word = strings.TrimRight(word, "\t\n\r\f\v")
		if word != "" {
			out = append(out, word)
		}
		if head, _, found := strings.Cut(word, "'"); found && head != "" {
			out = append(out, head)
		}
	}
	return out
}

// asciiEqualFold is strings.EqualFold for ASCII letters only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// uriSecrets are the userinfo password of a URI (without its scheme) and
// its pieces, and the query values of keys that name a password.
func uriSecrets(uri string) []string {
	var s []string
	// every "user:password@", in case libpq took an earlier "@" or a "/"
	// for the end of the userinfo; not an "@" in a query value (?user=a@b)
	parts := strings.Split(uri, "@")
	for _, userinfo := range parts[:len(parts)-1] {
		_, q, inQuery := strings.Cut(userinfo, "?")
		if _, pw, ok := strings.Cut(userinfo, ":"); ok && !isIPv6Host(userinfo) && !(inQuery && strings.Contains(q, "=")) {
			s = append(s, pw)
			s = append(s, strings.FieldsFunc(pw, func(c rune) bool { return strings.ContainsRune("/,:[]?", c) })...)
		}
	}
	_, query, _ := strings.Cut(uri, "?")
	for _, kv := range strings.Split(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && (namesPassword(k) || namesPassword(decodedOrEmpty(k))) {
			s = append(s, v)
		}
	}
	return s
}

// isIPv6Host reports whether s starts with a well-formed "[address]" host
// (its colons are no userinfo's).
func isIPv6Host(s string) bool {
	addr, after, ok := strings.Cut(strings.TrimPrefix(s, "["), "]")
	return strings.HasPrefix(s, "[") && ok && addr != "" && (after == "" || after[0] == ':' || after[0] == '/')
}

// namesPassword reports whether a URI query key looks like a password's.
func namesPassword(k string) bool { return strings.Contains(strings.ToLower(k), "password") }

// decodedOrEmpty is v percent-decoded, or "" when it does not decode.
func decodedOrEmpty(v string) string {
	d, err := uriDecode(v)
	if err != nil {
		return ""
	}
	return d
}

var (
	// passwordSetting is "password=..." (also sslpassword, ?password= and
	// &password= of a URI) that ended up inside a value or a quoted URI.
	passwordSetting = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s"]|"[^\s,])+)`)
	// uriUserinfo is the "user:password@" of a URI inside a value.
	uriUserinfo = regexp.MustCompile(`(postgres(?:ql)?://[^:@/\s"]*:)[^@/\s"]+@`)
)

// redact returns msg with every password hidden: "password=..." settings,
// URI userinfo passwords, and each secret where msg shows it as a value
// (see hideValue). Everything else is libpq's text, unchanged.
func (s secrets) redact(msg string) string {
	msg = passwordSetting.ReplaceAllString(msg, "${1}"+redacted)
	msg = uriUserinfo.ReplaceAllString(msg, "${1}"+redacted+"@")
	for _, x := range s {
		msg = hideValue(msg, x)
	}
	return msg
}

// hideValue replaces the occurrences of x that msg shows as a value: not
// glued to a letter or digit, and inside (or at the edge of) a quoted
// value, or the port of a "connection to server" line; not a keyword (x=).
// This holds for a
// password of any length, while a short one ("a") that merely occurs in
// libpq's words ("was", "a") is left alone.
func hideValue(msg, x string) string {
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(msg[i:], x)
		if j < 0 {
			break
		}
		j += i
		end := j + len(x)
		if standsAlone(msg, j, end) && !strings.HasPrefix(msg[end:], "=") && (inQuotes(msg, j, end) || strings.HasSuffix(msg[:j], "port ")) {
			b.WriteString(msg[i:j])
			b.WriteString(redacted)
			i = end
			continue
		}
		b.WriteString(msg[i : j+1])
		i = j + 1
	}
	b.WriteString(msg[i:])
	return b.String()
}

// standsAlone reports whether msg[j:end] is not part of a longer word.
func standsAlone(msg string, j, end int) bool {
	return (j == 0 || !isWordByte(msg[j-1])) && (end == len(msg) || !isWordByte(msg[end]))
}

// isWordByte is a letter, a digit or a byte of a multibyte character.
func isWordByte(c byte) bool {
	return c >= 0x80 || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// inQuotes reports whether msg[j:end] lies between the first and the last
// double quote of msg (a quoted value may itself hold quotes and newlines).
func inQuotes(msg string, j, end int) bool {
	return strings.Contains(msg[:j], `"`) && strings.Contains(msg[end:], `"`)
}
