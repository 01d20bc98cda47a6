package rpc

import (
	"bytes"
	"math/rand"
	"reflect"
	"testing"

	criurpc "github.com/checkpoint-restore/go-criu/v7/rpc"
	"google.golang.org/protobuf/proto"
)

// fill sets every field reachable from v to random values (pointers and
// slices nil a quarter of the time), negative and 10-byte varints
// included.
func fill(rnd *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 4 || rnd.Intn(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(rnd, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if rnd.Intn(4) == 0 {
			return
		}
		n := rnd.Intn(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			e := s.Index(i)
			if e.Kind() == reflect.Pointer { // a repeated message: never nil
				e.Set(reflect.New(e.Type().Elem()))
				e = e.Elem()
			}
			fill(rnd, e, depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(rnd, v.Field(i), depth+1)
			}
		}
	case reflect.Bool:
		v.SetBool(rnd.Intn(2) == 0)
	case reflect.Int32:
		v.SetInt(int64([]int32{0, 1, -1, 127, 128, 1 << 30, -1 << 31, rnd.Int31()}[rnd.Intn(8)]))
	case reflect.Uint32:
		v.SetUint(uint64([]uint32{0, 1, 127, 128, 1<<32 - 1, rnd.Uint32()}[rnd.Intn(6)]))
	case reflect.String:
		v.SetString([]string{"", "a", "/var/lib/criu", "héllo\x00\xff", string(make([]byte, 300))}[rnd.Intn(5)])
	default:
		panic(v.Type().String())
	}
}

// convert copies src into dst field by field, by name: between this
// package's messages and go-criu's, which have the same names.
func convert(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(dst.Type().Elem())
		convert(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			convert(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Struct:
		for i := 0; i < src.NumField(); i++ {
			f := src.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			d := dst.FieldByName(f.Name)
			if !d.IsValid() {
				panic("no field " + f.Name + " in " + dst.Type().String())
			}
			convert(d, src.Field(i))
		}
	case reflect.Int32:
		dst.SetInt(src.Int())
	default:
		dst.Set(src)
	}
}

var wire = proto.MarshalOptions{AllowPartial: true, Deterministic: true}

// A request encodes to the bytes google.golang.org/protobuf writes for
// go-criu's message with the same values, and those bytes decode there
// to the same values.
func TestRequestWire(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var ours CriuReq
		fill(rnd, reflect.ValueOf(&ours).Elem(), 0)
		theirs := new(criurpc.CriuReq)
		convert(reflect.ValueOf(theirs).Elem(), reflect.ValueOf(&ours).Elem())
		want, err := wire.Marshal(theirs)
		if err != nil {
			t.Fatal(err)
		}
		got := ours.Marshal()
		if !bytes.Equal(got, want) {
			t.Fatalf("request %d:\ngot  %x\nwant %x", i, got, want)
		}
		back := new(criurpc.CriuReq)
		if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(got, back); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(back, theirs) {
			t.Fatalf("request %d: decodes to %v, want %v", i, back, theirs)
		}
	}
}

// What google.golang.org/protobuf writes for go-criu's response decodes
// here to the same values; a truncated or malformed one is refused.
func TestResponseWire(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	for i := 0; i < 2000; i++ {
		theirs := new(criurpc.CriuResp)
		fill(rnd, reflect.ValueOf(theirs).Elem(), 0)
		b, err := wire.Marshal(theirs)
		if err != nil {
			t.Fatal(err)
		}
		var ours CriuResp
		if err := ours.Unmarshal(b); err != nil {
			t.Fatalf("response %d (%x): %v", i, b, err)
		}
		back := new(criurpc.CriuResp)
		convert(reflect.ValueOf(back).Elem(), reflect.ValueOf(&ours).Elem())
		if !proto.Equal(back, theirs) {
			t.Fatalf("response %d: decoded as %v, want %v", i, back, theirs)
		}
		// Every field has a key and a value: one byte less cuts the
		// last one short.
		if len(b) > 0 {
			if err := new(CriuResp).Unmarshal(b[:len(b)-1]); err == nil {
				t.Fatalf("response %d: truncated by a byte, decoded without error", i)
			}
		}
	}
	// Unknown fields are skipped, as CRIU may add some.
	unknown := append([]byte{0x08, 0x0a, 0x10, 0x01}, 0xf8, 0x07, 0x05, 0xfa, 0x07, 0x02, 'h', 'i', 0xfd, 0x07, 1, 2, 3, 4)
	var r CriuResp
	if err := r.Unmarshal(unknown); err != nil || r.GetType() != CriuReqType_VERSION || !r.GetSuccess() {
		t.Errorf("with unknown fields: %v, %v", err, r)
	}
	for _, bad := range [][]byte{{0x08}, {0x0a, 0x05, 'a'}, {0x12, 0x01}, {0x00}, {0x0b}} {
		if err := new(CriuResp).Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(%x): no error", bad)
		}
	}
}

func TestReqTypeString(t *testing.T) {
	for v, name := range criurpc.CriuReqType_name {
		if got := CriuReqType(v).String(); got != name {
			t.Errorf("CriuReqType(%d): %q, go-criu says %q", v, got, name)
		}
	}
}
