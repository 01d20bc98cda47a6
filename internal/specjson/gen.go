//go:build ignore

// gen.go writes codec_gen.go: a decoder for every struct type that
// specs.Spec and initcfg.Config reach, and an encoder for those
// initcfg.Config reaches; and libsandbox/statefile's codec_gen.go, the
// same for statefile.State (state.json), both by reflection at
// generation time. Run it with `go generate ./internal/specjson` after
// updating runtime-spec; the test TestGeneratedUpToDate fails when either
// file is stale.
package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
)

// usage: go run gen.go [-spec FILE] [-state FILE]: the codec of the
// spec and init's config (codec_gen.go) and that of state.json
// (libsandbox/statefile's codec_gen.go) by default.
func main() {
	dst := map[string]string{"-spec": "codec_gen.go", "-state": "../../libsandbox/statefile/codec_gen.go"}
	args := os.Args[1:]
	for len(args) >= 2 {
		if _, ok := dst[args[0]]; !ok {
			break
		}
		dst[args[0]], args = args[1], args[2:]
	}
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run gen.go [-spec FILE] [-state FILE]")
		os.Exit(2)
	}
	for flag, t := range map[string]*target{"-spec": specTarget, "-state": stateTarget} {
		out, err := Generate(t)
		if err == nil {
			err = os.WriteFile(dst[flag], out, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

const (
	specsPath   = "github.com/opencontainers/runtime-spec/specs-go"
	initcfgPath = "github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	rootfsPath  = "github.com/sandbox-runtime/sandbox-runtime/libsandbox/rootfs"
	statePath   = "github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
	cgroupsPath = "github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	rdtPath     = "github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
)

// qualifiers name the packages whose types the generated code reaches.
var qualifiers = map[string]string{specsPath: "specs", initcfgPath: "initcfg", rootfsPath: "rootfs",
	statePath: "statefile", cgroupsPath: "cgroups", rdtPath: "intelrdt"}

// timeType is encoded and decoded by encTime and decTime, which do what
// its MarshalJSON and UnmarshalJSON do.
var timeType = reflect.TypeOf(time.Time{})

// target is one generated file: its package, the types it decodes and
// encodes (and every struct type they reach), and how it names the
// codec's pieces.
type target struct {
	pkg, local string // the package, its import path (its types unqualified)
	header     string
	dec, enc   []reflect.Type
	imports    []string // beside os, and specs as specs
	// rt qualifies the codec's pieces (reader, decStruct...): "" in
	// package specjson, "specjson." elsewhere, whose exported names
	// (export.go) it then uses.
	rt string
}

// specTarget is internal/specjson's codec_gen.go: config.json and init's
// config. It reaches no type of libsandbox's cgroups or statefile, so
// that init, which decodes its config with it, does not link their
// packages' initialisers in before it starts (nsexec/initstage).
var specTarget = &target{
	pkg: "specjson", local: "github.com/sandbox-runtime/sandbox-runtime/internal/specjson",
	header:  "from the types of runtime-spec's specs-go and of internal/initcfg",
	dec:     []reflect.Type{reflect.TypeOf(specs.Spec{}), reflect.TypeOf(initcfg.Config{})},
	enc:     []reflect.Type{reflect.TypeOf(initcfg.Config{})},
	imports: []string{initcfgPath, rootfsPath},
}

// stateTarget is libsandbox/statefile's codec_gen.go: state.json.
var stateTarget = &target{
	pkg: "statefile", local: statePath,
	header:  "from the types of libsandbox/statefile",
	dec:     []reflect.Type{reflect.TypeOf(statefile.State{})},
	enc:     []reflect.Type{reflect.TypeOf(statefile.State{})},
	imports: []string{"github.com/sandbox-runtime/sandbox-runtime/internal/specjson", cgroupsPath, rdtPath},
	rt:      "specjson.",
}

// cur is the target being generated.
var cur *target

// rt names a piece of the codec in the current target: name itself in
// package specjson, its exported name (export.go) elsewhere.
func rt(name string) string {
	if cur.rt == "" {
		return name
	}
	return cur.rt + strings.ToUpper(name[:1]) + name[1:]
}

// Generate returns the source of t's file: a decoder for each of t.dec
// and an encoder for each of t.enc, and one for every struct type they
// reach.
func Generate(t *target) ([]byte, error) {
	cur = t
	g := &gen{seen: map[reflect.Type]bool{}, seenEnc: map[reflect.Type]bool{}}
	g.queue = append(g.queue, t.dec...)
	for _, t := range g.queue {
		g.seen[t] = true
	}
	for len(g.queue) > 0 {
		t := g.queue[0]
		g.queue = g.queue[1:]
		if err := g.structDecoder(t); err != nil {
			return nil, err
		}
	}
	g.encQueue = append(g.encQueue, t.enc...)
	for _, t := range g.encQueue {
		g.seenEnc[t] = true
	}
	for len(g.encQueue) > 0 {
		t := g.encQueue[0]
		g.encQueue = g.encQueue[1:]
		if err := g.structEncoder(t); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/specjson/gen.go %s; DO NOT EDIT.\n\n", t.header)
	fmt.Fprintf(&b, "package %s\n\nimport (\n\t\"os\"\n\n\tspecs %q\n\n", t.pkg, specsPath)
	for _, p := range t.imports {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n\nvar _ os.FileMode\n\n")
	sort.Strings(g.funcs)
	for _, f := range g.funcs {
		b.WriteString(f)
	}
	return format.Source(b.Bytes())
}

type gen struct {
	seen, seenEnc   map[reflect.Type]bool
	queue, encQueue []reflect.Type
	funcs           []string
}

// marshalers are the interfaces through which a type would encode or
// decode itself under encoding/json: the generator refuses such types,
// whose methods it would not call.
var marshalers = []reflect.Type{
	reflect.TypeOf((*json.Marshaler)(nil)).Elem(),
	reflect.TypeOf((*json.Unmarshaler)(nil)).Elem(),
	reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem(),
	reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem(),
}

func checkPlain(t reflect.Type) error {
	for _, m := range marshalers {
		if t.Implements(m) || reflect.PointerTo(t).Implements(m) {
			return fmt.Errorf("%v implements %v", t, m)
		}
	}
	return nil
}

// funcName is the suffix of t's generated functions: its name for a
// runtime-spec type (decSpec...), the package's then the type's for the
// others (decInitcfgConfig, decRootfsMount: rootfs.Mount is not
// specs.Mount).
func funcName(t reflect.Type) string {
	if t.PkgPath() == specsPath {
		return t.Name()
	}
	q := qualifiers[t.PkgPath()]
	return strings.ToUpper(q[:1]) + q[1:] + t.Name()
}

// typeName is t as the generated code writes it.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + typeName(t.Elem())
	case reflect.Slice:
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	}
	if t.Kind() == reflect.Interface && t.Name() == "" {
		return "any"
	}
	switch t.PkgPath() {
	case "":
		return t.Name()
	case "io/fs":
		return "os.FileMode" // specs-go writes os.FileMode
	}
	if t.PkgPath() == cur.local {
		return t.Name()
	}
	if q, ok := qualifiers[t.PkgPath()]; ok {
		return q + "." + t.Name()
	}
	panic(fmt.Sprintf("specjson: type %v from package %s", t, t.PkgPath()))
}

// qualifiedName is t as error messages name it (encoding/json's words:
// the package's name, then the type's), whichever package the code is in.
func qualifiedName(t reflect.Type) string {
	if q, ok := qualifiers[t.PkgPath()]; ok {
		return q + "." + t.Name()
	}
	return typeName(t)
}

// decoder returns an expression of type func(*reader, *T) error for t.
func (g *gen) decoder(t reflect.Type) (string, error) {
	if t == timeType {
		return rt("decTime"), nil
	}
	if err := checkPlain(t); err != nil {
		return "", err
	}
	switch t.Kind() {
	case reflect.String:
		return rt("decString") + "[" + typeName(t) + "]", nil
	case reflect.Bool:
		return rt("decBool") + "[" + typeName(t) + "]", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rt("decInt") + "[" + typeName(t) + "]", nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rt("decUint") + "[" + typeName(t) + "]", nil
	case reflect.Float64:
		return rt("decFloat64") + "[" + typeName(t) + "]", nil
	case reflect.Float32:
		return rt("decFloat32") + "[" + typeName(t) + "]", nil
	case reflect.Interface:
		if t.NumMethod() != 0 || t.Name() != "" {
			return "", fmt.Errorf("interface %v", t)
		}
		return rt("decAny"), nil
	case reflect.Struct:
		if t.Name() == "" {
			return "", fmt.Errorf("anonymous struct %v", t)
		}
		if !g.seen[t] {
			g.seen[t] = true
			g.queue = append(g.queue, t)
		}
		return "dec" + funcName(t), nil
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if t != reflect.TypeOf([]byte(nil)) {
				return "", fmt.Errorf("%v: a named byte slice", t)
			}
			return rt("decBytes"), nil // base64, as encoding/json reads it
		}
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("%v: map keys other than strings", t)
		}
		if t.Kind() == reflect.Map && t.Key() != reflect.TypeOf("") {
			return "", fmt.Errorf("%v: named map key type", t)
		}
		elem, err := g.decoder(t.Elem())
		if err != nil {
			return "", err
		}
		kind := map[reflect.Kind]string{reflect.Pointer: "Ptr", reflect.Slice: "Slice", reflect.Map: "Map"}[t.Kind()]
		if t.Kind() != reflect.Pointer && t.Name() != "" {
			return "", fmt.Errorf("named %v", t)
		}
		return fmt.Sprintf("func(r *%s, p *%s) error { return %s(r, p, %s) }", rt("reader"), typeName(t), rt("dec"+kind), elem), nil
	}
	return "", fmt.Errorf("type %v (%v): not supported", t, t.Kind())
}

// field is a JSON field of a struct: its name and the Go path to it
// (through embedded structs).
type field struct {
	name      string
	path      string
	typ       reflect.Type
	depth     int
	omitEmpty bool
}

// fields lists the JSON fields of t as encoding/json sees them: tagged
// or exported names, the fields of untagged embedded structs promoted
// (a shallower field hides a deeper one of the same name).
func fields(t reflect.Type, prefix string, depth int) ([]field, error) {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous {
			if f.Type.Kind() != reflect.Struct || name != "" {
				return nil, fmt.Errorf("%v.%s: only untagged embedded structs are supported", t, f.Name)
			}
			sub, err := fields(f.Type, prefix+f.Name+".", depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		omit := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "string":
				return nil, fmt.Errorf("%v.%s: the string option is not supported", t, f.Name)
			case "omitempty":
				omit = true
			}
		}
		if name == "" || !validTag(name) {
			name = f.Name
		}
		out = append(out, field{name: name, path: prefix + f.Name, typ: f.Type, depth: depth, omitEmpty: omit})
	}
	return out, nil
}

