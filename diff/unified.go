package diff

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// contextLines is how many unchanged lines surround each hunk.
const contextLines = 3

// Unified returns a unified diff of two texts, line by line (sergi/go-diff:
// DiffLinesToChars → DiffMain → DiffCharsToLines), with "@@" hunk headers
// and a few lines of context. It returns "" when the texts are equal.
func Unified(from, to, fromName, toName string) string {
	if from == to {
		return ""
	}
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(from, to)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)

	type line struct {
		op   diffmatchpatch.Operation
		text string
	}
	var all []line
	for _, d := range diffs {
		for _, l := range splitLines(d.Text) {
			all = append(all, line{d.Type, l})
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromName, toName)
	for i := 0; i < len(all); {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		// A hunk: from contextLines before the first change to
		// contextLines after the last change that is not separated by more
		// than 2*contextLines unchanged lines.
		start := max(0, i-contextLines)
		end := i
		for j := i; j < len(all); j++ {
			if all[j].op != diffmatchpatch.DiffEqual {
				end = j
				continue
			}
			if j-end > 2*contextLines {
				break
			}
		}
		stop := min(len(all), end+contextLines+1)
		aStart, bStart := 1, 1
		for _, l := range all[:start] {
			if l.op != diffmatchpatch.DiffInsert {
				aStart++
			}
			if l.op != diffmatchpatch.DiffDelete {
				bStart++
			}
		}
		aLen, bLen := 0, 0
		var body strings.Builder
		for _, l := range all[start:stop] {
			switch l.op {
			case diffmatchpatch.DiffEqual:
				aLen++
				bLen++
				body.WriteString(" " + l.text + "\n")
			case diffmatchpatch.DiffDelete:
				aLen++
				body.WriteString("-" + l.text + "\n")
			case diffmatchpatch.DiffInsert:
				bLen++
				body.WriteString("+" + l.text + "\n")
			}
		}
		if aLen == 0 {
			aStart--
		}
		if bLen == 0 {
			bStart--
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
		out.WriteString(body.String())
		i = stop
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
