package main

import "testing"

// The web chat's built-in privacy notice is linked by its absolute
// address: the public URL, else the listen address.
func TestLocalBaseURL(t *testing.T) {
	for _, c := range []struct{ public, addr, want string }{
		{"https://citybot.musterstadt.de/", "127.0.0.1:8080", "https://citybot.musterstadt.de"},
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"", ":8080", "http://127.0.0.1:8080"},
		{"", "0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"", "[::1]:8080", "http://[::1]:8080"},
	} {
		if got := localBaseURL(c.public, c.addr); got != c.want {
			t.Errorf("localBaseURL(%q, %q) = %q, want %q", c.public, c.addr, got, c.want)
		}
	}
}
