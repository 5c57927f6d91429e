package diff

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	sopslogging "github.com/getsops/sops/v3/logging"
	"github.com/getsops/sops/v3/pgp"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	kfilesys "sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

func init() {
	// SOPS logs every decryption at info level: nothing of it is for the
	// user, and nothing about decrypted data may be printed.
	sopslogging.SetLevel(logrus.ErrorLevel)
}

// decryptedMarker is set by the Builder on objects it decrypted: the
// engine strips it before any server sees the object, and never shows
// their decrypted content (Secrets masked as always, other kinds not at
// all).
const decryptedMarker = "diff.c5c3.cobaltcore.io/sops-decrypted"

// ErrCannotReadDecryptionSecret is wrapped when the user may not read a
// Kustomization's decryption Secret: the encrypted objects stay skipped.
var ErrCannotReadDecryptionSecret = errors.New("cannot read the decryption Secret")

// decryptor decrypts a Kustomization's SOPS data in memory the way
// kustomize-controller's internal/decryptor does, with the age and PGP keys
// of its spec.decryption.secretRef Secret in the hub (the keys the
// controller imports: *.agekey, *.asc). KMS and Vault keys are tried with
// the user's own credentials through the SOPS library.
type decryptor struct {
	secret  string // namespace/name, for messages
	ages    age.ParsedIdentities
	gnupg   pgp.GnuPGHome
	hasPGP  bool
	svcs    []keyservice.KeyServiceClient
	cleanup func()
	// root is the checkout: files are named relative to it.
	root string
	// keyErrs are why each key of the current document failed, in the
	// order SOPS tried them: the error says that, not SOPS' own
	// line-wrapped report.
	keyErrs []string
	// sources and patches: a generator input or a patch file was
	// decrypted; what the build makes from them holds plaintext.
	sources, patches bool
}

// newDecryptor reads the keys of ks's decryption Secret.
func newDecryptor(ctx context.Context, hub client.Client, ks *kustomizev1.Kustomization) (*decryptor, error) {
	dec := ks.Spec.Decryption
	if dec.Provider != "sops" {
		return nil, fmt.Errorf("spec.decryption.provider %q of Kustomization %s/%s is unknown: kustomize-controller decrypts only with \"sops\"", dec.Provider, ks.Namespace, ks.Name)
	}
	d := &decryptor{cleanup: func() {}}
	d.svcs = []keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(keyServer{d: d})}
	if dec.SecretRef == nil {
		d.secret = "(none: spec.decryption has no secretRef)"
		return d, nil
	}
	key := client.ObjectKey{Namespace: ks.Namespace, Name: dec.SecretRef.Name}
	d.secret = key.String()
	var secret corev1.Secret
	if err := hub.Get(ctx, key, &secret); err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return nil, fmt.Errorf("%w %s (kustomize-controller reads it with its own rights): %v", ErrCannotReadDecryptionSecret, key, err)
		}
		return nil, fmt.Errorf("%w %s: %v", ErrCannotReadDecryptionSecret, key, err)
	}
	for name, value := range secret.Data {
		switch filepath.Ext(name) {
		case ".agekey":
			if err := d.ages.Import(string(value)); err != nil {
				return nil, fmt.Errorf("decryption Secret %s: %q is not an age identity file", key, name)
			}
		case ".asc":
			if !d.hasPGP {
				home, err := pgp.NewGnuPGHome()
				if err != nil {
					return nil, fmt.Errorf("decryption Secret %s: %w", key, err)
				}
				d.gnupg, d.hasPGP = home, true
				d.cleanup = func() { _ = home.Cleanup() }
			}
			if err := d.gnupg.ImportContext(ctx, value); err != nil {
				d.cleanup()
				return nil, fmt.Errorf("decryption Secret %s: %q is not an armored PGP key gpg imports", key, name)
			}
		}
	}
	return d, nil
}

// keyServer is the SOPS key service the decryptor's data keys come from.
type keyServer struct {
	d *decryptor
}

// Encrypt implements keyservice.KeyServiceServer; nothing is encrypted.
func (keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("encryption is not supported")
}

// Decrypt implements keyservice.KeyServiceServer: age and PGP with the
// Secret's keys only (never the user's own), anything else through SOPS'
// default server with the user's credentials.
func (s keyServer) Decrypt(ctx context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	resp, err := s.decrypt(ctx, req)
	if err != nil {
		s.d.keyErrs = append(s.d.keyErrs, err.Error())
	}
	return resp, err
}

