// Package shim_test drives shell completion for real: kubectl's own bash
// completion, kubectl's plugin completion (kubectl >= 1.26) and the
// kubectl_complete-c5c3 shim in this directory, with a freshly built
// kubectl-c5c3 on the PATH.
package shim_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const shim = "kubectl_complete-c5c3"

// bashCompletionScripts are where the bash-completion package usually lives;
// kubectl's completion script calls its _get_comp_words_by_ref.
var bashCompletionScripts = []string{
	"/usr/share/bash-completion/bash_completion",
	"/etc/bash_completion",
	"/usr/local/share/bash-completion/bash_completion",
	"/opt/homebrew/etc/profile.d/bash_completion.sh",
	"/usr/local/etc/profile.d/bash_completion.sh",
}

// minimalWordsByRef stands in for bash-completion's _get_comp_words_by_ref
// when that package is not installed: the words as bash split them, which
// is what bash-completion returns for words without "=" or ":".
const minimalWordsByRef = `_get_comp_words_by_ref() {
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
}
`

// completeScript loads a completion script, then calls the completion
// function bash would call for the words given as arguments (the last one
// is the word under the cursor, as after pressing TAB) and prints COMPREPLY.
const completeScript = `
source <(LOAD_COMPLETION)
fn=$(complete -p "$1" | sed -E 's/.* -F ([^ ]+) .*/\1/')
[ -n "$fn" ] || { echo "no completion function registered for $1" >&2; exit 3; }
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
COMPREPLY=()
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`

type env struct {
	dir     string // on the PATH: kubectl-c5c3 and the shim
	home    string // HOME and an absent KUBECONFIG
	path    string
	prelude string // how _get_comp_words_by_ref is provided
}

func TestShellCompletionThroughShim(t *testing.T) {
	e := setup(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("this test drives bash completion and needs bash on the PATH (apt-get install bash): %v", err)
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("this test needs kubectl >= 1.26 on the PATH, which runs the %s shim (apt-get install kubectl): %v", shim, err)
	}

	preludes := map[string]string{"minimal _get_comp_words_by_ref": minimalWordsByRef}
	for _, p := range bashCompletionScripts {
		if _, err := os.Stat(p); err == nil {
			preludes["bash-completion"] = "source " + p + "\n"
			break
		}
	}
	if _, ok := preludes["bash-completion"]; !ok {
		t.Logf("bash-completion is not installed; using a minimal _get_comp_words_by_ref only")
	}

	cases := []struct {
		name   string
		words  []string
		want   []string
		exact  bool
		script string // completion script to load; default kubectl's
	}{
		{name: "plugin command", words: []string{"kubectl", "c5c3", "ver"}, want: []string{"version", "versions"}, exact: true},
		{name: "all commands", words: []string{"kubectl", "c5c3", ""}, want: []string{"completion", "version"}},
		{name: "-o values", words: []string{"kubectl", "c5c3", "version", "-o", ""}, want: []string{"text", "json", "yaml"}, exact: true},
		{name: "trace command", words: []string{"kubectl", "c5c3", "tra"}, want: []string{"trace"}, exact: true},
		{name: "trace -o values", words: []string{"kubectl", "c5c3", "trace", "-o", ""}, want: []string{"tree", "json", "yaml"}, exact: true},
		{name: "--color values", words: []string{"kubectl", "c5c3", "--color", "a"}, want: []string{"auto", "always"}, exact: true},
		{name: "completion subcommands", words: []string{"kubectl", "c5c3", "completion", "install"}, want: []string{"install-shim"}, exact: true},
		{name: "binary's own script", words: []string{"kubectl-c5c3", "version", "-o", "j"}, want: []string{"json"}, exact: true,
			script: "kubectl-c5c3 completion bash"},
	}
	for pname, prelude := range preludes {
		e.prelude = prelude
		for _, tc := range cases {
			t.Run(pname+"/"+tc.name, func(t *testing.T) {
				script := tc.script
				if script == "" {
					script = "kubectl completion bash"
				}
				got := e.complete(t, bash, script, tc.words)
				for _, w := range tc.want {
					if !slices.Contains(got, w) {
						t.Errorf("completing %q: got %q, want it to contain %q", strings.Join(tc.words, " "), got, w)
					}
				}
				if tc.exact && len(got) != len(tc.want) {
					t.Errorf("completing %q: got %q, want exactly %q", strings.Join(tc.words, " "), got, tc.want)
				}
			})
		}
	}
	t.Logf("completed with %s", kubectl)

	// Without the shim kubectl knows the plugin but cannot complete its
	// arguments: the completions above came through the shim.
	noShim := t.TempDir()
	if err := os.Symlink(filepath.Join(binDir, "kubectl-c5c3"), filepath.Join(noShim, "kubectl-c5c3")); err != nil {
		t.Fatal(err)
	}
	e.path = noShim + string(os.PathListSeparator) + os.Getenv("PATH")
	e.prelude = minimalWordsByRef
	if got := e.complete(t, bash, "kubectl completion bash", []string{"kubectl", "c5c3", "ver"}); slices.Contains(got, "version") {
		t.Errorf("without the shim on the PATH, kubectl should not complete the plugin's commands; got %q", got)
	}
}

