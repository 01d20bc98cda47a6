// Package specjson decodes a runtime-spec config.json into specs.Spec,
// and encodes and decodes init's config (initcfg.Config), without
// encoding/json's reflection.
//
// Why: create decodes config.json and exec decodes the copy in the
// state directory, each once per process. encoding/json spends ~1 ms of
// that first decode building, by reflection, the field tables of every
// struct type it meets (a second decode of the same file takes 0.08 ms);
// the code generated here (codec_gen.go, from gen.go: `go generate`)
// knows the types already.
//
// The result is what encoding/json.Unmarshal gives for every input it
// accepts without error: keys matched exactly, else case-insensitively
// as encoding/json folds them; unknown keys skipped; null leaving
// primitives and structs as they are and setting pointers, slices and
// maps to nil; numbers into integers only as integer literals in range;
// strings unquoted with invalid UTF-8 and lone surrogates replaced by
// U+FFFD; a duplicate key decoded again over the first. An input it
// refuses (bad syntax, a value of the wrong type) is refused here too,
// with encoding/json's own error (Unmarshal asks it for one). specjson_test.go checks this
// against encoding/json on the repository's configs, on random specs and
// by fuzzing.
package specjson

//go:generate go run gen.go

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Unmarshal decodes data into s, as encoding/json.Unmarshal would. An
// input it refuses is decoded again by encoding/json, into a scratch
// spec, for its error: users and scripts know its words ("unexpected
// end of JSON input", "cannot unmarshal string into Go struct field
// ..."), and only a broken config pays for it.
func Unmarshal(data []byte, s *specs.Spec) error {
	err := decode(data, s, decSpec)
	if err == nil {
		return nil
	}
	if jerr := json.Unmarshal(data, new(specs.Spec)); jerr != nil {
		return jerr
	}
	return err // not expected: both refuse the same inputs
}

// UnmarshalStored decodes a config that encoding/json would have
// encoded and decoded again on its way, as the container's config did
// until create saved the bytes it read instead (CreateOpts.SpecJSON):
// an empty array or object of an omitempty field comes out nil, as it
// did then, so that what exec and update find is what they always did.
func UnmarshalStored(data []byte, s *specs.Spec) error {
	if err := Unmarshal(data, s); err != nil {
		return err
	}
	normSpec(s)
	return nil
}

// decode decodes all of data into v with dec: one value, white space
// around it and nothing else.
func decode[T any](data []byte, v *T, dec func(*reader, *T) error) error {
	r := &reader{b: data}
	if err := dec(r, v); err != nil {
		return err
	}
	r.ws()
	if r.i < len(r.b) {
		return r.syntax("after top-level value")
	}
	return nil
}

// reader is the input and the offset of the next byte to read.
type reader struct {
	b []byte
	i int
}

// Error is a syntax error or a value of the wrong type, at an offset.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

func (r *reader) syntax(what string) error {
	if r.i >= len(r.b) {
		return &Error{r.i, "unexpected end of input"}
	}
	return &Error{r.i, fmt.Sprintf("invalid character %q %s", r.b[r.i], what)}
}

func (r *reader) typeErr(want string) error {
	return &Error{r.i, "cannot decode a JSON " + r.kind() + " into " + want}
}

// kind names the JSON value that starts at the offset.
func (r *reader) kind() string {
	if r.i >= len(r.b) {
		return "end of input"
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

func (r *reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (r *reader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// literal consumes word (true, false, null), which must be next.
func (r *reader) literal(word string) error {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		for k := 0; k < len(word) && r.i < len(r.b) && r.b[r.i] == word[k]; k++ {
			r.i++
		}
		return r.syntax("in literal " + word)
	}
	r.i += len(word)
	return nil
}

// null consumes a null if one is next.
func (r *reader) null() (bool, error) {
	if r.peek() != 'n' {
		return false, nil
	}
	return true, r.literal("null")
}

// object calls field with each key of the object that is next, with the
// reader at its value; field must consume the value.
func (r *reader) object(field func(key []byte) error) error {
	r.i++ // '{'
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.syntax("looking for beginning of object key string")
		}
		key, err := r.str()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntax("after object key")
		}
		r.i++
		if err := field(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.syntax("after object key:value pair")
		}
	}
}

// array calls elem for each element of the array that is next, with the
// reader at it; elem must consume it.
func (r *reader) array(elem func() error) error {
	r.i++ // '['
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		r.ws()
		if err := elem(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.syntax("after array element")
		}
	}
}

// skip consumes the value that is next, checking its syntax.
func (r *reader) skip() error {
	switch c := r.peek(); {
	case c == '{':
		return r.object(func([]byte) error { return r.skip() })
	case c == '[':
		return r.array(r.skip)
	case c == '"':
		_, err := r.str()
		return err
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, err := r.number()
		return err
	default:
		return r.syntax("looking for beginning of value")
	}
}

