package testfleet

import (
	"regexp"
	"strings"
)

// namespaceField is a YAML field naming a namespace, block or flow style:
// namespace (metadata, a kustomization's, a sourceRef's), targetNamespace,
// storageNamespace; the value possibly quoted, ending the line or the entry.
var namespaceField = regexp.MustCompile(`(\b(?:namespace|targetNamespace|storageNamespace):[ \t]*)(["']?)([a-z0-9][a-z0-9.-]*)(["']?)([ \t]*(?:$|[,}]))`)

// namespaceName is the metadata.name of a Namespace object, block style.
var namespaceName = regexp.MustCompile(`^(\s*name:[ \t]*)(["']?)([a-z0-9][a-z0-9.-]*)(["']?)[ \t]*$`)

// renameNamespaces renames, in the YAML documents of b, every namespace
// that is a key of names to its value: the namespace fields of any object
// and the name of Namespace objects. Other mentions (labels, DNS names in
// data) stay: they are text, not a place the object lives. The sample's
// cluster-scoped objects (SampleClusterObjects: a ClusterRole and its
// ClusterRoleBinding) are renamed the same way, in their metadata.name and
// a binding's roleRef.name, so that two samples share no object.
func renameNamespaces(b []byte, names map[string]string) []byte {
	if len(names) == 0 {
		return b
	}
	rename := func(re *regexp.Regexp, line string) string {
		return re.ReplaceAllStringFunc(line, func(m string) string {
			g := re.FindStringSubmatch(m)
			n, ok := names[g[3]]
			if !ok || g[2] != g[4] {
				return m
			}
			return g[1] + g[2] + n + g[4] + strings.Join(g[5:], "")
		})
	}
	var out []string
	for _, doc := range strings.Split(string(b), "\n---") {
		lines := strings.Split(doc, "\n")
		isNamespace, isClusterRBAC := false, false
		for _, l := range lines {
			switch strings.TrimRight(l, " \t\r") {
			case "kind: Namespace":
				isNamespace = true
			case "kind: ClusterRole", "kind: ClusterRoleBinding":
				isClusterRBAC = true
			}
		}
		section := ""
		for i, l := range lines {
			if l != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "#") {
				section, _, _ = strings.Cut(l, ":")
			}
			l = rename(namespaceField, l)
			if isNamespace || isClusterRBAC && (section == "metadata" || section == "roleRef") && strings.HasPrefix(l, "  name:") {
				l = rename(namespaceName, l)
			}
			lines[i] = l
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return []byte(strings.Join(out, "\n---"))
}
