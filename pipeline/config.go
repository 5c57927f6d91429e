package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// ConfigFile is the name of the promotion config at the gitops repo root.
const ConfigFile = "c5c3.yaml"

// APIVersion of c5c3.yaml and of the promote schemas, and the kind of
// c5c3.yaml.
const (
	APIVersion = "c5c3.cobaltcore.io/v1alpha1"
	// ConfigKind is the kind of c5c3.yaml.
	ConfigKind = "Promotion"
)

// Config is c5c3.yaml: the environments of the repo and the order in which
// revisions may move between them.
type Config struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Kind       string `yaml:"kind" json:"kind"`
	// Environments, each a set of paths in the repo.
	Environments []Environment `yaml:"environments" json:"environments"`
	// Pipeline lists environment names in promotion order; only a promotion
	// from one entry to the next is allowed. Empty allows any pair.
	Pipeline []string `yaml:"pipeline,omitempty" json:"pipeline,omitempty"`
}

// Environment is one stage of the pipeline.
type Environment struct {
	// Name is used in branch names and commit messages.
	Name string `yaml:"name" json:"name"`
	// Context is the kubeconfig context of this environment's hub; empty
	// means the hub given by --kubeconfig/--context.
	Context string `yaml:"context,omitempty" json:"context,omitempty"`
	// Paths are directories (or files) of the repo, relative to its root;
	// path.Match patterns such as apps/*/staging are allowed per segment.
	Paths []string `yaml:"paths" json:"paths"`
	// Kustomizations are the hub Kustomizations ("namespace/name") that
	// deploy this environment. Default: those whose spec.path is under
	// Paths and whose source is this repository.
	Kustomizations []string `yaml:"kustomizations,omitempty" json:"kustomizations,omitempty"`
	// MinSoak is how long this environment's revision must have run Ready
	// before it may be promoted from (a Go duration: 2h, 90m, 1h30m); the
	// default for --min-soak. Empty means 0.
	MinSoak string `yaml:"minSoak,omitempty" json:"minSoak,omitempty"`
}

// SoakMinimum is MinSoak as a duration (0 when unset; validated on parse).
func (e *Environment) SoakMinimum() time.Duration {
	d, _ := time.ParseDuration(e.MinSoak)
	return d
}

var (
	envNameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)
	dns1123RE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	notFoundRE = regexp.MustCompile(`^(line \d+): field (\S+) not found in type pipeline\.(\w+)$`)
)

// knownFields names the fields each config type accepts, for errors.
var knownFields = map[string]string{
	"Config":      "apiVersion, kind, environments, pipeline",
	"Environment": "name, context, paths, kustomizations, minSoak",
}

// ParseConfig decodes c5c3.yaml strictly: unknown fields, a wrong
// apiVersion/kind, duplicate or malformed environments are errors naming
// file (used in messages only) and the field.
func ParseConfig(file string, data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: it needs apiVersion %s, kind %s and environments", file, APIVersion, ConfigKind)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, 0, len(te.Errors))
			for _, e := range te.Errors {
				if m := notFoundRE.FindStringSubmatch(e); m != nil {
					e = fmt.Sprintf("%s: unknown field %q (allowed: %s)", m[1], m[2], knownFields[m[3]])
				}
				msgs = append(msgs, e)
			}
			return nil, fmt.Errorf("%s: %s", file, strings.Join(msgs, "; "))
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s: only one YAML document is allowed", file)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	if c.APIVersion != APIVersion {
		return fmt.Errorf("apiVersion is %q, want %s", c.APIVersion, APIVersion)
	}
	if c.Kind != ConfigKind {
		return fmt.Errorf("kind is %q, want %s", c.Kind, ConfigKind)
	}
	if len(c.Environments) == 0 {
		return errors.New("environments: at least one environment is required")
	}
	seen := map[string]bool{}
	for i, e := range c.Environments {
		where := fmt.Sprintf("environments[%d]", i)
		if e.Name == "" {
			return fmt.Errorf("%s.name is required", where)
		}
		where = fmt.Sprintf("environments[%d] (%s)", i, e.Name)
		if !envNameRE.MatchString(e.Name) {
			return fmt.Errorf("%s.name: use lower-case letters, digits, '.', '_' and '-' (it becomes part of a branch name)", where)
		}
		if seen[e.Name] {
			return fmt.Errorf("%s.name: environment %q is declared twice", where, e.Name)
		}
		seen[e.Name] = true
		if len(e.Paths) == 0 {
			return fmt.Errorf("%s.paths: at least one path is required", where)
		}
		for _, p := range e.Paths {
			if err := checkPattern(p); err != nil {
				return fmt.Errorf("%s.paths: %w", where, err)
			}
		}
		if e.MinSoak != "" {
			if d, err := time.ParseDuration(e.MinSoak); err != nil || d < 0 {
				return fmt.Errorf("%s.minSoak: %q is not a duration: use e.g. 2h, 90m or 1h30m", where, e.MinSoak)
			}
		}
		for _, k := range e.Kustomizations {
			ns, name, ok := strings.Cut(k, "/")
			if !ok || !dns1123RE.MatchString(ns) || !dns1123RE.MatchString(name) {
				return fmt.Errorf("%s.kustomizations: %q must be NAMESPACE/NAME", where, k)
			}
		}
	}
	inPipeline := map[string]bool{}
	for i, n := range c.Pipeline {
		if !seen[n] {
			return fmt.Errorf("pipeline[%d]: %q is not a declared environment", i, n)
		}
		if inPipeline[n] {
			return fmt.Errorf("pipeline[%d]: %q appears twice", i, n)
		}
		inPipeline[n] = true
	}
	return nil
}

