package specjson

import "time"

// The codec's pieces under exported names, for the code gen.go writes
// into other packages: libsandbox/statefile's codec of state.json. That
// codec cannot live here: state.json reaches libsandbox/cgroups' types,
// and a package that imports cgroups links in its imports' initialisers
// (D-Bus, net, logrus) ahead of whatever imports it. init decodes its
// config with this package, and starts before those initialisers only
// because nothing here imports them (nsexec/initstage).

// Reader is what a decoder reads from.
type Reader = reader

// Writer is what an encoder appends to.
type Writer = writer

// NewWriter returns a Writer whose buffer starts with room for size
// bytes.
func NewWriter(size int) *Writer { return &writer{b: make([]byte, 0, size)} }

// Bytes returns what was written.
func (w *writer) Bytes() []byte { return w.b }

// Decode decodes all of data into v with dec, as decode.
func Decode[T any](data []byte, v *T, dec func(*Reader, *T) error) error {
	return decode(data, v, dec)
}

// Match, DecStruct, DecPtr, DecSlice, DecMap, DecString, DecBool,
// DecInt, DecUint and DecTime are match, decStruct... as the generated
// decoders call them.
func Match(key []byte, name string) bool { return match(key, name) }

func DecStruct(r *Reader, want string, fields func(key []byte) (bool, error)) error {
	return decStruct(r, want, fields)
}

func DecPtr[T any](r *Reader, p **T, dec func(*Reader, *T) error) error {
	return decPtr(r, p, dec)
}

func DecSlice[T any](r *Reader, p *[]T, dec func(*Reader, *T) error) error {
	return decSlice(r, p, dec)
}

func DecMap[T any](r *Reader, p *map[string]T, dec func(*Reader, *T) error) error {
	return decMap(r, p, dec)
}

func DecString[T ~string](r *Reader, p *T) error { return decString(r, p) }

func DecBool[T ~bool](r *Reader, p *T) error { return decBool(r, p) }

func DecInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](r *Reader, p *T) error {
	return decInt(r, p)
}

func DecUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](r *Reader, p *T) error {
	return decUint(r, p)
}

func DecTime(r *Reader, p *time.Time) error { return decTime(r, p) }

// EncPtr, EncSlice, EncMap, EncString, EncBool, EncInt, EncUint and
// EncTime are encPtr... as the generated encoders call them.
func EncPtr[T any](w *Writer, p **T, enc func(*Writer, *T)) { encPtr(w, p, enc) }

func EncSlice[T any](w *Writer, p *[]T, enc func(*Writer, *T)) { encSlice(w, p, enc) }

func EncMap[T any](w *Writer, p *map[string]T, enc func(*Writer, *T)) { encMap(w, p, enc) }

func EncString[T ~string](w *Writer, p *T) { encString(w, p) }

func EncBool[T ~bool](w *Writer, p *T) { encBool(w, p) }

func EncInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](w *Writer, p *T) { encInt(w, p) }

func EncUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](w *Writer, p *T) {
	encUint(w, p)
}

func EncTime(w *Writer, p *time.Time) { encTime(w, p) }
