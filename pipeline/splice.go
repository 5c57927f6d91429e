package pipeline

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// Edit sets the value of one pin of a file.
type Edit struct {
	// Pin is the pin as scanned from the file being edited.
	Pin Pin
	// Value is the new value.
	Value string
	// Tag is the YAML tag the value has where it comes from (e.g. !!str);
	// a plain scalar is quoted when it would otherwise read as another type.
	Tag string
}

// ApplyEdits replaces the scalars of edits in src and returns the new
// bytes. Only the bytes of each scalar token change: comments (also on the
// same line), blank lines, document markers, key order, indentation and
// the quoting style of the scalar are kept. Block scalars and multi-line
// plain scalars are refused.
func ApplyEdits(src []byte, edits []Edit) ([]byte, error) {
	type span struct {
		start, end int
		text       string
		pin        Pin
	}
	spans := make([]span, 0, len(edits))
	for _, e := range edits {
		start, end, tagTok, err := locate(src, e.Pin)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot edit %s: %w", e.Pin.File, e.Pin.Line, e.Pin.Key, err)
		}
		text, err := renderScalar(e.Value, e.Tag, tagTok, e.Pin.style, e.Pin.flow)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: cannot edit %s: %w", e.Pin.File, e.Pin.Line, e.Pin.Key, err)
		}
		spans = append(spans, span{start, end, text, e.Pin})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start > spans[j].start })
	out := append([]byte(nil), src...)
	for i, s := range spans {
		if i > 0 && s.end > spans[i-1].start {
			if s.start == spans[i-1].start && s.text == spans[i-1].text {
				continue // the same scalar twice (e.g. two keys on one node)
			}
			return nil, fmt.Errorf("%s:%d: overlapping edits of %s and %s", s.pin.File, s.pin.Line, s.pin.Key, spans[i-1].pin.Key)
		}
		out = append(out[:s.start], append([]byte(s.text), out[s.end:]...)...)
	}
	return out, nil
}

// locate returns the byte range of a pin's scalar token in src (without
// anchor and tag) and the tag token in front of it, if any.
func locate(src []byte, p Pin) (start, end int, tagTok string, err error) {
	off, err := offsetOf(src, p.Line, p.column)
	if err != nil {
		return 0, 0, "", err
	}
	// Skip an anchor (&a) and a tag (!!str) in front of the value.
	for off < len(src) && (src[off] == '&' || src[off] == '!') {
		tokStart := off
		for off < len(src) && !isSpace(src[off]) && src[off] != '\n' {
			off++
		}
		if src[tokStart] == '!' {
			tagTok = string(src[tokStart:off])
		}
		for off < len(src) && (src[off] == ' ' || src[off] == '\t') {
			off++
		}
	}
	start = off
	switch {
	case p.style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, 0, "", fmt.Errorf("the value is a block scalar (| or >); write it on one line to promote it")
	case p.style&yaml.DoubleQuotedStyle != 0:
		if start >= len(src) || src[start] != '"' {
			return 0, 0, "", fmt.Errorf("expected a double-quoted value at column %d", p.column)
		}
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\\' {
				i++
				continue
			}
			if src[i] == '"' {
				end = i + 1
				break
			}
		}
	case p.style&yaml.SingleQuotedStyle != 0:
		if start >= len(src) || src[start] != '\'' {
			return 0, 0, "", fmt.Errorf("expected a single-quoted value at column %d", p.column)
		}
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				end = i + 1
				break
			}
		}
	default:
		end = start
		for end < len(src) && src[end] != '\n' {
			if src[end] == '#' && end > start && isSpace(src[end-1]) {
				break
			}
			if p.flow && (src[end] == ',' || src[end] == ']' || src[end] == '}') {
				break
			}
			end++
		}
		for end > start && (isSpace(src[end-1]) || src[end-1] == '\r') {
			end--
		}
		if string(src[start:end]) != p.Value {
			return 0, 0, "", fmt.Errorf("the value is a plain scalar spanning several lines; write it on one line to promote it")
		}
	}
	if end <= start {
		return 0, 0, "", fmt.Errorf("unterminated quoted value")
	}
	// The token must decode to the value the parser saw.
	var got yaml.Node
	if err := yaml.Unmarshal(src[start:end], &got); err != nil || len(got.Content) != 1 || got.Content[0].Value != p.Value {
		return 0, 0, "", fmt.Errorf("the value at column %d does not read back as %q", p.column, p.Value)
	}
	return start, end, tagTok, nil
}

// offsetOf converts a 1-based line and a 1-based column in characters (as
// yaml.v3 reports them) to a byte offset.
func offsetOf(src []byte, line, column int) (int, error) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("line %d is past the end of the file", line)
		}
		off += i + 1
	}
	for c := 1; c < column; c++ {
		if off >= len(src) || src[off] == '\n' {
			return 0, fmt.Errorf("column %d is past the end of line %d", column, line)
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off, nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// renderScalar writes value in the style of the scalar it replaces: double
// or single quotes stay, and a plain scalar stays plain unless the new
// value would then read as something else (another type, a comment, a
// mapping), in which case it is double-quoted.
func renderScalar(value, tag, tagTok string, style yaml.Style, flow bool) (string, error) {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(value), nil
	case style&yaml.SingleQuotedStyle != 0:
		if strings.ContainsAny(value, "\n\r") || !utf8.ValidString(value) || hasControl(value) {
			return doubleQuote(value), nil
		}
		return "'" + strings.ReplaceAll(value, "'", "''") + "'", nil
	}
	if plainSafe(value, tag, tagTok, flow) {
		return value, nil
	}
	return doubleQuote(value), nil
}

// plainSafe reports whether value, written plain where the old scalar was,
// reads back as exactly value with the wanted tag.
func plainSafe(value, tag, tagTok string, flow bool) bool {
	if value == "" || strings.TrimSpace(value) != value || strings.ContainsAny(value, "\n\r") || hasControl(value) {
		return false
	}
	prefix := ""
	if tagTok != "" {
		prefix = tagTok + " "
	}
	doc := "k: " + prefix + value + "\n"
	if flow {
		doc = "k: [" + prefix + value + "]\n"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	m := n.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 {
		return false
	}
	v := m.Content[1]
	if flow {
		if v.Kind != yaml.SequenceNode || len(v.Content) != 1 {
			return false
		}
		v = v.Content[0]
	}
	if v.Kind != yaml.ScalarNode || v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 || v.Value != value {
		return false
	}
	if tagTok == "" && tag != "" && v.Tag != tag {
		return false
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return true
		}
	}
	return false
}

// doubleQuote writes s as a YAML double-quoted scalar.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
