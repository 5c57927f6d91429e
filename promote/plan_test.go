package promote

import (
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/pipeline"
)

func pin(key, file, value string, line int) pipeline.Pin {
	kind, _, _ := strings.Cut(key, "/")
	return pipeline.Pin{Key: key, Kind: kind, File: file, Line: line, Value: value}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	from := []pipeline.Pin{
		pin("HelmRelease/keystone/keystone", "apps/keystone/staging/hr.yaml", "1.3.0", 10),
		pin("image/ghcr.io/c5c3/keystone/newTag", "apps/keystone/staging/kustomization.yaml", "2025.1-p2", 8),
		pin("image/ghcr.io/c5c3/keystone/newTag", "clusters/staging/kustomization.yaml", "2025.1-p2", 4), // same value twice: fine
		pin("setter/replicas", "apps/keystone/staging/hr.yaml", "3", 20),
		pin("setter/debug", "apps/keystone/staging/hr.yaml", "true", 21),         // only in from
		pin("OCIRepository/m/tag", "clusters/staging/sources.yaml", "v0.5.0", 5), // conflict
		pin("OCIRepository/m/tag", "clusters/staging/other.yaml", "v0.6.0", 5),
		pin("FluxInstance/flux", "clusters/staging/flux.yaml", "2.7.x", 9),
	}
	to := []pipeline.Pin{
		pin("HelmRelease/keystone/keystone", "apps/keystone/production/hr.yaml", "1.2.0", 10),
		pin("HelmRelease/keystone/keystone", "apps/keystone/production/hr2.yaml", "1.1.0", 3), // every occurrence moves
		pin("image/ghcr.io/c5c3/keystone/newTag", "apps/keystone/production/kustomization.yaml", "2025.1-p2", 8),
		pin("setter/replicas", "apps/keystone/production/hr.yaml", "5", 20),
		pin("setter/region", "apps/keystone/production/hr.yaml", "eu", 22), // only in to
		pin("OCIRepository/m/tag", "clusters/production/sources.yaml", "v0.4.0", 5),
		pin("FluxInstance/flux", "clusters/production/flux.yaml", "2.6.x", 9),
	}
	ps, err := compare("staging", "production", from, to, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := func(cs []Change) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Key+"@"+c.File+":"+c.Current+"→"+c.New)
		}
		return strings.Join(s, "\n")
	}
	keys := func(ps []pipeline.Pin) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Key)
		}
		return strings.Join(s, ",")
	}
	if want := strings.Join([]string{
		"HelmRelease/keystone/keystone@apps/keystone/production/hr.yaml:1.2.0→1.3.0",
		"HelmRelease/keystone/keystone@apps/keystone/production/hr2.yaml:1.1.0→1.3.0",
		"setter/replicas@apps/keystone/production/hr.yaml:5→3",
		"FluxInstance/flux@clusters/production/flux.yaml:2.6.x→2.7.x",
	}, "\n"); got(ps.Changes) != want {
		t.Errorf("changes:\n%s\nwant\n%s", got(ps.Changes), want)
	}
	if got(ps.Unchanged) != "image/ghcr.io/c5c3/keystone/newTag@apps/keystone/production/kustomization.yaml:2025.1-p2→2025.1-p2" {
		t.Errorf("unchanged: %s", got(ps.Unchanged))
	}
	if keys(ps.OnlyInFrom) != "setter/debug" || keys(ps.OnlyInTo) != "setter/region" {
		t.Errorf("only in from %s, only in to %s", keys(ps.OnlyInFrom), keys(ps.OnlyInTo))
	}
	if len(ps.Conflicts) != 1 || ps.Conflicts[0].Key != "OCIRepository/m/tag" || len(ps.Conflicts[0].Pins) != 2 {
		t.Errorf("conflicts %+v", ps.Conflicts)
	}

	// --only and --exclude, case-insensitive globs over the whole key.
	ps, err = compare("staging", "production", from, to, Filter{Only: []string{"helmrelease/*", "setter/*"}, Exclude: []string{"*/replicas"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Changes) != 2 || ps.Changes[0].Key != "HelmRelease/keystone/keystone" || len(ps.OnlyInFrom) != 1 || len(ps.OnlyInTo) != 1 {
		t.Errorf("filtered: %s / %s / %s", got(ps.Changes), keys(ps.OnlyInFrom), keys(ps.OnlyInTo))
	}
	if strings.Join(ps.Excluded, ",") != "FluxInstance/flux,OCIRepository/m/tag,image/ghcr.io/c5c3/keystone/newTag,setter/replicas" {
		t.Errorf("excluded %v", ps.Excluded)
	}
	if _, err := compare("staging", "production", from, to, Filter{Only: []string{"image/nginx/*"}}); err == nil ||
		err.Error() != `--only "image/nginx/*" matches no pin of staging or production` {
		t.Errorf("unmatched --only: %v", err)
	}
}

func TestCommitMessageAndBody(t *testing.T) {
	t.Parallel()
	p := &Plan{
		From: FromSide{Environment: "staging", Revision: "live", Commit: "0123456789abcdef0123456789abcdef01234567"},
		To:   ToSide{Environment: "production", Base: "origin/main"},
		Changes: []Change{
			{Key: "HelmRelease/keystone/keystone", Kind: pipeline.KindHelmRelease, File: "a.yaml", Line: 3, Current: "1.2.0", New: "1.3.0"},
			{Key: "image/ghcr.io/c5c3/keystone/newTag", Kind: pipeline.KindImage, File: "k.yaml", Line: 8, Current: "p1", New: "p2"},
			{Key: "image/ghcr.io/c5c3/keystone/newTag", Kind: pipeline.KindImage, File: "k2.yaml", Line: 8, Current: "p1", New: "p2"},
		},
		OnlyInFrom: []pipeline.Pin{{Key: "setter/debug"}},
	}
	want := `promote(staging → production): 2 pins (1 HelmRelease, 1 image)

Promote staging at 0123456 (live) to production:

- HelmRelease/keystone/keystone: 1.2.0 → 1.3.0
- image/ghcr.io/c5c3/keystone/newTag: p1 → p2

Promoted-From: staging@0123456789abcdef0123456789abcdef01234567
Promoted-To: production
`
	if got := commitMessage(p); got != want {
		t.Errorf("message:\n%s\nwant\n%s", got, want)
	}
	p.Changes = p.Changes[:1]
	if got := strings.SplitN(commitMessage(p), "\n", 2)[0]; got != "promote(staging → production): HelmRelease/keystone/keystone → 1.3.0" {
		t.Errorf("one-pin subject %q", got)
	}
	body, err := pullRequestBody(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| `HelmRelease/keystone/keystone` | HelmRelease | `a.yaml:3` | `1.2.0` | `1.3.0` |", "Only in staging (not promoted): `setter/debug`"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}
