package krew

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"
)

// TemplateFile is the krew-release-bot template at the top of the repository.
const TemplateFile = ".krew.yaml"

// Values are the data the template is executed with. krew-release-bot
// passes its release request, of which templates use .TagName.
type Values struct {
	// TagName is the release's git tag, e.g. v0.1.0.
	TagName string
}

// RenderOptions are the inputs of Render.
type RenderOptions struct {
	// Template is the text of .krew.yaml.
	Template string
	// TagName is the release tag (.TagName), also the archive version.
	TagName string
	// Checksums gives the sha256 of each archive by file name
	// (checksums.txt); addURIAndSha looks the URI's last element up here
	// where krew-release-bot downloads the asset.
	Checksums Checksums
	// BaseURL, when set, replaces everything before the archive name in
	// each URI, e.g. http://127.0.0.1:8000/ to serve local dist archives.
	BaseURL string
}

// RenderedURI is one addURIAndSha call of a render.
type RenderedURI struct {
	// Archive is the asset file name (the URI's last element).
	Archive string
	// URI is the URI written to the manifest.
	URI string
	// SHA256 is the checksum written to the manifest.
	SHA256 string
}

// Result is a rendered manifest.
type Result struct {
	// Manifest is the rendered YAML.
	Manifest []byte
	// URIs are the addURIAndSha calls, in template order.
	URIs []RenderedURI
}

// Render executes the .krew.yaml template like krew-release-bot does, with
// its two template functions:
//
//   - addURIAndSha URL TAG renders URL as a template with .TagName (and
//     .Version, the tag without its "v") and returns
//     "uri: <URL>\n    sha256: <sha256>" — the sha256 comes from
//     Checksums and the URI's base from BaseURL when set;
//   - indent N TEXT indents TEXT's continuation lines by N spaces (and
//     fixes addURIAndSha's built-in 4-space indent), for use as
//     {{ addURIAndSha "..." .TagName | indent 6 }}.
func Render(opts RenderOptions) (*Result, error) {
	if err := ValidateVersion(opts.TagName); err != nil {
		return nil, err
	}
	res := &Result{}
	funcs := template.FuncMap{
		"indent": indent,
		"addURIAndSha": func(url, tag string) (string, error) {
			u, err := renderURL(url, tag)
			if err != nil {
				return "", err
			}
			archive := path.Base(u)
			sum, ok := opts.Checksums[archive]
			if !ok {
				return "", fmt.Errorf("no checksum for %s (from %s) in %s: run `make dist` for version %s first", archive, u, ChecksumsFile, tag)
			}
			if opts.BaseURL != "" {
				u = strings.TrimSuffix(opts.BaseURL, "/") + "/" + archive
			}
			res.URIs = append(res.URIs, RenderedURI{Archive: archive, URI: u, SHA256: sum})
			return fmt.Sprintf("uri: %s\n    sha256: %s", u, sum), nil
		},
	}
	t, err := template.New(TemplateFile).Funcs(funcs).Option("missingkey=error").Parse(opts.Template)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", TemplateFile, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, Values{TagName: opts.TagName}); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", TemplateFile, err)
	}
	res.Manifest = buf.Bytes()
	return res, nil
}

// urlValues are the data of the URL template inside addURIAndSha.
type urlValues struct {
	TagName string
	Version string
}

func renderURL(url, tag string) (string, error) {
	t, err := template.New("url").Option("missingkey=error").Parse(url)
	if err != nil {
		return "", fmt.Errorf("addURIAndSha: parsing URL %q: %w", url, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, urlValues{TagName: tag, Version: versionFromTag(tag)}); err != nil {
		return "", fmt.Errorf("addURIAndSha: rendering URL %q: %w", url, err)
	}
	return buf.String(), nil
}

var versionInTag = regexp.MustCompile(`\d+(\.\d+)+`)

// versionFromTag is the first dotted number in tag (v1.2.3 → 1.2.3), or tag.
func versionFromTag(tag string) string {
	if v := versionInTag.FindString(tag); v != "" {
		return v
	}
	return tag
}

// indent is krew-release-bot's indent: continuation lines are indented by
// spaces (the first line is where the template put it), after removing the
// 4-space indent addURIAndSha adds before "sha256:".
func indent(spaces int, v string) string {
	v = strings.ReplaceAll(v, "    sha256:", "sha256:")
	pad := strings.Repeat(" ", spaces)
	return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
}
