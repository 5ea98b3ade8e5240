// Package strictyaml decodes YAML files into Go structs strictly: unknown
// fields, missing required fields and values of the wrong kind are errors,
// each with its file, line and field path, and every problem of a file is
// reported at once. Lab files and certification programs share it.
package strictyaml

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is one problem in a file, printed as file:line: field: message
// so an editor can jump to it.
type FieldError struct {
	File  string
	Line  int
	Field string // a path such as steps[2].check.timeout
	Msg   string
}

func (e FieldError) Error() string {
	field := e.Field
	if field == "" {
		field = "(document)"
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, field, e.Msg)
}

// FieldErrors is every problem found in one or more files, in file and line order.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sorted orders es by file, then line, and returns it.
func (es FieldErrors) Sorted() FieldErrors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		return es[i].Line < es[j].Line
	})
	return es
}

// Unmarshaler is a type that decodes itself from a YAML node (durations,
// sizes). It returns a plain message; the decoder adds file, line and field.
type Unmarshaler interface {
	DecodeNode(n *yaml.Node) error
}

// Decoder decodes YAML nodes into structs strictly: unknown fields, missing
// required fields and wrong kinds are all errors, and every error carries the
// line and the field path. Struct fields are named by the `field` tag:
// `field:"name"` or `field:"name,required"`; fields without it are not read.
// It collects every error instead of stopping at the first, so one run of
// `labd validate` shows them all. Checks made after decoding add theirs
// with Fail.
type Decoder struct {
	file  string
	errs  FieldErrors
	lines map[string]int // field path -> line, for checks made after decoding
}

// Errs returns the problems found so far, in line order, or nil.
func (d *Decoder) Errs() FieldErrors {
	if len(d.errs) == 0 {
		return nil
	}
	return d.errs.Sorted()
}

// Decoded reports whether the document was a mapping that could be read at
// all, so that checks of its meaning are worth making.
func (d *Decoder) Decoded() bool {
	return len(d.errs) == 0 || d.errs[0].Field != ""
}

// Line returns the line where the value at path was found, 0 if none was.
func (d *Decoder) Line(path string) int { return d.lines[path] }

func (d *Decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, FieldError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[Unmarshaler]()

func (d *Decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.lines != nil {
		d.lines[path] = n.Line
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if n.Kind != yaml.ScalarNode && v.Kind() != reflect.Struct {
			d.errorf(n, path, "want a single value, found %s", kindName(n))
			return
		}
		if err := v.Addr().Interface().(Unmarshaler).DecodeNode(n); err != nil {
			d.errorf(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "want a list, found %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if !d.scalar(n, path) {
			return
		}
		if n.Tag == "!!null" {
			d.errorf(n, path, "want text, found nothing")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, path) {
			return
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.Tag != "!!bool" {
			d.errorf(n, path, "want true or false, found %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		if !d.scalar(n, path) {
			return
		}
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			d.errorf(n, path, "want a whole number, found %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if !d.scalar(n, path) {
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.Tag == "!!str" {
			d.errorf(n, path, "want a number, found %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		panic("strictyaml: decoder does not handle " + v.Type().String())
	}
}

func (d *Decoder) scalar(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a single value, found %s", kindName(n))
		return false
	}
	return true
}

type fieldInfo struct {
	index    int
	name     string
	required bool
}

func structFields(t reflect.Type) []fieldInfo {
	var fs []fieldInfo
	for i := range t.NumField() {
		tag, ok := t.Field(i).Tag.Lookup("field")
		if !ok || tag == "-" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fs = append(fs, fieldInfo{index: i, name: name, required: opt == "required"})
	}
	return fs
}

func (d *Decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of fields, found %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	content := mergeKeys(n.Content)
	for i := 0; i+1 < len(content); i += 2 {
		key, val := content[i], content[i+1]
		fpath := join(path, key.Value)
		var f *fieldInfo
		for j := range fields {
			if fields[j].name == key.Value {
				f = &fields[j]
				break
			}
		}
		if f == nil {
			d.errorf(key, fpath, "unknown field (known: %s)", knownNames(fields))
			continue
		}
		if seen[f.name] {
			d.errorf(key, fpath, "field given twice")
			continue
		}
		seen[f.name] = true
		d.decode(val, v.Field(f.index), fpath)
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			d.errorf(n, join(path, f.name), "missing (required)")
		}
	}
}

// mergeKeys expands YAML merge keys (<<: *anchor, or a list of anchors):
// the merged mapping's fields come after the mapping's own, which win.
func mergeKeys(content []*yaml.Node) []*yaml.Node {
	var own, merged []*yaml.Node
	have := map[string]bool{}
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value == "<<" && content[i].Tag == "!!merge" {
			continue
		}
		have[content[i].Value] = true
		own = append(own, content[i], content[i+1])
	}
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value != "<<" || content[i].Tag != "!!merge" {
			continue
		}
		srcs := []*yaml.Node{content[i+1]}
		if content[i+1].Kind == yaml.SequenceNode {
			srcs = content[i+1].Content
		}
		for _, src := range srcs {
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(src.Content); j += 2 {
				if k := src.Content[j].Value; !have[k] {
					have[k] = true
					merged = append(merged, src.Content[j], src.Content[j+1])
				}
			}
		}
	}
	return append(own, merged...)
}

func knownNames(fs []fieldInfo) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// Decode parses data as one YAML document and decodes it strictly into v, a
// pointer to a struct. The decoder it returns holds the problems found and
// knows the line of every field it decoded.
func Decode(file string, data []byte, v any) *Decoder {
	d := &Decoder{file: file, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 reports "yaml: line N: msg"; keep the line.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			num, tail, _ := strings.Cut(rest, ":")
			line, _ = strconv.Atoi(num)
			msg = strings.TrimSpace(tail)
		}
		d.errs = FieldErrors{{File: file, Line: line, Msg: "not valid YAML: " + msg}}
		return d
	}
	if len(doc.Content) == 0 {
		d.errs = FieldErrors{{File: file, Line: 1, Msg: "empty file"}}
		return d
	}
	d.decode(doc.Content[0], reflect.ValueOf(v).Elem(), "")
	return d
}

// Fail records a problem found after decoding, at the line of path (or of
// the closest enclosing field that was decoded). A problem under a field that
// already failed to decode is not repeated.
func (d *Decoder) Fail(path, format string, args ...any) {
	// A field that already failed to decode has said what is wrong with it.
	for _, e := range d.errs {
		if e.Field == path || strings.HasPrefix(path, e.Field+".") || strings.HasPrefix(path, e.Field+"[") ||
			strings.HasPrefix(e.Field, path+".") {
			return
		}
	}
	p := path
	line, ok := d.lines[p]
	for !ok && p != "" {
		if i := strings.LastIndexAny(p, ".["); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
		line, ok = d.lines[p]
	}
	d.errs = append(d.errs, FieldError{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}