func (g *gen) structDecoder(t reflect.Type) error {
	var b strings.Builder
	fmt.Fprintf(&b, "func dec%s(r *%s, v *%s) error {\n", funcName(t), rt("reader"), typeName(t))
	fmt.Fprintf(&b, "\treturn %s(r, %q, func(k []byte) (bool, error) {\n\t\tswitch {\n", rt("decStruct"), qualifiedName(t))
	keep, err := jsonFields(t)
	if err != nil {
		return err
	}
	for _, f := range keep {
		dec, err := g.decoder(f.typ)
		if err != nil {
			return fmt.Errorf("%v.%s: %w", t, f.path, err)
		}
		fmt.Fprintf(&b, "\t\tcase %s(k, %q):\n\t\t\treturn true, (%s)(r, &v.%s)\n", rt("match"), f.name, dec, f.path)
	}
	b.WriteString("\t\t}\n\t\treturn false, nil\n\t})\n}\n\n")

	// norm<T>: what encoding/json's encoding and decoding again would
	// change, an empty slice or map of an omitempty field becoming nil.
	fmt.Fprintf(&b, "func norm%s(v *%s) {\n", funcName(t), typeName(t))
	for _, f := range keep {
		k := f.typ.Kind()
		if f.omitEmpty && (k == reflect.Slice || k == reflect.Map) {
			fmt.Fprintf(&b, "\tif len(v.%s) == 0 {\n\t\tv.%s = nil\n\t}\n", f.path, f.path)
		}
		b.WriteString(normValue("v."+f.path, f.typ, 1))
	}
	b.WriteString("}\n\n")
	g.funcs = append(g.funcs, b.String())
	return nil
}

