package testfleet

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/version"
)

// AgeKey is an age X25519 key pair made for a test.
type AgeKey struct {
	// Identity is the private key file content (AGE-SECRET-KEY-1...),
	// what a *.agekey entry of a decryption Secret holds.
	Identity string
	// Recipient is the public key (age1...).
	Recipient string
}

// NewAgeKey generates a real age key.
func NewAgeKey() (*AgeKey, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	return &AgeKey{Identity: id.String() + "\n", Recipient: id.Recipient().String()}, nil
}

// EncryptSOPS encrypts plain, a document of format ("yaml", "json",
// "dotenv", "ini" or "binary"), for the age recipient with the SOPS
// library, as `sops --encrypt --age <recipient>` does; encryptedRegex
// (e.g. "^(data|stringData)$" for Kubernetes Secrets) limits which keys
// are encrypted ("" for all).
func EncryptSOPS(plain []byte, format, recipient, encryptedRegex string) ([]byte, error) {
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		return nil, err
	}
	return encryptSOPS(plain, format, mk, encryptedRegex)
}

// PGPKey is a throwaway OpenPGP key made with gpg for a test, in its own
// GnuPG home.
type PGPKey struct {
	// Fingerprint is the primary key's fingerprint.
	Fingerprint string
	// Armored is the armored private key, what a *.asc entry of a
	// decryption Secret holds.
	Armored string
	home    string
}

// NewPGPKey generates a PGP key without a passphrase with gpg, which
// kustomize-controller also needs (it imports *.asc keys with it); Close
// removes its GnuPG home.
func NewPGPKey() (*PGPKey, error) {
	if _, err := exec.LookPath("gpg"); err != nil {
		return nil, fmt.Errorf("gpg not found in PATH: install gnupg (kustomize-controller imports the *.asc keys of a decryption Secret with gpg): %w", err)
	}
	// A short path: gpg-agent's socket lives in the home.
	home, err := os.MkdirTemp("", "c5c3-gpg-")
	if err != nil {
		return nil, err
	}
	k := &PGPKey{home: home}
	gpg := func(args ...string) ([]byte, error) {
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("gpg %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	if _, err := gpg("--quick-gen-key", "c5c3 test <sops@c5c3.invalid>", "rsa2048", "sign,cert", "never"); err != nil {
		k.Close()
		return nil, err
	}
	out, err := gpg("--with-colons", "--list-secret-keys")
	if err != nil {
		k.Close()
		return nil, err
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Split(l, ":"); f[0] == "fpr" && len(f) > 9 {
			k.Fingerprint = f[9]
			break
		}
	}
	if k.Fingerprint == "" {
		k.Close()
		return nil, fmt.Errorf("gpg made no key in %s", home)
	}
	// SOPS encrypts to the encryption subkey.
	if _, err := gpg("--quick-add-key", k.Fingerprint, "rsa2048", "encr", "never"); err != nil {
		k.Close()
		return nil, err
	}
	armored, err := gpg("--armor", "--export-secret-keys", k.Fingerprint)
	if err != nil {
		k.Close()
		return nil, err
	}
	k.Armored = string(armored)
	return k, nil
}

// EncryptSOPS encrypts plain as the package-level EncryptSOPS does, for
// the PGP key, as `sops --encrypt --pgp <fingerprint>` does.
func (k *PGPKey) EncryptSOPS(plain []byte, format, encryptedRegex string) ([]byte, error) {
	home := pgp.GnuPGHome(k.home)
	if err := home.Validate(); err != nil {
		return nil, fmt.Errorf("GnuPG home %s: %w", k.home, err)
	}
	mk := pgp.NewMasterKeyFromFingerprint(k.Fingerprint)
	home.ApplyToMasterKey(mk)
	return encryptSOPS(plain, format, mk, encryptedRegex)
}

// Close stops the key's gpg-agent and removes its GnuPG home.
func (k *PGPKey) Close() {
	_ = exec.Command("gpgconf", "--homedir", k.home, "--kill", "gpg-agent").Run()
	_ = os.RemoveAll(k.home)
}

func encryptSOPS(plain []byte, format string, mk keys.MasterKey, encryptedRegex string) ([]byte, error) {
	f := formats.FormatFromString(format)
	store := common.StoreForFormat(f, config.NewStoresConfig())
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", format, err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{[]keys.MasterKey{mk}},
		EncryptedRegex: encryptedRegex,
		Version:        version.Version,
	}}
	// The data key is encrypted with mk itself: tree.GenerateDataKey goes
	// through the local key service, which drops a PGP key's GnuPG home.
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	if err := mk.Encrypt(dataKey); err != nil {
		return nil, fmt.Errorf("encrypting the data key: %w", err)
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		return nil, err
	}
	return store.EmitEncryptedFile(tree)
}
