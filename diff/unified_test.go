package diff

import "testing"

func TestUnified(t *testing.T) {
	from := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	to := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\n"
	want := `--- live
+++ merged
@@ -1,7 +1,7 @@
 a
 b
 c
-d
+D
 e
 f
 g
@@ -9,3 +9,4 @@
 i
 j
 k
+l
`
	if got := Unified(from, to, "live", "merged"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if Unified("x\n", "x\n", "a", "b") != "" {
		t.Error("equal texts must give no diff")
	}
	created := Unified("", "a: 1\nb: 2\n", "live", "merged")
	if created != "--- live\n+++ merged\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n" {
		t.Errorf("created:\n%s", created)
	}
}
