package config

import "sync/atomic"

// This file holds the one fact every libpq-compatibility check is derived
// from: libpq's keyword set (PQconndefaults), in libpq's order, with the
// major in which each keyword appeared. The set in force is that of the
// PostgreSQL major the shim was built for (SetServerMajor), as each
// major's contrib dblink sees the libpq it is built with.

// Keyword is one libpq connection keyword.
type Keyword struct {
	Name string // keyword as libpq spells it (case-sensitive)

	// Since is the first PostgreSQL major whose libpq knows the keyword
	// (15 for the ones libpq 15 has).
	Since int

	// Secret marks options libpq displays as "*" (passwords). They belong in
	// user mappings and must never appear in a message.
	Secret bool

	// UserMapping marks options contrib dblink's validator accepts only in a
	// user mapping: user and the secret ones.
	UserMapping bool

	// Debug marks options libpq displays as "D"; contrib's validator refuses
	// them everywhere.
	Debug bool

	// NotForFDW marks options contrib dblink's validator refuses although
	// libpq shows them (18: the OAuth options).
	NotForFDW bool

	// EnvVar is the environment variable libpq takes the value from when
	// the string does not give one ("" for none).
	EnvVar string
}

// Keywords is libpq's PQconndefaults() list of majors 15 to 18, in its
// order; LookupKeyword sees those of the current major.
var Keywords = []Keyword{
	{Name: "service", Since: 15, EnvVar: "PGSERVICE"},
	{Name: "user", Since: 15, UserMapping: true, EnvVar: "PGUSER"},
	{Name: "password", Since: 15, Secret: true, UserMapping: true, EnvVar: "PGPASSWORD"},
	{Name: "passfile", Since: 15, EnvVar: "PGPASSFILE"},
	{Name: "channel_binding", Since: 15, EnvVar: "PGCHANNELBINDING"},
	{Name: "connect_timeout", Since: 15, EnvVar: "PGCONNECT_TIMEOUT"},
	{Name: "dbname", Since: 15, EnvVar: "PGDATABASE"},
	{Name: "host", Since: 15, EnvVar: "PGHOST"},
	{Name: "hostaddr", Since: 15, EnvVar: "PGHOSTADDR"},
	{Name: "port", Since: 15, EnvVar: "PGPORT"},
	{Name: "client_encoding", Since: 15, EnvVar: "PGCLIENTENCODING"},
	{Name: "options", Since: 15, EnvVar: "PGOPTIONS"},
	{Name: "application_name", Since: 15, EnvVar: "PGAPPNAME"},
	{Name: "fallback_application_name", Since: 15},
	{Name: "keepalives", Since: 15},
	{Name: "keepalives_idle", Since: 15},
	{Name: "keepalives_interval", Since: 15},
	{Name: "keepalives_count", Since: 15},
	{Name: "tcp_user_timeout", Since: 15},
	{Name: "sslmode", Since: 15, EnvVar: "PGSSLMODE"},
	{Name: "sslnegotiation", Since: 17, EnvVar: "PGSSLNEGOTIATION"},
	{Name: "sslcompression", Since: 15, EnvVar: "PGSSLCOMPRESSION"},
	{Name: "sslcert", Since: 15, EnvVar: "PGSSLCERT"},
	{Name: "sslkey", Since: 15, EnvVar: "PGSSLKEY"},
	{Name: "sslcertmode", Since: 16, EnvVar: "PGSSLCERTMODE"},
	{Name: "sslpassword", Since: 15, Secret: true, UserMapping: true},
	{Name: "sslrootcert", Since: 15, EnvVar: "PGSSLROOTCERT"},
	{Name: "sslcrl", Since: 15, EnvVar: "PGSSLCRL"},
	{Name: "sslcrldir", Since: 15, EnvVar: "PGSSLCRLDIR"},
	{Name: "sslsni", Since: 15, EnvVar: "PGSSLSNI"},
	{Name: "sslkeylogfile", Since: 18},
	{Name: "requirepeer", Since: 15, EnvVar: "PGREQUIREPEER"},
	{Name: "require_auth", Since: 16, EnvVar: "PGREQUIREAUTH"},
	{Name: "min_protocol_version", Since: 18, EnvVar: "PGMINPROTOCOLVERSION"},
	{Name: "max_protocol_version", Since: 18, EnvVar: "PGMAXPROTOCOLVERSION"},
	{Name: "ssl_min_protocol_version", Since: 15, EnvVar: "PGSSLMINPROTOCOLVERSION"},
	{Name: "ssl_max_protocol_version", Since: 15, EnvVar: "PGSSLMAXPROTOCOLVERSION"},
	{Name: "gssencmode", Since: 15, EnvVar: "PGGSSENCMODE"},
	{Name: "krbsrvname", Since: 15, EnvVar: "PGKRBSRVNAME"},
	{Name: "gsslib", Since: 15, EnvVar: "PGGSSLIB"},
	{Name: "gssdelegation", Since: 16, EnvVar: "PGGSSDELEGATION"},
	{Name: "replication", Since: 15, Debug: true},
	{Name: "target_session_attrs", Since: 15, EnvVar: "PGTARGETSESSIONATTRS"},
	{Name: "load_balance_hosts", Since: 16, EnvVar: "PGLOADBALANCEHOSTS"},
	{Name: "scram_client_key", Since: 18, Secret: true, Debug: true},
	{Name: "scram_server_key", Since: 18, Secret: true, Debug: true},
	{Name: "oauth_issuer", Since: 18, NotForFDW: true},
	{Name: "oauth_client_id", Since: 18, NotForFDW: true},
	{Name: "oauth_client_secret", Since: 18, Secret: true, NotForFDW: true},
	{Name: "oauth_scope", Since: 18, NotForFDW: true},
}

// serverMajor is the PostgreSQL major the shim was built for; 15 until
// the shim says otherwise (SetServerMajor).
var serverMajor atomic.Int32

func init() { serverMajor.Store(15) }

// SetServerMajor sets the PostgreSQL major whose libpq and contrib dblink
// are followed: keyword set and messages. Majors before 15 count as 15.
func SetServerMajor(major int) {
	if major < 15 {
		major = 15
	}
	serverMajor.Store(int32(major))
}

// ServerMajor is the major set by SetServerMajor (15 by default).
func ServerMajor() int { return int(serverMajor.Load()) }

// keywordIndex maps a keyword name to its position in Keywords.
var keywordIndex = func() map[string]int {
	m := make(map[string]int, len(Keywords))
	for i, k := range Keywords {
		m[k.Name] = i
	}
	return m
}()

// LookupKeyword returns the keyword called name (case-sensitive) if the
// libpq of the current major has it.
func LookupKeyword(name string) (Keyword, bool) {
	i, ok := keywordIndex[name]
	if !ok || Keywords[i].Since > ServerMajor() {
		return Keyword{}, false
	}
	return Keywords[i], true
}

// isSecretKeyword reports whether name is a password-like keyword.
func isSecretKeyword(name string) bool {
	k, ok := LookupKeyword(name)
	return ok && k.Secret
}