// number consumes the number that is next and returns its text.
func (r *reader) number() ([]byte, error) {
	start := r.i
	b := r.b
	i := r.i
	digits := func() bool {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n > 0
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		r.i = i
		return nil, r.syntax("in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			r.i = i
			return nil, r.syntax("after decimal point in numeric literal")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			r.i = i
			return nil, r.syntax("in exponent of numeric literal")
		}
	}
	r.i = i
	return b[start:i], nil
}

// str consumes the string that is next and returns it unquoted, as
// encoding/json unquotes: escapes resolved, invalid UTF-8 and lone
// surrogates replaced by U+FFFD. The result may share the input.
func (r *reader) str() ([]byte, error) {
	r.i++ // '"'
	start := r.i
	plain := true
	for {
		if r.i >= len(r.b) {
			return nil, r.syntax("in string literal")
		}
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if plain {
				return s, nil
			}
			return unquote(s), nil
		case c == '\\':
			plain = false
			r.i++
			if r.i >= len(r.b) {
				return nil, r.syntax("in string escape code")
			}
			switch r.b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for k := 0; k < 4; k++ {
					if r.i >= len(r.b) || !isHex(r.b[r.i]) {
						return nil, r.syntax("in \\u hexadecimal character escape")
					}
					r.i++
				}
			default:
				return nil, r.syntax("in string escape code")
			}
		case c < ' ':
			return nil, r.syntax("in string literal")
		case c < utf8.RuneSelf:
			r.i++
		default:
			rr, size := utf8.DecodeRune(r.b[r.i:])
			if rr == utf8.RuneError && size == 1 {
				plain = false
			}
			r.i += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote resolves the escapes of s, whose syntax str has checked
// (encoding/json's unquoteBytes).
func unquote(s []byte) []byte {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return b
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	n, err := strconv.ParseUint(string(s[2:6]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

// match reports whether key names the field name: exactly, or as
// encoding/json folds names (ASCII letters to upper case, other runes to
// the smallest of their fold set). The generator makes sure that no two
// fields of a struct fold alike, so that the first match is the one
// encoding/json picks.
func match(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	i, j := 0, 0
	for i < len(key) && j < len(name) {
		var a, b rune
		if c := key[i]; c < utf8.RuneSelf {
			a = rune(c)
			i++
		} else {
			var n int
			a, n = utf8.DecodeRune(key[i:])
			i += n
		}
		if c := name[j]; c < utf8.RuneSelf {
			b = rune(c)
			j++
		} else {
			var n int
			b, n = utf8.DecodeRuneInString(name[j:])
			j += n
		}
		if foldRune(a) != foldRune(b) {
			return false
		}
	}
	return i == len(key) && j == len(name)
}

// foldRune is encoding/json's fold of one rune.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// The generated code calls these for every field, by kind.

func decString[T ~string](r *reader, p *T) error {
	switch r.peek() {
	case '"':
		s, err := r.str()
		*p = T(s)
		return err
	case 'n':
		return r.literal("null")
	}
	return r.typeErr("a string")
}

func decBool[T ~bool](r *reader, p *T) error {
	switch r.peek() {
	case 't':
		*p = true
		return r.literal("true")
	case 'f':
		*p = false
		return r.literal("false")
	case 'n':
		return r.literal("null")
	}
	return r.typeErr("a bool")
}

// numberText returns the text of the number that is next, or (nil, nil)
// for a null, which leaves the value as it is.
func (r *reader) numberText(want string) ([]byte, error) {
	switch c := r.peek(); {
	case c == 'n':
		return nil, r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	}
	return nil, r.typeErr(want)
}

func decInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](r *reader, p *T) error {
	r.peek()
	start := r.i
	t, err := r.numberText("an integer")
	if err != nil || t == nil {
		return err
	}
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil || int64(T(n)) != n {
		return &Error{start, fmt.Sprintf("cannot decode number %s into %T", t, *p)}
	}
	*p = T(n)
	return nil
}

func decUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](r *reader, p *T) error {
	r.peek()
	start := r.i
	t, err := r.numberText("an unsigned integer")
	if err != nil || t == nil {
		return err
	}
	n, err := strconv.ParseUint(string(t), 10, 64)
	if err != nil || uint64(T(n)) != n {
		return &Error{start, fmt.Sprintf("cannot decode number %s into %T", t, *p)}
	}
	*p = T(n)
	return nil
}

func decFloat64[T ~float64](r *reader, p *T) error {
	r.peek()
	start := r.i
	t, err := r.numberText("a number")
	if err != nil || t == nil {
		return err
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		return &Error{start, fmt.Sprintf("cannot decode number %s into %T", t, *p)}
	}
	*p = T(f)
	return nil
}

func decFloat32[T ~float32](r *reader, p *T) error {
	r.peek()
	start := r.i
	t, err := r.numberText("a number")
	if err != nil || t == nil {
		return err
	}
	f, err := strconv.ParseFloat(string(t), 32)
	if err != nil {
		return &Error{start, fmt.Sprintf("cannot decode number %s into %T", t, *p)}
	}
	*p = T(f)
	return nil
}

// decTime decodes a time as its UnmarshalJSON does: null leaves it as
// it is; a string is RFC 3339.
func decTime(r *reader, p *time.Time) error {
	switch r.peek() {
	case 'n':
		return r.literal("null")
	case '"':
	default:
		return r.typeErr("a time (RFC 3339 string)")
	}
	start := r.i
	s, err := r.str()
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, string(s))
	if err != nil {
		return &Error{start, err.Error()}
	}
	*p = t
	return nil
}

// decBytes decodes a []byte as encoding/json does: a string in base64
// (standard, padded; line breaks ignored), an array of numbers, or null
// (nil).
func decBytes(r *reader, p *[]byte) error {
	switch r.peek() {
	case '"':
		start := r.i
		s, err := r.str()
		if err != nil {
			return err
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(b, s)
		if err != nil {
			return &Error{start, "illegal base64 data: " + err.Error()}
		}
		*p = b[:n]
		return nil
	case '[':
		return decSlice(r, p, decUint[byte])
	}
	return decSlice(r, p, decUint[byte]) // null, or the type error
}

// decPtr: null sets nil; otherwise the value is decoded into *p, made
// if nil (encoding/json decodes into an existing pointee).
func decPtr[T any](r *reader, p **T, dec func(*reader, *T) error) error {
	if null, err := r.null(); null || err != nil {
		if err == nil {
			*p = nil
		}
		return err
	}
	if *p == nil {
		*p = new(T)
	}
	return dec(r, *p)
}

// decSlice: null sets nil; an array is decoded element by element over
// what *p holds, as encoding/json does (reusing its elements and
// capacity), and [] gives an empty, non-nil slice.
func decSlice[T any](r *reader, p *[]T, dec func(*reader, *T) error) error {
	switch r.peek() {
	case 'n':
		if err := r.literal("null"); err != nil {
			return err
		}
		*p = nil
		return nil
	case '[':
	default:
		return r.typeErr("an array")
	}
	s := *p
	i := 0
	err := r.array(func() error {
		switch {
		case i < len(s):
		case i < cap(s):
			s = s[:i+1]
		default:
			var zero T
			s = append(s, zero)
		}
		i++
		return dec(r, &s[i-1])
	})
	if err != nil {
		return err
	}
	if i < len(s) {
		s = s[:i]
	}
	if i == 0 {
		s = []T{}
	}
	*p = s
	return nil
}

// decMap: null sets nil; each key of an object sets a value decoded from
// zero (a map made if *p is nil).
func decMap[T any](r *reader, p *map[string]T, dec func(*reader, *T) error) error {
	switch r.peek() {
	case 'n':
		if err := r.literal("null"); err != nil {
			return err
		}
		*p = nil
		return nil
	case '{':
	default:
		return r.typeErr("an object")
	}
	if *p == nil {
		*p = map[string]T{}
	}
	m := *p
	return r.object(func(key []byte) error {
		var v T
		if err := dec(r, &v); err != nil {
			return err
		}
		m[string(key)] = v
		return nil
	})
}

// decStruct decodes an object with fields (which returns false for a
// key it does not know: the value is skipped); null leaves the struct
// as it is.
func decStruct(r *reader, want string, fields func(key []byte) (bool, error)) error {
	switch r.peek() {
	case 'n':
		return r.literal("null")
	case '{':
	default:
		return r.typeErr(want)
	}
	return r.object(func(key []byte) error {
		known, err := fields(key)
		if err != nil || known {
			return err
		}
		return r.skip()
	})
}

// decAny decodes any value into an empty interface as encoding/json
// does: map[string]any, []any, float64, string, bool or nil.
func decAny(r *reader, p *any) error {
	switch c := r.peek(); {
	case c == '{':
		m := map[string]any{}
		err := r.object(func(key []byte) error {
			var v any
			if err := decAny(r, &v); err != nil {
				return err
			}
			m[string(key)] = v
			return nil
		})
		*p = m
		return err
	case c == '[':
		s := []any{}
		err := r.array(func() error {
			var v any
			if err := decAny(r, &v); err != nil {
				return err
			}
			s = append(s, v)
			return nil
		})
		*p = s
		return err
	case c == '"':
		s, err := r.str()
		*p = string(s)
		return err
	case c == 't' || c == 'f':
		var b bool
		err := decBool(r, &b)
		*p = b
		return err
	case c == 'n':
		*p = nil
		return r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		start := r.i
		t, err := r.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return &Error{start, fmt.Sprintf("cannot decode number %s into float64", t)}
		}
		*p = f
		return nil
	}
	return r.syntax("looking for beginning of value")
}