func (s keyServer) decrypt(ctx context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	d := s.d
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		if len(d.ages) == 0 {
			return nil, fmt.Errorf("decryption Secret %s holds no age key (*.agekey) for recipient %s", d.secret, k.AgeKey.GetRecipient())
		}
		mk := age.MasterKey{Recipient: k.AgeKey.GetRecipient(), EncryptedKey: string(req.GetCiphertext())}
		d.ages.ApplyToMasterKey(&mk)
		plain, err := mk.Decrypt()
		if err != nil {
			return nil, fmt.Errorf("no age key of decryption Secret %s decrypts the data key for recipient %s", d.secret, k.AgeKey.GetRecipient())
		}
		return &keyservice.DecryptResponse{Plaintext: plain}, nil
	case *keyservice.Key_PgpKey:
		if !d.hasPGP {
			return nil, fmt.Errorf("decryption Secret %s holds no PGP key (*.asc) for fingerprint %s", d.secret, k.PgpKey.GetFingerprint())
		}
		mk := pgp.NewMasterKeyFromFingerprint(k.PgpKey.GetFingerprint())
		pgp.DisableOpenPGP{}.ApplyToMasterKey(mk)
		d.gnupg.ApplyToMasterKey(mk)
		mk.EncryptedKey = string(req.GetCiphertext())
		plain, err := mk.DecryptContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("no PGP key of decryption Secret %s decrypts the data key for fingerprint %s", d.secret, k.PgpKey.GetFingerprint())
		}
		return &keyservice.DecryptResponse{Plaintext: plain}, nil
	}
	provider := keyProvider(req.GetKey())
	resp, err := keyservice.Server{}.Decrypt(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s key not reachable with your credentials (kustomize-controller uses its own): %v", provider, err)
	}
	return resp, nil
}

// keyProvider names the KMS behind a key.
func keyProvider(k *keyservice.Key) string {
	switch t := k.GetKeyType().(type) {
	case *keyservice.Key_KmsKey:
		return "AWS KMS " + t.KmsKey.GetArn()
	case *keyservice.Key_GcpKmsKey:
		return "GCP KMS " + t.GcpKmsKey.GetResourceId()
	case *keyservice.Key_AzureKeyvaultKey:
		return "Azure Key Vault " + t.AzureKeyvaultKey.GetVaultUrl()
	case *keyservice.Key_VaultKey:
		return "HashiCorp Vault " + t.VaultKey.GetVaultAddress()
	case *keyservice.Key_HckmsKey:
		return "HuaweiCloud KMS"
	}
	return "unknown"
}

var formatNames = map[formats.Format]string{formats.Binary: "binary", formats.Dotenv: "dotenv", formats.Ini: "INI", formats.Json: "JSON", formats.Yaml: "YAML"}

// decrypt is kustomize-controller's SopsDecryptWithFormat in memory: load
// the encrypted document, get its data key, decrypt, emit it in out.
// Errors never carry decrypted data.
func (d *decryptor) decrypt(data []byte, in, out formats.Format) (_ []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("failed to emit encrypted %s data as decrypted %s", formatNames[in], formatNames[out])
		}
	}()
	tree, err := common.StoreForFormat(in, config.NewStoresConfig()).LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("not a valid SOPS %s document: %s", formatNames[in], userError(err))
	}
	d.keyErrs = nil
	key, err := tree.Metadata.GetDataKeyWithKeyServices(d.svcs, sops.DefaultDecryptionOrder)
	if err != nil {
		if len(d.keyErrs) > 0 {
			return nil, fmt.Errorf("cannot get the SOPS data key: %s", strings.Join(d.keyErrs, "; "))
		}
		return nil, fmt.Errorf("cannot get the SOPS data key: %s", userError(err))
	}
	if _, err := tree.Decrypt(key, aes.NewCipher()); err != nil {
		return nil, errors.New("error decrypting the SOPS tree: corrupt or tampered ciphertext")
	}
	plain, err := common.StoreForFormat(out, config.NewStoresConfig()).EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("failed to emit decrypted %s data", formatNames[out])
	}
	return plain, nil
}

func userError(err error) string {
	if u, ok := err.(sops.UserError); ok {
		return u.UserError()
	}
	return err.Error()
}

// formatForPath is the decryptor's format of a file or data key: by
// extension, .dockerconfigjson as JSON.
func formatForPath(p string) formats.Format {
	if strings.HasSuffix(p, corev1.DockerConfigJsonKey) {
		return formats.Json
	}
	return formats.FormatForPath(p)
}

// markerFormat is the input format of a SOPS document found in b.
func markerFormat(b []byte) (formats.Format, bool) {
	switch sopsDocument(b) {
	case "YAML":
		return formats.Yaml, true
	case "JSON":
		return formats.Json, true
	case "dotenv":
		return formats.Dotenv, true
	case "INI":
		return formats.Ini, true
	}
	return 0, false
}

