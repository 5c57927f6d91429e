package promote

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// Change is one value of the target environment that the promotion sets.
type Change struct {
	Key   string `json:"key"`
	Kind  string `json:"kind"`
	Field string `json:"field"`
	// File and Line locate the value in the target environment.
	File string `json:"file"`
	Line int    `json:"line"`
	// Current is the target's value before, New the source's value.
	Current string `json:"current"`
	New     string `json:"new"`

	pin pipeline.Pin
	tag string
}

// Conflict is a key with different values inside one environment; it is
// not promoted.
type Conflict struct {
	Key         string         `json:"key"`
	Environment string         `json:"environment"`
	Pins        []pipeline.Pin `json:"pins"`
}

// Filter selects pins by key. Patterns are matched case-insensitively
// against the whole key; '*' matches any run of characters (also '/').
type Filter struct {
	// Only, when not empty, keeps just the keys matching one of its patterns.
	Only []string
	// Exclude drops keys matching one of its patterns.
	Exclude []string
}

func globRE(pat string) *regexp.Regexp {
	parts := strings.Split(pat, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$")
}

func matchAny(pats []string, key string) bool {
	for _, p := range pats {
		if globRE(p).MatchString(key) {
			return true
		}
	}
	return false
}

// Keep reports whether the filter keeps key.
func (f Filter) Keep(key string) bool {
	if len(f.Only) > 0 && !matchAny(f.Only, key) {
		return false
	}
	return !matchAny(f.Exclude, key)
}

// planSets compares the pins of two environments.
type planSets struct {
	Changes    []Change
	Unchanged  []Change
	OnlyInFrom []pipeline.Pin
	OnlyInTo   []pipeline.Pin
	Conflicts  []Conflict
	Excluded   []string
}

// compare matches the pins of FROM and TO by key. Keys only on one side
// are reported, never invented; a key with different values within FROM
// is a conflict and not promoted. Every TO occurrence of a key gets FROM's
// value. An --only pattern that matches no key is an error.
func compare(fromEnv, toEnv string, from, to []pipeline.Pin, f Filter) (*planSets, error) {
	all := map[string]bool{}
	for _, p := range from {
		all[p.Key] = true
	}
	for _, p := range to {
		all[p.Key] = true
	}
	for _, pat := range f.Only {
		found := false
		for k := range all {
			if globRE(pat).MatchString(k) {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("--only %q matches no pin of %s or %s", pat, fromEnv, toEnv)
		}
	}
	ps := &planSets{}
	excluded := map[string]bool{}
	keep := func(k string) bool {
		if f.Keep(k) {
			return true
		}
		excluded[k] = true
		return false
	}

	fromByKey := map[string][]pipeline.Pin{}
	for _, p := range from {
		if keep(p.Key) {
			fromByKey[p.Key] = append(fromByKey[p.Key], p)
		}
	}
	toKeys := map[string]bool{}
	for _, p := range to {
		if keep(p.Key) {
			toKeys[p.Key] = true
		}
	}
	source := map[string]pipeline.Pin{}
	for k, pins := range fromByKey {
		conflict := false
		for _, p := range pins[1:] {
			if p.Value != pins[0].Value {
				conflict = true
			}
		}
		if conflict {
			ps.Conflicts = append(ps.Conflicts, Conflict{Key: k, Environment: fromEnv, Pins: pins})
			continue
		}
		source[k] = pins[0]
		if !toKeys[k] {
			ps.OnlyInFrom = append(ps.OnlyInFrom, pins[0])
		}
	}
	for _, p := range to {
		if !toKeys[p.Key] {
			continue
		}
		src, ok := source[p.Key]
		if !ok {
			if _, conflicting := fromByKey[p.Key]; !conflicting {
				ps.OnlyInTo = append(ps.OnlyInTo, p)
			}
			continue
		}
		c := Change{Key: p.Key, Kind: p.Kind, Field: p.Field, File: p.File, Line: p.Line, Current: p.Value, New: src.Value, pin: p, tag: src.Tag()}
		if p.Value == src.Value {
			ps.Unchanged = append(ps.Unchanged, c)
		} else {
			ps.Changes = append(ps.Changes, c)
		}
	}
	for k := range excluded {
		ps.Excluded = append(ps.Excluded, k)
	}
	sort.Strings(ps.Excluded)
	sort.Slice(ps.Conflicts, func(i, j int) bool { return ps.Conflicts[i].Key < ps.Conflicts[j].Key })
	pipeline.SortPins(ps.OnlyInFrom)
	pipeline.SortPins(ps.OnlyInTo)
	return ps, nil
}

// editsByFile groups the changes by file, as edits for pipeline.ApplyEdits.
func editsByFile(changes []Change) map[string][]pipeline.Edit {
	out := map[string][]pipeline.Edit{}
	for _, c := range changes {
		out[c.File] = append(out[c.File], pipeline.Edit{Pin: c.pin, Value: c.New, Tag: c.tag})
	}
	return out
}