// jsonFields are the fields of t that encoding/json reads and writes, in
// its order: those a shallower field of the same name hides left out,
// two that fold alike refused (the decoder's first match must be
// encoding/json's pick).
func jsonFields(t reflect.Type) ([]field, error) {
	fs, err := fields(t, "", 0)
	if err != nil {
		return nil, err
	}
	folded := map[string]field{}
	var keep []field
	for _, f := range fs {
		fold := foldName(f.name)
		if other, ok := folded[fold]; ok {
			if other.name == f.name && other.depth < f.depth {
				continue // hidden by the shallower one
			}
			return nil, fmt.Errorf("%v: fields %s and %s fold alike", t, other.path, f.path)
		}
		folded[fold] = f
		keep = append(keep, f)
	}
	return keep, nil
}

// encoder returns an expression of type func(*writer, *T) for t.
func (g *gen) encoder(t reflect.Type) (string, error) {
	if t == timeType {
		return rt("encTime"), nil
	}
	if err := checkPlain(t); err != nil {
		return "", err
	}
	switch t.Kind() {
	case reflect.String:
		return rt("encString") + "[" + typeName(t) + "]", nil
	case reflect.Bool:
		return rt("encBool") + "[" + typeName(t) + "]", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rt("encInt") + "[" + typeName(t) + "]", nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rt("encUint") + "[" + typeName(t) + "]", nil
	case reflect.Struct:
		if t.Name() == "" {
			return "", fmt.Errorf("anonymous struct %v", t)
		}
		if !g.seenEnc[t] {
			g.seenEnc[t] = true
			g.encQueue = append(g.encQueue, t)
		}
		return "enc" + funcName(t), nil
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if t != reflect.TypeOf([]byte(nil)) {
				return "", fmt.Errorf("%v: a named byte slice", t)
			}
			return rt("encBytes"), nil
		}
		if t.Kind() == reflect.Map && t.Key() != reflect.TypeOf("") {
			return "", fmt.Errorf("%v: map keys other than plain strings", t)
		}
		if t.Kind() != reflect.Pointer && t.Name() != "" {
			return "", fmt.Errorf("named %v", t)
		}
		elem, err := g.encoder(t.Elem())
		if err != nil {
			return "", err
		}
		kind := map[reflect.Kind]string{reflect.Pointer: "Ptr", reflect.Slice: "Slice", reflect.Map: "Map"}[t.Kind()]
		return fmt.Sprintf("func(w *%s, p *%s) { %s(w, p, %s) }", rt("writer"), typeName(t), rt("enc"+kind), elem), nil
	}
	// Floats (encoding/json's formatting) and interfaces are not
	// needed by initcfg: refused rather than written differently.
	return "", fmt.Errorf("type %v (%v): no encoder", t, t.Kind())
}

