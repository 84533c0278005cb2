package config

import "testing"

// hostaddr takes what glibc's getaddrinfo(AI_NUMERICHOST) takes, which is
// what libpq passes it to.
func TestNumericHost(t *testing.T) {
	for in, want := range map[string]string{
		"127.1": "127.0.0.1", "0x7f.1": "127.0.0.1", "2130706433": "127.0.0.1",
		"10.1.2": "10.1.0.2", "017.1": "15.0.0.1", "127.0.0.1": "127.0.0.1", "::1": "::1",
	} {
		if got, ok := numericHost(in); !ok || got != want {
			t.Errorf("numericHost(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"256.1", "1.2.3.4.5", "a", "1.2.3.256", "08", "", "1..2", "0x", "+1", "1_0"} {
		if got, ok := numericHost(bad); ok {
			t.Errorf("numericHost(%q) accepted it: %q", bad, got)
		}
	}
}
