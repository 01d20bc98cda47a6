package specjson

import (
	"encoding/base64"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
)

// The encoders: what the generated enc<T> functions call. Their output
// is byte for byte encoding/json.Marshal's (HTML-safe escaping, map keys
// sorted, omitempty as encoding/json reads it), which the tests check:
// the bytes can then be read by anything that reads encoding/json's.

// writer is the output of an encoding.
type writer struct {
	b []byte
}

// Key writes a struct field's `"name":`, after a comma unless it is the
// first field written.
func (w *writer) Key(first *bool, quoted string) {
	if !*first {
		w.b = append(w.b, ',')
	}
	*first = false
	w.b = append(w.b, quoted...)
}

// Byte writes c.
func (w *writer) Byte(c byte) { w.b = append(w.b, c) }

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json quotes strings: ", \
// and the control characters escaped (\b \f \n \r \t by name), <, > and &
// as \u00XX, U+2028 and U+2029 escaped, invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func encString[T ~string](w *writer, p *T) { w.b = appendString(w.b, string(*p)) }

func encBool[T ~bool](w *writer, p *T) { w.b = strconv.AppendBool(w.b, bool(*p)) }

func encInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](w *writer, p *T) {
	w.b = strconv.AppendInt(w.b, int64(*p), 10)
}

func encUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](w *writer, p *T) {
	w.b = strconv.AppendUint(w.b, uint64(*p), 10)
}

// encTime writes a time as its MarshalJSON does: RFC 3339 with the
// nanoseconds, quoted (state.json's "created", always in years 0-9999,
// where MarshalJSON fails outside).
func encTime(w *writer, p *time.Time) {
	w.b = append(w.b, '"')
	w.b = p.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// encBytes: base64 (standard, padded), null for nil, as encoding/json
// writes a []byte.
func encBytes(w *writer, p *[]byte) {
	if *p == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '"')
	w.b = base64.StdEncoding.AppendEncode(w.b, *p)
	w.b = append(w.b, '"')
}

func encPtr[T any](w *writer, p **T, enc func(*writer, *T)) {
	if *p == nil {
		w.b = append(w.b, "null"...)
		return
	}
	enc(w, *p)
}

// encSlice: null for nil, [] for empty.
func encSlice[T any](w *writer, p *[]T, enc func(*writer, *T)) {
	if *p == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i := range *p {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		enc(w, &(*p)[i])
	}
	w.b = append(w.b, ']')
}

// encMap: null for nil; keys sorted, as encoding/json sorts them.
func encMap[T any](w *writer, p *map[string]T, enc func(*writer, *T)) {
	if *p == nil {
		w.b = append(w.b, "null"...)
		return
	}
	keys := make([]string, 0, len(*p))
	for k := range *p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, k)
		w.b = append(w.b, ':')
		v := (*p)[k]
		enc(w, &v)
	}
	w.b = append(w.b, '}')
}

// MarshalInitConfig encodes init's config as encoding/json.Marshal
// would, without its reflection: the first Marshal of a type builds the
// encoders of every type it reaches (0.4 ms of create's, for
// initcfg.Config).
func MarshalInitConfig(c *initcfg.Config) []byte {
	w := &writer{b: make([]byte, 0, 4096)}
	encInitcfgConfig(w, c)
	return w.b
}

// UnmarshalInitConfig decodes init's config as encoding/json.Unmarshal
// would. init decodes it first thing, before anything of the
// container's: encoding/json's field tables for the types it reaches
// cost init ~0.7 ms and a part of the heap that is charged to the
// container.
func UnmarshalInitConfig(data []byte, c *initcfg.Config) error {
	return decode(data, c, decInitcfgConfig)
}

// MarshalSeccomp encodes a compiled filter (the state directory keeps
// create's for exec).
func MarshalSeccomp(s *initcfg.Seccomp) []byte {
	w := &writer{b: make([]byte, 0, len(s.Filter)*4/3+256)}
	encInitcfgSeccomp(w, s)
	return w.b
}

// UnmarshalSeccomp decodes what MarshalSeccomp wrote.
func UnmarshalSeccomp(data []byte, s *initcfg.Seccomp) error {
	return decode(data, s, decInitcfgSeccomp)
}