// structEncoder writes enc<T>: the fields in encoding/json's order, an
// omitempty one left out when encoding/json would (false, 0, "", nil,
// empty slice or map; a struct never).
func (g *gen) structEncoder(t reflect.Type) error {
	keep, err := jsonFields(t)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "func enc%s(w *%s, v *%s) {\n", funcName(t), rt("writer"), typeName(t))
	b.WriteString("\tw.Byte('{')\n\tfirst := true\n\t_ = first\n")
	for _, f := range keep {
		enc, err := g.encoder(f.typ)
		if err != nil {
			return fmt.Errorf("%v.%s: %w", t, f.path, err)
		}
		quoted := string(appendQuoted(f.name)) + ":"
		body := fmt.Sprintf("\tw.Key(&first, %q)\n\t(%s)(w, &v.%s)\n", quoted, enc, f.path)
		if cond := nonEmpty("v."+f.path, f.typ); f.omitEmpty && cond != "" {
			body = fmt.Sprintf("\tif %s {\n%s\t}\n", cond, body)
		}
		b.WriteString(body)
	}
	b.WriteString("\tw.Byte('}')\n}\n\n")
	g.funcs = append(g.funcs, b.String())
	return nil
}

// nonEmpty is the condition under which omitempty keeps expr ("" for a
// struct, which it always keeps).
func nonEmpty(expr string, t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return expr + ` != ""`
	case reflect.Bool:
		return expr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return expr + " != 0"
	case reflect.Pointer, reflect.Interface:
		return expr + " != nil"
	case reflect.Slice, reflect.Map:
		return "len(" + expr + ") != 0"
	}
	return ""
}

// appendQuoted is a field name as encoding/json writes it.
func appendQuoted(name string) []byte {
	b, err := json.Marshal(name)
	if err != nil {
		panic(err)
	}
	return b
}

// normValue is the code that normalizes the value expr of type t (an
// addressable expression), or "".
func normValue(expr string, t reflect.Type, depth int) string {
	v := fmt.Sprintf("e%d", depth)
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return ""
		}
		return fmt.Sprintf("\tnorm%s(&%s)\n", funcName(t), expr)
	case reflect.Pointer:
		if inner := normValue("(*"+expr+")", t.Elem(), depth); inner != "" {
			return fmt.Sprintf("\tif %s != nil {\n%s\t}\n", expr, inner)
		}
	case reflect.Slice:
		if inner := normValue(expr+"[i"+v+"]", t.Elem(), depth+1); inner != "" {
			return fmt.Sprintf("\tfor i%s := range %s {\n%s\t}\n", v, expr, inner)
		}
	case reflect.Map:
		if inner := normValue(v, t.Elem(), depth+1); inner != "" {
			return fmt.Sprintf("\tfor k%s, %s := range %s {\n%s\t\t%s[k%s] = %s\n\t}\n", v, v, expr, inner, expr, v, v)
		}
	}
	return ""
}

// validTag is encoding/json's isValidTag.
func validTag(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return s != ""
}

func foldName(s string) string {
	var out []rune
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
		} else {
			for {
				r2 := unicode.SimpleFold(r)
				if r2 <= r {
					r = r2
					break
				}
				r = r2
			}
		}
		out = append(out, r)
	}
	return string(out)
}
