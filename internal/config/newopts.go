package config

// The connection options libpq gained after 15 (see Keywords.Since): their
// checks, in libpq's words, and how each is applied to the pgconn.Config.
// The parser accepts them only when the current major's libpq has them,
// so on 15 none of this is reached.

import (
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// checkNewerOptions makes libpq's checks of the options of 16 to 18.
func checkNewerOptions(o Options) error {
	for _, e := range []struct {
		key   string
		valid []string
	}{
		{"sslnegotiation", []string{"postgres", "direct"}},
		{"sslcertmode", []string{"disable", "allow", "require"}},
		{"load_balance_hosts", []string{"disable", "random"}},
	} {
		if err := checkEnum(o, e.key, e.valid); err != nil {
			return err
		}
	}
	if o["sslnegotiation"] == "direct" {
		switch mode := setting(o, "sslmode", "prefer"); mode {
		case "require", "verify-ca", "verify-full":
		default:
			return connInfoErrorf(`weak sslmode "%s" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`, mode)
		}
	}
	if _, err := parseRequireAuthList(o["require_auth"]); err != nil {
		return err
	}
	for _, key := range []string{"min_protocol_version", "max_protocol_version"} {
		switch v := o[key]; v {
		case "", "3.0":
		case "3.2", "latest":
			if key == "min_protocol_version" {
				// a connection of the Go core speaks protocol 3.0 only
				return connInfoErrorf(`connection option "min_protocol_version" value "%s" is not supported: dblink's connections use protocol version 3.0`, v)
			}
		default:
			return connInfoErrorf(`invalid %s value: "%s"`, key, v)
		}
	}
	for _, key := range []string{"oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope"} {
		if o[key] != "" {
			return connInfoErrorf(`connection option "%s" is not supported: dblink cannot authenticate with OAuth`, key)
		}
	}
	for _, key := range []string{"scram_client_key", "scram_server_key"} {
		if o[key] != "" {
			return connInfoErrorf(`connection option "%s" is not supported`, key)
		}
	}
	return nil
}

// applyNewerOptions sets what pgconn does for the options of 16 to 18 from
// the options as libpq of the current major sees them (string, service,
// environment). pgconn reads some of their PG* variables itself, which a
// libpq that lacks the option ignores: every field is set here.
func applyNewerOptions(cfg *pgconn.Config, o Options) error {
	cfg.SSLNegotiation = setting(o, "sslnegotiation", "postgres")
	cfg.SSLCertMode = setting(o, "sslcertmode", "allow")
	// max_protocol_version 3.2 or latest is an upper bound: 3.0 keeps it.
	cfg.MinProtocolVersion, cfg.MaxProtocolVersion = "3.0", "3.0"
	if o["sslkeylogfile"] != "" && len(tlsConfigs(cfg)) > 0 {
		return connInfoErrorf(`connection option "sslkeylogfile" is not supported: TLS keys cannot be logged`)
	}
	if o["load_balance_hosts"] == "random" {
		shuffleHosts(cfg)
	}
	return nil
}

// requireAuthMethods are the methods a require_auth list may name, as
// libpq 16 spells them.
var requireAuthMethods = []string{"password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none"}

// parseRequireAuthList checks a require_auth list as libpq does and returns
// the methods it allows ("none": no authentication at all).
func parseRequireAuthList(v string) (map[string]bool, error) {
	allowed := map[string]bool{}
	if v == "" {
		for _, m := range requireAuthMethods {
			allowed[m] = true
		}
		return allowed, nil
	}
	negated := strings.HasPrefix(v, "!")
	if negated {
		for _, m := range requireAuthMethods {
			allowed[m] = true
		}
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		neg := strings.HasPrefix(part, "!")
		method := strings.TrimPrefix(part, "!")
		if neg != negated {
			if neg {
				return nil, connInfoErrorf(`negative require_auth method "%s" cannot be mixed with non-negative methods`, method)
			}
			return nil, connInfoErrorf(`require_auth method "%s" cannot be mixed with negative methods`, method)
		}
		known := false
		for _, m := range requireAuthMethods {
			known = known || m == method
		}
		if !known || (method == "oauth" && ServerMajor() < 18) {
			return nil, connInfoErrorf(`invalid %s value: "%s"`, "require_auth", method)
		}
		if seen[method] {
			return nil, connInfoErrorf(`require_auth method "%s" is specified more than once`, part)
		}
		seen[method] = true
		allowed[method] = !negated
	}
	return allowed, nil
}

// requireAuthPolicy is the pgconn require_auth list of a connection: the
// string's own (libpq's semantics and wording) or, for a non-superuser,
// the password methods it allows, since the password rule needs the
// server to ask for the password the string gives.
func requireAuthPolicy(o Options, password string, s Settings) string {
	own := o["require_auth"]
	if own == "" {
		return requireAuthFor(password, s)
	}
	if !s.RequirePassword {
		return own
	}
	allowed, _ := parseRequireAuthList(own)
	var both []string
	for _, m := range strings.Split(passwordAuthPolicy, ",") {
		if allowed[m] {
			both = append(both, m)
		}
	}
	if len(both) == 0 {
		return own // nothing can satisfy both: libpq's own failure
	}
	return strings.Join(both, ",")
}

// shuffleHosts is load_balance_hosts=random: the hosts are tried in a
// random order (libpq also shuffles the addresses of one host name; Go's
// dialer tries those in the resolver's order). The attempts at one host
// (with TLS, then without, for sslmode=prefer) stay together, in order.
func shuffleHosts(cfg *pgconn.Config) {
	all := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	var groups [][]*pgconn.FallbackConfig
	for i, a := range all {
		if i > 0 && all[i-1].Host == a.Host && all[i-1].Port == a.Port {
			groups[len(groups)-1] = append(groups[len(groups)-1], a)
			continue
		}
		groups = append(groups, []*pgconn.FallbackConfig{a})
	}
	rand.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	all = all[:0]
	for _, g := range groups {
		all = append(all, g...)
	}
	cfg.Host, cfg.Port, cfg.TLSConfig = all[0].Host, all[0].Port, all[0].TLSConfig
	cfg.Fallbacks = all[1:]
}