// markerOf is the marker a file of format f must contain to be decrypted.
func markerOf(f formats.Format) string {
	for _, m := range sopsMarkers {
		if (m.format == "YAML" && f == formats.Yaml) || (m.format == "JSON" && (f == formats.Json || f == formats.Binary)) ||
			(m.format == "dotenv" && f == formats.Dotenv) || (m.format == "INI" && f == formats.Ini) {
			return m.marker
		}
	}
	return ""
}

// decryptSources is the decryptor's DecryptSources on fs: from the
// kustomization in dir, through its resources and components, the
// secretGenerator files and envs and the patch files that hold a SOPS
// document are decrypted — into fs's in-memory layer, never to disk.
func (d *decryptor) decryptSources(fs kfilesys.FileSystem, dir string) error {
	done, visited := map[string]bool{}, map[string]bool{}
	var visit func(dir string) error
	visit = func(dir string) error {
		if visited[dir] {
			return nil
		}
		visited[dir] = true
		if !fs.IsDir(dir) {
			return nil
		}
		var kpath string
		for _, n := range konfig.RecognizedKustomizationFileNames() {
			if p := filepath.Join(dir, n); fs.Exists(p) && !fs.IsDir(p) {
				kpath = p
				break
			}
		}
		if kpath == "" {
			return nil
		}
		data, err := fs.ReadFile(kpath)
		if err != nil {
			return err
		}
		var kus kustypes.Kustomization
		if err := yaml.Unmarshal(data, &kus); err != nil {
			return fmt.Errorf("failed to unmarshal kustomization file %s: %w", kpath, err)
		}
		isPatch := false
		file := func(p string, f formats.Format) error {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if done[p] || !fs.Exists(p) || fs.IsDir(p) {
				return nil
			}
			b, err := fs.ReadFile(p)
			if err != nil {
				return err
			}
			if !bytes.Contains(b, []byte(markerOf(f))) {
				return nil
			}
			plain, err := d.decrypt(b, f, f)
			if err != nil {
				name := p
				if rel, err := filepath.Rel(d.root, p); d.root != "" && err == nil && !strings.HasPrefix(rel, "..") {
					name = filepath.ToSlash(rel)
				}
				return fmt.Errorf("decrypting %s: %w", name, err)
			}
			done[p] = true
			if f == formats.Yaml || f == formats.Json {
				d.patches = d.patches || isPatch
			}
			d.sources = true
			return fs.WriteFile(p, plain)
		}
		for _, gen := range kus.SecretGenerator {
			for _, src := range gen.FileSources {
				key, path, found := strings.Cut(src, "=")
				if !found {
					path = key
				}
				if err := file(path, formatForPath(key)); err != nil {
					return err
				}
			}
			for _, env := range gen.EnvSources {
				f := formatForPath(env)
				if f == formats.Binary {
					f = formats.Dotenv
				}
				if err := file(env, f); err != nil {
					return err
				}
			}
		}
		for _, p := range kus.Patches {
			if p.Path == "" || strings.Contains(p.Path, "://") {
				continue
			}
			isPatch = true
			if err := file(p.Path, formatForPath(p.Path)); err != nil {
				return err
			}
		}
		for _, r := range append(kus.Resources, kus.Components...) {
			if !filepath.IsAbs(r) {
				r = filepath.Join(dir, r)
			}
			if err := visit(filepath.Clean(r)); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(dir)
}

// decryptResource is the decryptor's DecryptResource: a resource with SOPS
// metadata is decrypted whole; a Secret's data values holding a SOPS
// document are decrypted in place. It reports whether res was decrypted.
func (d *decryptor) decryptResource(res *resource.Resource) (bool, error) {
	if strings.EqualFold(res.GetAnnotations()[kustomizev1.GroupVersion.Group+"/decrypt"], kustomizev1.DisabledValue) {
		return false, nil
	}
	if s := res.Field("sops"); !s.IsNilOrEmpty() && !s.Value.Field("mac").IsNilOrEmpty() {
		j, err := res.MarshalJSON()
		if err != nil {
			return false, err
		}
		plain, err := d.decrypt(j, formats.Json, formats.Json)
		if err != nil {
			return false, fmt.Errorf("decrypting %s %s/%s: %w", res.GetKind(), res.GetNamespace(), res.GetName(), err)
		}
		return true, res.UnmarshalJSON(plain)
	}
	if res.GetKind() != "Secret" {
		return false, nil
	}
	data := res.GetDataMap()
	changed := false
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			continue
		}
		in, ok := markerFormat(b)
		if !ok {
			continue
		}
		plain, err := d.decrypt(b, in, formatForPath(k))
		if err != nil {
			return false, fmt.Errorf("decrypting Secret %s/%s data key %q: %w", res.GetNamespace(), res.GetName(), k, err)
		}
		data[k] = base64.StdEncoding.EncodeToString(plain)
		changed = true
	}
	if changed {
		res.SetDataMap(data)
	}
	return changed, nil
}
