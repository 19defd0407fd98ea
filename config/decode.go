package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FieldError is one configuration error at a path such as
// "providers.spid.idps[1].metadata_url".
type FieldError struct {
	// Path locates the value: keys joined by dots, sequence items as [i].
	Path string
	// Msg says what is wrong. It never contains a secret value.
	Msg string
	// Line and Column locate the value in the YAML file (1-based; 0 when unknown). A value
	// the file leaves out is located at the nearest enclosing key that is there.
	Line, Column int
	// SetBy names the environment variable (or dev-mode flag) that set the value, when it
	// did not come from the file.
	SetBy string
}

// Error implements error as "path: message (line L, column C)".
func (e *FieldError) Error() string {
	p := e.Path
	if p == "" {
		p = "(document)"
	}
	switch {
	case e.SetBy != "":
		return fmt.Sprintf("%s: %s (set by %s)", p, e.Msg, e.SetBy)
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s: %s (line %d, column %d)", p, e.Msg, e.Line, e.Column)
	case e.Line > 0:
		return fmt.Sprintf("%s: %s (line %d)", p, e.Msg, e.Line)
	}
	return p + ": " + e.Msg
}

// fieldErr builds a FieldError at path, located at node when there is one.
func fieldErr(path string, node *yaml.Node, format string, args ...any) *FieldError {
	e := &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
	if node != nil {
		e.Line, e.Column = node.Line, node.Column
	}
	return e
}

// position is where a path's key (or list item) is written in the file.
type position struct{ line, column int }

func positionOf(node *yaml.Node) position { return position{node.Line, node.Column} }

// maxNodes bounds the work of one decode: aliases can make a small document expand into a
// huge tree ("billion laughs"), and provider sections are decoded again by their packages.
const maxNodes = 100_000

// DecodeSection strictly decodes the mapping node of a provider section into out (a pointer
// to a struct), ignoring the keys "type" and "enabled" that Config reads itself. Unknown keys,
// wrong types and bad durations (Go syntax such as "5m") are all reported, each as a
// *FieldError whose path starts with path (for example "providers.spid").
//
// Values of type Secret are only recorded, not resolved: resolve them with the Resolver of
// the Provider.
func DecodeSection(node *yaml.Node, path string, out any) []error {
	d := &decoder{skip: map[string]bool{"type": true, "enabled": true}}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return []error{&FieldError{Path: path, Msg: "internal error: DecodeSection needs a non-nil pointer"}}
	}
	if node == nil || node.Kind == 0 {
		return nil
	}
	d.decode(node, v.Elem(), path)
	return d.errs
}

// decodeStrict decodes a whole document into out, collecting every error with its path, and
// returns where each path is written.
func decodeStrict(node *yaml.Node, out any) (errs []error, at map[string]position) {
	d := &decoder{at: map[string]position{}}
	d.decode(node, reflect.ValueOf(out).Elem(), "")
	return d.errs, d.at
}

// decoder is a strict, path-aware YAML decoder over reflection. yaml.v3's own strict mode
// reports errors by line only; operators need the path of every mistake.
type decoder struct {
	errs  []error
	nodes int
	// skip lists top-level keys to ignore (the provider section's type and enabled).
	skip map[string]bool
	// at records where each path is written (its key, or its list item), so that later
	// validation errors can point into the file too; nil records nothing.
	at map[string]position
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// mark records where path is written, unless it already is (a mapping key is marked before
// its value, so the key's position wins).
func (d *decoder) mark(path string, node *yaml.Node) {
	if d.at == nil || node == nil {
		return
	}
	if _, ok := d.at[path]; !ok {
		d.at[path] = positionOf(node)
	}
}

// index marks every path under node without decoding it: a provider section is decoded later
// by its own package, and its validation errors must point into the file too. It shares the
// decoder's node budget, so aliases cannot make it expand without bound.
func (d *decoder) index(node *yaml.Node, path string) {
	if d.at == nil {
		return
	}
	d.nodes++
	if d.nodes > maxNodes {
		return
	}
	d.mark(path, node)
	for node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch node.Kind {
	case yaml.MappingNode:
		// The pairs' own errors (duplicate keys...) are the section decoder's to report.
		scratch := &decoder{nodes: d.nodes}
		ps := scratch.pairs(node, path)
		d.nodes = scratch.nodes
		for _, p := range ps {
			d.mark(join(path, p.key.Value), p.key)
			d.index(p.value, join(path, p.key.Value))
		}
	case yaml.SequenceNode:
		for i, item := range node.Content {
			d.index(item, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func (d *decoder) fail(path string, node *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, fieldErr(path, node, format, args...))
}

// decode stores node into v (addressable), recording errors.
func (d *decoder) decode(node *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(path, node, "document too large or too many alias expansions")
		}
		return
	}
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return
		}
		node = node.Content[0]
	}
	d.mark(path, node)
	if node.Kind == yaml.AliasNode {
		if node.Alias == nil {
			d.fail(path, node, "unknown alias")
			return
		}
		d.decode(node.Alias, v, path)
		return
	}
	t := v.Type()
	switch {
	case t == nodeType:
		v.Set(reflect.ValueOf(*node))
		return
	case t == reflect.TypeFor[Provider]():
		d.errs = append(d.errs, v.Addr().Interface().(*Provider).decode(node, path)...)
		d.index(node, path)
		return
	case t == reflect.TypeFor[Secret]():
		if err := v.Addr().Interface().(*Secret).decode(node, path); err != nil {
			d.errs = append(d.errs, err)
		}
		return
	case t == durationType:
		d.duration(node, v, path)
		return
	case reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textType):
		if err := node.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, node, "%s", cleanYAMLError(err))
		}
		return
	}
	if isNull(node) {
		v.Set(reflect.Zero(t))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		d.decode(node, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.structure(node, v, path)
	case reflect.Slice:
		d.sequence(node, v, path)
	case reflect.Map:
		d.mapping(node, v, path)
	case reflect.Interface:
		if err := node.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, node, "%s", cleanYAMLError(err))
		}
	default:
		d.scalar(node, v, path)
	}
}

