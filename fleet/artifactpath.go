package fleet

import (
	"path"
	"strings"
)

// ArtifactPath is a Kustomization's spec.path as kustomize-controller
// resolves it in the source artifact: securejoin.SecureJoin(root,
// spec.path), which reads the path as rooted at the artifact and never lets
// it leave it. "./apps", "apps", "/apps", ".//apps//" and "../apps" all
// name "apps"; "", ".", "/" and ".." name the root, returned as ".". The
// result is slash-separated and relative to the root. SecureJoin also
// resolves symlinks, but a source artifact holds none (source-controller
// archives regular files and directories only), so the lexical result is
// the controller's.
func ArtifactPath(specPath string) string {
	p := path.Clean("/" + specPath)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}
