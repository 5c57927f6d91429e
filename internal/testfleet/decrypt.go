package testfleet

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/pgp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// oracleDecryptor decrypts SOPS data as kustomize-controller's
// internal/decryptor does, written on the SOPS library directly (not with
// the plugin's diff package): the keys of spec.decryption.secretRef
// (*.agekey age identities, *.asc PGP keys imported with gpg), generator
// inputs and patches decrypted in place before the build (format by the
// file's extension), after the build a resource with SOPS metadata whole
// and a Secret's data values that are SOPS documents (input format by the
// marker, output by the data key's extension).
type oracleDecryptor struct {
	ages   sopsage.ParsedIdentities
	gnupg  pgp.GnuPGHome
	hasPGP bool
}

func newOracleDecryptor(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) (*oracleDecryptor, error) {
	d := &oracleDecryptor{}
	ref := ks.Spec.Decryption.SecretRef
	if ref == nil {
		return d, nil
	}
	sec := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ks.Namespace, Name: ref.Name}, sec); err != nil {
		return nil, err
	}
	for name, v := range sec.Data {
		switch {
		case strings.HasSuffix(name, ".agekey"):
			ids, err := age.ParseIdentities(bytes.NewReader(v))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			d.ages = append(d.ages, ids...)
		case strings.HasSuffix(name, ".asc"):
			if !d.hasPGP {
				home, err := pgp.NewGnuPGHome()
				if err != nil {
					return nil, err
				}
				d.gnupg, d.hasPGP = home, true
			}
			if err := d.gnupg.Import(v); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return d, nil
}

func (d *oracleDecryptor) close() {
	if d.hasPGP {
		_ = d.gnupg.Cleanup()
	}
}

// markers are the decryptor's sopsFormatToMarkerBytes.
var markers = map[formats.Format][]byte{
	formats.Yaml:   []byte("mac: ENC["),
	formats.Json:   []byte(`"mac": "ENC[`),
	formats.Binary: []byte(`"mac": "ENC[`),
	formats.Dotenv: []byte("sops_mac=ENC["),
	formats.Ini:    []byte("[sops]"),
}

func pathFormat(p string) formats.Format {
	if strings.HasSuffix(p, corev1.DockerConfigJsonKey) {
		return formats.Json
	}
	return formats.FormatForPath(p)
}

// decrypt decrypts the SOPS document data of format in and emits it in
// format out.
func (d *oracleDecryptor) decrypt(data []byte, in, out formats.Format) ([]byte, error) {
	tree, err := common.StoreForFormat(in, config.NewStoresConfig()).LoadEncryptedFile(data)
	if err != nil {
		return nil, err
	}
	var dataKey []byte
	for _, group := range tree.Metadata.KeyGroups {
		for _, k := range group {
			switch mk := k.(type) {
			case *sopsage.MasterKey:
				d.ages.ApplyToMasterKey(mk)
			case *pgp.MasterKey:
				if !d.hasPGP {
					continue
				}
				d.gnupg.ApplyToMasterKey(mk)
			default:
				continue
			}
			if dk, err := k.Decrypt(); err == nil {
				dataKey = dk
			}
		}
	}
	if dataKey == nil {
		return nil, fmt.Errorf("no key decrypts the data key")
	}
	// Like the controller, no MAC check: kustomize may have changed the
	// unencrypted fields (the namespace) the MAC covers.
	if _, err := tree.Decrypt(dataKey, aes.NewCipher()); err != nil {
		return nil, err
	}
	return common.StoreForFormat(out, config.NewStoresConfig()).EmitPlainFile(tree.Branches)
}

// decryptSources decrypts, in place, the SOPS-encrypted secretGenerator
// files and envs and patch files of the kustomization in dir and of the
// local directories it refers to.
func (d *oracleDecryptor) decryptSources(root, dir string, visited map[string]bool) error {
	if visited[dir] {
		return nil
	}
	visited[dir] = true
	var k kustypes.Kustomization
	found := false
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		if err := yaml.Unmarshal(b, &k); err != nil {
			return err
		}
		found = true
		break
	}
	if !found {
		return nil
	}
	// file decrypts p in format f: a generator file's format is its key's
	// (kustomize-controller's formatForPath(key)), an env file's its own,
	// dotenv when that is binary, a patch's its own.
	file := func(p string, f formats.Format) error {
		full := filepath.Join(dir, p)
		if !strings.HasPrefix(full, root) {
			return nil
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return nil
		}
		if !bytes.Contains(b, markers[f]) {
			return nil
		}
		plain, err := d.decrypt(b, f, f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return os.WriteFile(full, plain, 0o600)
	}
	for _, g := range k.SecretGenerator {
		for _, f := range g.FileSources {
			key, path, found := strings.Cut(f, "=")
			if !found {
				path = key
			}
			if err := file(path, pathFormat(key)); err != nil {
				return err
			}
		}
		for _, e := range append(g.EnvSources, g.EnvSource) {
			if e == "" {
				continue
			}
			f := pathFormat(e)
			if f == formats.Binary {
				f = formats.Dotenv
			}
			if err := file(e, f); err != nil {
				return err
			}
		}
	}
	for _, p := range k.Patches {
		if p.Path != "" {
			if err := file(p.Path, pathFormat(p.Path)); err != nil {
				return err
			}
		}
	}
	for _, r := range append(append([]string{}, k.Resources...), k.Components...) {
		sub := filepath.Join(dir, r)
		if fi, err := os.Stat(sub); err == nil && fi.IsDir() && strings.HasPrefix(sub, root) {
			if err := d.decryptSources(root, sub, visited); err != nil {
				return err
			}
		}
	}
	return nil
}

// decryptResource decrypts the YAML of one built resource: whole with
// SOPS metadata (from the resource's own YAML, whose key order the MAC
// covers), else a Secret's data values that are SOPS documents. Objects
// annotated kustomize.toolkit.fluxcd.io/decrypt: disabled are left alone.
func (d *oracleDecryptor) decryptResource(y []byte) ([]byte, error) {
	o := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(y, &o.Object); err != nil {
		return nil, err
	}
	if strings.EqualFold(o.GetAnnotations()[kustomizev1.GroupVersion.Group+"/decrypt"], kustomizev1.DisabledValue) {
		return y, nil
	}
	if s, ok := o.Object["sops"]; ok && s != nil {
		plain, err := d.decrypt(y, formats.Yaml, formats.Yaml)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", o.GetKind(), o.GetName(), err)
		}
		return plain, nil
	}
	changed, err := d.decryptData(o)
	if err != nil || !changed {
		return y, err
	}
	return yaml.Marshal(o.Object)
}

// decryptData decrypts the data values of a Secret that are SOPS
// documents: input format by the marker, output by the key's extension.
func (d *oracleDecryptor) decryptData(o *unstructured.Unstructured) (bool, error) {
	if o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" {
		return false, nil
	}
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	changed := false
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			continue
		}
		for _, in := range []formats.Format{formats.Yaml, formats.Json, formats.Dotenv, formats.Ini} {
			if !bytes.Contains(b, markers[in]) {
				continue
			}
			plain, err := d.decrypt(b, in, pathFormat(k))
			if err != nil {
				return false, fmt.Errorf("Secret %s data key %q: %w", o.GetName(), k, err)
			}
			data[k] = base64.StdEncoding.EncodeToString(plain)
			changed = true
			break
		}
	}
	if changed {
		return true, unstructured.SetNestedStringMap(o.Object, data, "data")
	}
	return false, nil
}