// binDir holds kubectl-c5c3, built once by TestMain, and a copy of the shim
// shipped in this directory.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds the plugin once for all tests; under -short (unit tests
// only) nothing is built and the tests skip.
func runTests(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "c5c3-completion-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := buildPlugin(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = dir
	return m.Run()
}

func buildPlugin(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building kubectl-c5c3 needs the go command on the PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goTool, "build", "-ldflags", "-s -w", "-o", filepath.Join(dir, "kubectl-c5c3"), "github.com/c5c3/kubectl-c5c3/cmd/kubectl-c5c3")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build kubectl-c5c3: %w\n%s", err, out)
	}
	b, err := os.ReadFile(shim)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, shim), b, 0o755)
}

// setup returns the environment with kubectl-c5c3 and the shim on the PATH.
func setup(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs kubectl-c5c3 and kubectl; not a unit test (-short)")
	}
	home := t.TempDir()
	return &env{dir: binDir, home: home, path: binDir + string(os.PathListSeparator) + os.Getenv("PATH")}
}

func (e *env) complete(t *testing.T, bash, script string, words []string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--noprofile", "--norc", "-c", e.prelude + strings.Replace(completeScript, "LOAD_COMPLETION", script, 1), "complete"}, words...)
	args = slices.Clip(args)
	cmd := exec.CommandContext(ctx, bash, args...)
	cmd.Env = append(os.Environ(),
		"PATH="+e.path,
		"KUBECONFIG="+filepath.Join(e.home, "no-kubeconfig"), // completing commands needs no cluster
		"HOME="+e.home,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash completion of %q failed: %v\nstderr:\n%s", strings.Join(words, " "), err, stderr.String())
	}
	var got []string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			got = append(got, f[0])
		}
	}
	if len(got) == 0 {
		t.Logf("stderr of the completion:\n%s", stderr.String())
	}
	return got
}

// TestInstallShimWritesTheShippedShim checks that `completion install-shim`
// writes exactly the shim shipped in the archives, executable.
func TestInstallShimWritesTheShippedShim(t *testing.T) {
	e := setup(t)
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(e.dir, "kubectl-c5c3"), "completion", "install-shim", "--dir", out)
	cmd.Env = append(os.Environ(), "PATH="+out+string(os.PathListSeparator)+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install-shim: %v\n%s", err, b)
	}
	want, err := os.ReadFile(shim)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(out, shim)
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("install-shim wrote:\n%s\nthe shipped shim is:\n%s", got, want)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s should be executable: %v %v", p, fi.Mode(), err)
	}
}
