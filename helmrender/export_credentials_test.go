package helmrender

// KeyringMatch and SendCredentials expose the pure matching rules of
// credentials.go and access.go to table-driven tests.
var (
	KeyringMatch    = func(auths map[string]string, repository string) (string, bool) { return keyringUser(auths, repository) }
	SendCredentials = sendCredentials
)

// keyringUser runs keyringMatch over auths whose usernames are the values.
func keyringUser(auths map[string]string, repository string) (string, bool) {
	m := map[string]dockerAuth{}
	for k, u := range auths {
		m[k] = dockerAuth{Username: u, Password: "p"}
	}
	a, ok := keyringMatch(m, repository)
	return a.Username, ok
}
