package gitrepo

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzNormalizeURL: the ssh, scp-like and https spellings of one
// repository normalise alike; and no spelling of a URL with credentials
// keeps its password in what NormalizeURL or ParseRemote return.
func FuzzNormalizeURL(f *testing.F) {
	f.Add("github.com", "C5C3/c5c3-gitops", "x-access-token:ghp_secret0123456789")
	f.Add("gitlab.example.com", "group/sub/Project", "oauth2:glpat-secret")
	f.Fuzz(func(t *testing.T, host, path, userinfo string) {
		host, path = clean(host, "."), clean(path, "/")
		if host == "" || path == "" || strings.HasPrefix(host, ".") {
			return
		}
		want := NormalizeURL("https://" + host + "/" + path + ".git")
		for _, u := range []string{"git@" + host + ":" + path + ".git", "ssh://git@" + host + "/" + path, "https://" + host + "/" + path, "HTTPS://" + strings.ToUpper(host) + "/" + path + "/"} {
			if got := NormalizeURL(u); got != want {
				t.Fatalf("NormalizeURL(%q) = %q, want %q (as for https)", u, got, want)
			}
		}
		user, pass, ok := strings.Cut(userinfo, ":")
		if !ok || len(pass) < 6 || strings.Contains(user, pass) || strings.Contains(host+"/"+path, pass) || strings.Contains(strings.ToLower(host+"/"+path), strings.ToLower(pass)) {
			return
		}
		// Each spelling is also made with a stand-in password of the same
		// length: the password must not change anything ParseRemote says,
		// so its error must read the same for both.
		spell := func(pass string, escaped bool) string {
			if escaped {
				return "https://" + url.UserPassword(user, pass).String() + "@" + host + "/" + path + ".git"
			}
			return "https://" + user + ":" + pass + "@" + host + "/" + path
		}
		standIn := strings.Repeat("x", len(pass))
		spellings := []bool{true}
		if url.UserPassword(user, pass).String() == user+":"+pass { // needs no escaping: also written raw
			spellings = append(spellings, false)
		}
		for _, escaped := range spellings {
			raw := spell(pass, escaped)
			if got := NormalizeURL(raw); strings.Contains(strings.ToLower(got), strings.ToLower(pass)) {
				t.Fatalf("NormalizeURL(%q) = %q keeps the password", raw, got)
			}
			r, err := ParseRemote(raw)
			if err == nil && (strings.Contains(r.Host, pass) || strings.Contains(r.Path, pass)) {
				t.Fatalf("ParseRemote(%q) = %+v keeps the password", raw, r)
			}
			_, errStandIn := ParseRemote(spell(standIn, escaped))
			if (err == nil) != (errStandIn == nil) || err != nil && err.Error() != errStandIn.Error() {
				t.Fatalf("ParseRemote(%q) depends on the password: %v, with a stand-in password: %v", raw, err, errStandIn)
			}
		}
	})
}

// clean keeps letters, digits, '-', '_' and sep, without repeated or
// leading/trailing separators, as in real host names and repository paths.
func clean(s, sep string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || string(r) == sep {
			b.WriteRune(r)
		}
	}
	parts := strings.FieldsFunc(b.String(), func(r rune) bool { return string(r) == sep })
	return strings.Join(parts, sep)
}
