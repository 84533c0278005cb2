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

	// EnvVar is the environment variable libpq takes the value from when
	// the string does not give one ("" for none).
	EnvVar string
}

// Keywords is libpq 15's PQconndefaults() list, in its order.
var Keywords = []Keyword{
	{Name: "service", EnvVar: "PGSERVICE"},
	{Name: "user", UserMapping: true, EnvVar: "PGUSER"},
	{Name: "password", Secret: true, UserMapping: true, EnvVar: "PGPASSWORD"},
	{Name: "passfile", EnvVar: "PGPASSFILE"},
	{Name: "channel_binding", EnvVar: "PGCHANNELBINDING"},
	{Name: "connect_timeout", EnvVar: "PGCONNECT_TIMEOUT"},
	{Name: "dbname", EnvVar: "PGDATABASE"},
	{Name: "host", EnvVar: "PGHOST"},
	{Name: "hostaddr", EnvVar: "PGHOSTADDR"},
	{Name: "port", EnvVar: "PGPORT"},
	{Name: "client_encoding", EnvVar: "PGCLIENTENCODING"},
	{Name: "options", EnvVar: "PGOPTIONS"},
	{Name: "application_name", EnvVar: "PGAPPNAME"},
	{Name: "fallback_application_name"},
	{Name: "keepalives"},
	{Name: "keepalives_idle"},
	{Name: "keepalives_interval"},
	{Name: "keepalives_count"},
	{Name: "tcp_user_timeout"},
	{Name: "sslmode", EnvVar: "PGSSLMODE"},
	{Name: "sslcompression", EnvVar: "PGSSLCOMPRESSION"},
	{Name: "sslcert", EnvVar: "PGSSLCERT"},
	{Name: "sslkey", EnvVar: "PGSSLKEY"},
	{Name: "sslpassword", Secret: true, UserMapping: true},
	{Name: "sslrootcert", EnvVar: "PGSSLROOTCERT"},
	{Name: "sslcrl", EnvVar: "PGSSLCRL"},
	{Name: "sslcrldir", EnvVar: "PGSSLCRLDIR"},
	{Name: "sslsni", EnvVar: "PGSSLSNI"},
	{Name: "requirepeer", EnvVar: "PGREQUIREPEER"},
	{Name: "ssl_min_protocol_version", EnvVar: "PGSSLMINPROTOCOLVERSION"},
	{Name: "ssl_max_protocol_version", EnvVar: "PGSSLMAXPROTOCOLVERSION"},
	{Name: "gssencmode", EnvVar: "PGGSSENCMODE"},
	{Name: "krbsrvname", EnvVar: "PGKRBSRVNAME"},
	{Name: "gsslib", EnvVar: "PGGSSLIB"},
	{Name: "replication", Debug: true},
	{Name: "target_session_attrs", EnvVar: "PGTARGETSESSIONATTRS"},
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
