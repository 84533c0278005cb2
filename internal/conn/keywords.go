package conn

// This file holds the one fact every libpq-compatibility check is derived
// from: the keyword set of libpq 15 (PQconndefaults), in libpq's order.

// Keyword is one libpq 15 connection keyword.
type Keyword struct {
	Name string // keyword as libpq spells it (case-sensitive)

	// Secret marks options libpq displays as "*" (passwords). They belong in
	// user mappings and must never appear in a message.
	Secret bool

	// UserMapping marks options contrib dblink's validator accepts only in a
	// user mapping: user and the secret ones.
	UserMapping bool

	// Debug marks options libpq displays as "D"; contrib's validator refuses
	// them everywhere.
	Debug bool
}

// Keywords is libpq 15's PQconndefaults() list, in its order.
var Keywords = []Keyword{
	{Name: "service"},
	{Name: "user", UserMapping: true},
	{Name: "password", Secret: true, UserMapping: true},
	{Name: "passfile"},
	{Name: "channel_binding"},
	{Name: "connect_timeout"},
	{Name: "dbname"},
	{Name: "host"},
	{Name: "hostaddr"},
	{Name: "port"},
	{Name: "client_encoding"},
	{Name: "options"},
	{Name: "application_name"},
	{Name: "fallback_application_name"},
	{Name: "keepalives"},
	{Name: "keepalives_idle"},
	{Name: "keepalives_interval"},
	{Name: "keepalives_count"},
	{Name: "tcp_user_timeout"},
	{Name: "sslmode"},
	{Name: "sslcompression"},
	{Name: "sslcert"},
	{Name: "sslkey"},
	{Name: "sslpassword", Secret: true, UserMapping: true},
	{Name: "sslrootcert"},
	{Name: "sslcrl"},
	{Name: "sslcrldir"},
	{Name: "sslsni"},
	{Name: "requirepeer"},
	{Name: "ssl_min_protocol_version"},
	{Name: "ssl_max_protocol_version"},
	{Name: "gssencmode"},
	{Name: "krbsrvname"},
	{Name: "gsslib"},
	{Name: "replication", Debug: true},
	{Name: "target_session_attrs"},
}

// keywordIndex maps a keyword name to its position in Keywords.
var keywordIndex = func() map[string]int {
	m := make(map[string]int, len(Keywords))
	for i, k := range Keywords {
		m[k.Name] = i
	}
	return m
}()

// LookupKeyword returns the libpq 15 keyword called name (case-sensitive).
func LookupKeyword(name string) (Keyword, bool) {
	i, ok := keywordIndex[name]
	if !ok {
		return Keyword{}, false
	}
	return Keywords[i], true
}

// isSecretKeyword reports whether name is a password-like keyword.
func isSecretKeyword(name string) bool {
	k, ok := LookupKeyword(name)
	return ok && k.Secret
}
