package printers

import (
	"bytes"
	"testing"
)

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, []string{"NAME", "READY"}, [][]string{{"a-long-name", "True"}, {"b", "False"}}); err != nil {
		t.Fatal(err)
	}
	want := "NAME          READY\na-long-name   True\nb             False\n"
	if got := b.String(); got != want {
		t.Errorf("table:\n%q\nwant\n%q", got, want)
	}
}

func TestTree(t *testing.T) {
	root := &Node{Label: "hub"}
	a := root.Add("a")
	a.Add("a1")
	a.Add("a2\nsecond line")
	root.Add("b")
	var buf bytes.Buffer
	if err := WriteTree(&buf, root); err != nil {
		t.Fatal(err)
	}
	want := "hub\n├── a\n│   ├── a1\n│   └── a2\n│       second line\n└── b\n"
	if buf.String() != want {
		t.Errorf("tree:\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestColorMode(t *testing.T) {
	var m ColorMode
	if err := m.Set("sometimes"); err == nil {
		t.Fatal("want error for bad --color value")
	}
	if err := m.Set("always"); err != nil || !m.Enabled(&bytes.Buffer{}) {
		t.Fatalf("always must enable colour: %v", err)
	}
	m = ColorAuto
	if m.Enabled(&bytes.Buffer{}) {
		t.Fatal("auto must not colour a non-terminal")
	}
	if got := (Palette{On: true}).Red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Fatalf("red = %q", got)
	}
	if got := (Palette{}).Red("x"); got != "x" {
		t.Fatalf("off palette painted: %q", got)
	}
}