func isNull(node *yaml.Node) bool {
	return node.Kind == yaml.ScalarNode && node.ShortTag() == "!!null"
}

func kindName(node *yaml.Node) string {
	switch node.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

func (d *decoder) duration(node *yaml.Node, v reflect.Value, path string) {
	if isNull(node) {
		v.SetInt(0)
		return
	}
	if node.Kind != yaml.ScalarNode {
		d.fail(path, node, "want a duration such as \"5m\", got %s", kindName(node))
		return
	}
	dur, err := time.ParseDuration(node.Value)
	if err != nil {
		d.fail(path, node, "want a duration such as \"90s\", \"5m\" or \"8h\"")
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) scalar(node *yaml.Node, v reflect.Value, path string) {
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false",
	}[v.Kind()]
	if want == "" {
		want = "a number"
		if v.Kind() < reflect.Int || v.Kind() > reflect.Float64 {
			want = "a " + v.Kind().String()
		}
	}
	if node.Kind != yaml.ScalarNode {
		d.fail(path, node, "want %s, got %s", want, kindName(node))
		return
	}
	if v.Kind() == reflect.String {
		// Any scalar is a string: a port number or "yes" stays as written.
		v.SetString(node.Value)
		return
	}
	if err := node.Decode(v.Addr().Interface()); err != nil {
		d.fail(path, node, "want %s", want)
	}
}

// pair is one key/value of a mapping, after "<<" merge keys are expanded.
type pair struct {
	key, value *yaml.Node
	merged     bool
}

// pairs lists the key/value pairs of a mapping node, reporting duplicate keys. Keys coming
// from a "<<" merge are marked; an explicit key overrides them, as in YAML 1.1.
func (d *decoder) pairs(node *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			d.fail(join(path, k.Value), k, "key defined twice")
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{key: k, value: val})
	}
	for _, m := range merges {
		for _, src := range d.mergeSources(m, path) {
			for _, p := range d.pairs(src, path) {
				if !seen[p.key.Value] {
					seen[p.key.Value] = true
					out = append(out, pair{key: p.key, value: p.value, merged: true})
				}
			}
		}
	}
	return out
}

// mergeSources resolves the value of a "<<" key: a mapping, an alias of one, or a list of them.
func (d *decoder) mergeSources(n *yaml.Node, path string) []*yaml.Node {
	d.nodes++
	if d.nodes > maxNodes {
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			for c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind != yaml.MappingNode {
				d.fail(path, c, "a merge (<<) list must hold mappings")
				continue
			}
			out = append(out, c)
		}
		return out
	}
	d.fail(path, n, "a merge (<<) needs a mapping")
	return nil
}

func (d *decoder) structure(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind != yaml.MappingNode {
		d.fail(path, node, "want a mapping, got %s", kindName(node))
		return
	}
	fields := fieldsOf(v.Type())
	skip := d.skip
	d.skip = nil // only the top level of a provider section skips keys
	for _, p := range d.pairs(node, path) {
		name := p.key.Value
		if skip[name] {
			continue
		}
		d.mark(join(path, name), p.key)
		idx, ok := fields[name]
		if !ok {
			d.fail(join(path, name), p.key, "unknown key")
			continue
		}
		d.decode(p.value, v.FieldByIndex(idx), join(path, name))
	}
}

func (d *decoder) sequence(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind != yaml.SequenceNode {
		d.fail(path, node, "want a list, got %s", kindName(node))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(node.Content), len(node.Content))
	for i, item := range node.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) mapping(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind != yaml.MappingNode {
		d.fail(path, node, "want a mapping, got %s", kindName(node))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		if err := node.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, node, "%s", cleanYAMLError(err))
		}
		return
	}
	m := reflect.MakeMap(v.Type())
	skip := d.skip
	d.skip = nil
	for _, p := range d.pairs(node, path) {
		if skip[p.key.Value] {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.mark(join(path, p.key.Value), p.key)
		d.decode(p.value, elem, join(path, p.key.Value))
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// fieldsOf maps yaml keys to struct field indexes, following yaml.v3's rules: the tag name,
// or the lower-cased field name; "-" skips; ",inline" flattens an embedded struct.
func fieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
			for k, idx := range fieldsOf(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

var quotedValue = regexp.MustCompile("`[^`]*`")

var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// join appends a mapping key to a path; keys that would make the path ambiguous are quoted.
func join(path, key string) string {
	if !simpleKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors:" wrapping, keeping the reason.
func cleanYAMLError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	msg = strings.TrimPrefix(msg, "yaml: ")
	// yaml.v3 quotes the offending value between backticks; it may be a misplaced secret.
	msg = quotedValue.ReplaceAllString(msg, "value")
	return strings.TrimSpace(msg)
}
