package printers

import (
	"io"
	"strings"
)

// Node is one line of a tree and the nodes below it.
type Node struct {
	Label    string
	Children []*Node
}

// Add appends a child with the given label and returns it.
func (n *Node) Add(label string) *Node {
	c := &Node{Label: label}
	n.Children = append(n.Children, c)
	return c
}

// WriteTree prints the tree rooted at n with box-drawing branches, like
// `flux tree`. Multi-line labels are indented under their branch.
func WriteTree(w io.Writer, n *Node) error {
	var b strings.Builder
	writeLabel(&b, "", "", n.Label)
	writeChildren(&b, "", n.Children)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChildren(b *strings.Builder, prefix string, children []*Node) {
	for i, c := range children {
		branch, indent := "├── ", "│   "
		if i == len(children)-1 {
			branch, indent = "└── ", "    "
		}
		writeLabel(b, prefix+branch, prefix+indent, c.Label)
		writeChildren(b, prefix+indent, c.Children)
	}
}

func writeLabel(b *strings.Builder, first, rest, label string) {
	for i, line := range strings.Split(label, "\n") {
		if i == 0 {
			b.WriteString(first)
		} else {
			b.WriteString(rest)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}
