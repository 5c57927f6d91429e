package testfleet

import (
	"fmt"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
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
	f := formats.FormatFromString(format)
	store := common.StoreForFormat(f, config.NewStoresConfig())
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", format, err)
	}
	mk, err := sopsage.MasterKeyFromRecipient(recipient)
	if err != nil {
		return nil, err
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{[]keys.MasterKey{mk}},
		EncryptedRegex: encryptedRegex,
		Version:        version.Version,
	}}
	dataKey, errs := tree.GenerateDataKey()
	if len(errs) > 0 {
		return nil, fmt.Errorf("generating the data key: %v", errs)
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{Tree: &tree, Cipher: aes.NewCipher(), DataKey: dataKey}); err != nil {
		return nil, err
	}
	return store.EmitEncryptedFile(tree)
}
