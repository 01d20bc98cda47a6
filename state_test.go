package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

// TestMarshalStateSameAsEncodingJSON: printState's bytes are printJSON's
// (encoding/json's), for states with every field set, with strings that
// encoding/json escapes, with and without annotations. It fails when a
// field is added to State and not to marshalState (fill sets them all).
func TestMarshalStateSameAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "a", "/run/x y", "<&>", "\"\\\n\t\x01", "é\u2028\u2029", "\xff\xfe", "日本"}
	pick := func() string { return strs[r.IntN(len(strs))] + strs[r.IntN(len(strs))] }
	for i := 0; i < 2000; i++ {
		var st libsandbox.State
		fill(t, reflect.ValueOf(&st).Elem(), r, pick)
		if i%3 == 0 {
			st.Annotations = nil
		}
		want, err := json.MarshalIndent(&st, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		got, err := indentState(&st)
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("state %+v:\n got %s\nwant %s", st, got, want)
		}
	}
}

// TestMarshalStateBadTimes: a created time encoding/json refuses (a year
// outside 0-9999, a zone offset of a day or more) fails printState too,
// rather than printing what clients cannot parse.
func TestMarshalStateBadTimes(t *testing.T) {
	for _, c := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 24*3600)),
	} {
		st := libsandbox.State{ID: "x", Created: c}
		if _, err := json.Marshal(&st); err == nil {
			t.Fatalf("%v: encoding/json accepts it; the test's premise is wrong", c)
		}
		if b, err := indentState(&st); err == nil {
			t.Errorf("%v: printed %s, want an error", c, b)
		}
	}
}

// fill sets every field of v, failing on a kind marshalState's test
// does not know (a new field's type must be handled in both).
func fill(t *testing.T, v reflect.Value, r *rand.Rand, pick func() string) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(pick())
		case reflect.Int:
			f.SetInt(int64(r.IntN(1 << 22)))
		case reflect.Map:
			m := map[string]string{}
			for j := r.IntN(4); j > 0; j-- {
				m[pick()] = pick()
			}
			f.Set(reflect.ValueOf(m))
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				t.Fatalf("State.%s: type %s unknown to this test", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).In(time.FixedZone("z", r.IntN(50000)-25000))))
		default:
			t.Fatalf("State.%s: kind %s unknown to this test", v.Type().Field(i).Name, f.Kind())
		}
	}
}
