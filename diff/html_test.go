package diff

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// htmlResult is a result with everything the page shows: a danger flag,
// an image change, a gap, a Secret's masked diff, a Kustomization and a
// HelmRelease on one cluster.
func htmlResult() *Result {
	r := sampleResult(1)
	r.Objects = append(r.Objects,
		ObjectResult{Cluster: "control-plane", Kustomization: "flux-system/apps", Kind: "Secret", APIVersion: "v1", Namespace: "apps", Name: "db",
			Action: ActionDrifted, Diff: "--- live\n+++ merged\n@@ -1,2 +1,2 @@\n data:\n-  password: *** (before)\n+  password: *** (after)\n"},
		ObjectResult{Cluster: "control-plane", Kustomization: "flux-system/apps", HelmRelease: "flux-system/memcached", Kind: "Deployment",
			APIVersion: "apps/v1", Namespace: "apps", Name: "memcached", Action: ActionDrifted,
			Diff: "--- live\n+++ merged\n@@ -1,1 +1,1 @@\n-        image: memcached:1.6.1\n+        image: memcached:1.6.2 <script>alert(1)</script>\n"})
	r.HelmReleases = []HelmReleaseResult{{Cluster: "control-plane", Kustomization: "flux-system/apps", Namespace: "flux-system", Name: "memcached",
		Release: "memcached", ReleaseNamespace: "apps", Chart: "memcached", Counts: Counts{Drifted: 1}}}
	r.Incomplete = []Gap{{Kind: "HelmRelease", Cluster: "storage", Namespace: "flux-system", Name: "rook", Reason: "chart not found"}}
	r.Dangers = []Danger{
		{Flag: DangerPrunePVC, Cluster: "control-plane", Object: "PersistentVolumeClaim/apps/data", Kustomization: "flux-system/apps", Message: "deleted by prune"},
		{Flag: DangerIncomplete, Cluster: "storage", Object: "HelmRelease/flux-system/rook", Message: "chart not found"},
	}
	r.Images = []ClusterImages{{Cluster: "control-plane", Added: []ImageChange{}, Removed: []ImageChange{},
		Changed: []ImageChange{{From: "memcached:1.6.1", To: "memcached:1.6.2", Objects: []string{"Deployment/apps/memcached"}}}}}
	return r
}

// chromium is Debian's headless browser; the test fails without it,
// except under -short.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testing.Short() {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	t.Fatal("chromium not installed: apt-get install chromium")
	return ""
}

// TestWriteHTMLInBrowser opens the -o html page in a real headless
// chromium with every network request made to fail, and checks that it
// renders its sections, that a cluster's and a HelmRelease's sections
// expand on a click to show the coloured diff, that Secret values stay
// masked and markup in a diff stays text, and that the browser asked for
// nothing but the file itself.
func TestWriteHTMLInBrowser(t *testing.T) {
	exe := chromium(t)
	var page bytes.Buffer
	if err := WriteHTML(&page, htmlResult()); err != nil {
		t.Fatal(err)
	}
	src := page.String()
	for _, external := range []string{"http://", "https://", "<script", "<link", "@import", "url("} {
		if strings.Contains(src, external) {
			t.Errorf("the page holds %q: it must be self-contained", external)
		}
	}
	file := filepath.Join(t.TempDir(), "diff.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		// Anything the page asked for from the network would fail.
		chromedp.ProxyServer("http://127.0.0.1:9"), chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		// Chromium's own scratch directories (org.chromium.Chromium.*)
		// go under the test's, not into /tmp for good.
		chromedp.Env("TMPDIR="+t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	var mu sync.Mutex
	var requests []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		must(err)
		return s
	}
	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		must(err)
		return v
	}
	must(chromedp.Do(ctx, chromedp.Navigate("file://"+file)))
	title, err := chromedp.Run(ctx, chromedp.Title())
	must(err)
	dangers, images, incomplete := text("#dangers"), text("#images"), text("#incomplete")
	const owner = `[...document.querySelectorAll("#cluster-control-plane details.owner")].find(d => d.querySelector("summary").textContent.startsWith("HelmRelease"))`
	openBefore := eval(`document.querySelector("#cluster-control-plane").open`)
	visibleBefore := eval(owner + `.querySelector("pre").checkVisibility()`)
	must(chromedp.Do(ctx, chromedp.Click("#cluster-control-plane > summary")))
	clusterOpen := eval(`document.querySelector("#cluster-control-plane").open`)
	eval(owner + `.querySelector("summary").click(); true`)
	ownerOpen := eval(owner + `.open`)
	visibleAfter := eval(owner + `.querySelector("pre").checkVisibility()`)
	addColour := eval(`getComputedStyle(` + owner + `.querySelector("pre span.add")).backgroundColor`)
	diffText := eval(owner + `.innerText`)
	if title != "kubectl c5c3 diff" || !strings.Contains(dangers, "prune-pvc on control-plane: PersistentVolumeClaim/apps/data (Kustomization flux-system/apps)") ||
		strings.Contains(dangers, "incomplete on") || !strings.Contains(images, "memcached:1.6.1 → memcached:1.6.2") ||
		!strings.Contains(incomplete, "HelmRelease/flux-system/rook on cluster storage") {
		t.Errorf("rendered: title %q\ndangers %q\nimages %q\nincomplete %q", title, dangers, images, incomplete)
	}
	if openBefore != false || visibleBefore != false || clusterOpen != true || ownerOpen != true || visibleAfter != true {
		t.Errorf("sections: open before the click %v (diff visible %v), cluster open after %v, HelmRelease open after %v, diff visible %v",
			openBefore, visibleBefore, clusterOpen, ownerOpen, visibleAfter)
	}
	if addColour != "rgb(218, 251, 225)" {
		t.Errorf("an added line is coloured %q, want the green rgb(218, 251, 225)", addColour)
	}
	if s, _ := diffText.(string); !strings.Contains(s, "image: memcached:1.6.2 <script>alert(1)</script>") || !strings.Contains(src, "password: *** (after)") {
		t.Errorf("the expanded diff lacks its lines as text:\n%s", diffText)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 1 || requests[0] != "file://"+file {
		t.Errorf("requests %v, want only the page itself", requests)
	}
}