func checkPattern(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return fmt.Errorf("%q must be relative to the repository root, with forward slashes", p)
	}
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%q must name a directory or file inside the repository", p)
	}
	if _, err := path.Match(clean, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern: %w", p, err)
	}
	return nil
}

// Environment returns the environment called name.
func (c *Config) Environment(name string) (*Environment, error) {
	for i := range c.Environments {
		if c.Environments[i].Name == name {
			return &c.Environments[i], nil
		}
	}
	names := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		names[i] = e.Name
	}
	return nil, fmt.Errorf("no environment %q in %s (declared: %s)", name, ConfigFile, strings.Join(names, ", "))
}

// CheckPromotion returns an error unless from → to is allowed by the
// pipeline: to must directly follow from. Without a pipeline any two
// different environments may be promoted.
func (c *Config) CheckPromotion(from, to string) error {
	if _, err := c.Environment(from); err != nil {
		return err
	}
	if _, err := c.Environment(to); err != nil {
		return err
	}
	if from == to {
		return fmt.Errorf("cannot promote %s to itself", from)
	}
	if len(c.Pipeline) == 0 {
		return nil
	}
	var allowed []string
	for i := 0; i+1 < len(c.Pipeline); i++ {
		if c.Pipeline[i] == from && c.Pipeline[i+1] == to {
			return nil
		}
		allowed = append(allowed, c.Pipeline[i]+" → "+c.Pipeline[i+1])
	}
	if len(allowed) == 0 {
		return fmt.Errorf("the pipeline in %s allows no promotion (it needs at least two environments)", ConfigFile)
	}
	return fmt.Errorf("%s → %s is not allowed by the pipeline in %s; allowed: %s", from, to, ConfigFile, strings.Join(allowed, ", "))
}

// Names lists the environments; after is the promotion source when
// completing the target: then only the environments it may be promoted
// to are listed.
func (c *Config) Names(after string) []string {
	var out []string
	for _, e := range c.Environments {
		if after == "" || (e.Name != after && c.CheckPromotion(after, e.Name) == nil) {
			out = append(out, e.Name)
		}
	}
	return out
}

// Under reports whether the slash-separated repo path p is one of the
// environment's paths or inside one of them.
func (e *Environment) Under(p string) bool {
	for _, pat := range e.Paths {
		if underPattern(p, pat) {
			return true
		}
	}
	return false
}

// underPattern matches p against pat segment by segment: p is under pat
// when its first segments match all of pat's.
func underPattern(p, pat string) bool {
	p = path.Clean(strings.TrimPrefix(p, "./"))
	pat = path.Clean(strings.TrimPrefix(pat, "./"))
	ps, pats := strings.Split(p, "/"), strings.Split(pat, "/")
	if len(ps) < len(pats) {
		return false
	}
	for i, seg := range pats {
		if ok, err := path.Match(seg, ps[i]); err != nil || !ok {
			return false
		}
	}
	return true
}
