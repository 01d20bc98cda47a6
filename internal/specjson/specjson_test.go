package specjson_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/internal/initcfg"
	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/statefile"
)

// same decodes data with encoding/json and with specjson and fails
// unless both refuse it or both give the same spec.
func same(t *testing.T, data []byte) {
	t.Helper()
	var want, got specs.Spec
	errJ := json.Unmarshal(data, &want)
	errS := specjson.Unmarshal(data, &got)
	switch {
	case errJ != nil && errS == nil:
		t.Fatalf("%q: encoding/json refuses it (%v), specjson accepts it", data, errJ)
	case errJ == nil && errS != nil:
		t.Fatalf("%q: encoding/json accepts it, specjson refuses it: %v", data, errS)
	case errJ == nil && !reflect.DeepEqual(&got, &want):
		g, _ := json.Marshal(&got)
		w, _ := json.Marshal(&want)
		t.Fatalf("%q:\ngot  %s\nwant %s", data, g, w)
	}
	if errJ != nil {
		return
	}
	// UnmarshalStored: as if encoding/json had encoded and decoded it
	// on the way.
	b, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	var want2, got2 specs.Spec
	if err := json.Unmarshal(b, &want2); err != nil {
		t.Fatal(err)
	}
	if err := specjson.UnmarshalStored(data, &got2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got2, &want2) {
		t.Fatalf("%q: UnmarshalStored differs from encoding/json's round trip", data)
	}
}

func seeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, rootless := range []bool{false, true} {
		b, err := json.MarshalIndent(libsandbox.DefaultSpec(rootless), "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, cases...)
}

// cases are what encoding/json does in corners: folded keys, duplicate
// keys, nulls, escapes, bad UTF-8, numbers out of range, wrong types,
// syntax errors.
var cases = [][]byte{
	[]byte(`{}`),
	[]byte(` {"ociVersion":"1.0.2"} `),
	[]byte(`{"OCIVERSION":"a","ociversion":"b"}`),
	[]byte(`{"ociVersion":"a","OciVersion":"b"}`),
	[]byte(`{"process":{"args":["a","b","c"]},"process":{"args":["d"]}}`),
	[]byte(`{"process":{"args":["a"],"cwd":"/x"},"process":{"args":[]}}`),
	[]byte(`{"process":{"user":{"uid":1}},"process":{"user":{"gid":2}}}`),
	[]byte(`{"process":null}`),
	[]byte(`{"process":{"args":null,"env":[]}}`),
	[]byte(`{"process":{"capabilities":{"inheritable":[],"bounding":["A"]},"rlimits":[]},"annotations":{},"linux":{"resources":{"rdma":{"a":{}},"devices":[]},"sysctl":{}}}`),
	[]byte(`{"hostname":null}`),
	[]byte(`{"annotations":{"a":"1","a":"2","b":null}}`),
	[]byte(`{"annotations":null}`),
	[]byte(`{"hostname":"\u00e9\ud83d\ude00\ud800x\udc00\\\/\b\f\n\r\t\""}`),
	[]byte("{\"hostname\":\"\xff\xfe a \xc3\"}"),
	[]byte(`{"hostname":"\'"}`),
	[]byte(`{"hostname":"a` + "\x01" + `"}`),
	[]byte(`{"hostname":"\u12"}`),
	[]byte(`{"process":{"user":{"uid":4294967295}}}`),
	[]byte(`{"process":{"user":{"uid":4294967296}}}`),
	[]byte(`{"process":{"user":{"uid":-1}}}`),
	[]byte(`{"process":{"user":{"uid":1.0}}}`),
	[]byte(`{"process":{"user":{"uid":1e2}}}`),
	[]byte(`{"process":{"user":{"uid":"1"}}}`),
	[]byte(`{"process":{"oomScoreAdj":-1000}}`),
	[]byte(`{"process":{"oomScoreAdj":null}}`),
	[]byte(`{"linux":{"resources":{"memory":{"limit":-1,"swappiness":18446744073709551615}}}}`),
	[]byte(`{"linux":{"resources":{"cpu":{"shares":1,"quota":-9223372036854775808,"realtimeRuntime":9223372036854775808}}}}`),
	[]byte(`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`),
	[]byte(`{"linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":2,"fileMode":438}]}}`),
	[]byte(`{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["a"],"args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}}}`),
	[]byte(`{"windows":{"credentialSpec":{"a":[1,"x",true,null,{"b":1e400}]}}}`),
	[]byte(`{"windows":{"credentialSpec":{"a":[1,"x",true,null,{"b":-0.5e-3}]}}}`),
	[]byte(`{"vm":{"hypervisor":{"path":"/x"}},"solaris":{"anet":[{}]}}`),
	[]byte(`{"root":{"path":"rootfs","readonly":true},"root":{"path":"r2"}}`),
	[]byte(`{"root":{"readonly":"yes"}}`),
	[]byte(`{"root":{"readonly":nul}}`),
	[]byte(`{"root":[]}`),
	[]byte(`{"mounts":{}}`),
	[]byte(`{"mounts":[{"destination":"/a","options":["ro"]},]}`),
	[]byte(`{"unknown":{"x":[1,2,{"y":null}],"z":"\u0041"},"hostname":"h"}`),
	[]byte(`{"unknown":[1,2,}`),
	[]byte(`{"a":1}x`),
	[]byte(`{"a":01}`),
	[]byte(`{"a":-}`),
	[]byte(`{"a":1.}`),
	[]byte(`{"a":1e}`),
	[]byte(`{"a" 1}`),
	[]byte(`{"a":1 "b":2}`),
	[]byte(`{a:1}`),
	[]byte(`[]`),
	[]byte(`null`),
	[]byte(``),
	[]byte(`{"hostname":"x"`),
	[]byte(`{"\u006fciVersion":"esc"}`),
	[]byte(`{"ociVer\u017fion":"long s folds to s"}`),
	[]byte(`{"ociversion\u212a":"kelvin"}`),
	[]byte(`{"linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"sysctl":{"a.b":"1"}}}`),
}

func TestSameAsEncodingJSON(t *testing.T) {
	for _, b := range seeds(t) {
		same(t, b)
	}
}

// TestRandomSpecs fills every field of specs.Spec with random values,
// and decodes what encoding/json makes of them, keys written in random
// case half of the time.
func TestRandomSpecs(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		var s specs.Spec
		fill(rnd, reflect.ValueOf(&s).Elem(), 0)
		b, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			b = shuffleCase(rnd, b)
		}
		same(t, b)
	}
}

// TestInitConfig: init's config, filled at random, encodes to the bytes
// encoding/json writes, and decodes (as written, and with keys in random
// case) to what encoding/json reads; bad input is refused.
func TestInitConfig(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	for i := 0; i < 500; i++ {
		var c initcfg.Config
		fill(rnd, reflect.ValueOf(&c).Elem(), 0)
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		got := specjson.MarshalInitConfig(&c)
		if !bytes.Equal(got, want) {
			t.Fatalf("MarshalInitConfig:\ngot  %s\nwant %s", got, want)
		}
		in := want
		if i%2 == 1 {
			in = shuffleCase(rnd, want)
		}
		var dj, ds initcfg.Config
		if err := json.Unmarshal(in, &dj); err != nil {
			t.Fatal(err)
		}
		if err := specjson.UnmarshalInitConfig(in, &ds); err != nil {
			t.Fatalf("UnmarshalInitConfig(%s): %v", in, err)
		}
		if !reflect.DeepEqual(&ds, &dj) {
			g, _ := json.Marshal(&ds)
			t.Fatalf("UnmarshalInitConfig:\ngot  %s\nwant %s", g, in)
		}
	}
	for _, bad := range []string{``, `{`, `[]`, `{"id":1}`, `{"seccomp":{"filter":"!!"}}`, `{"lastCap":"x"}`, `{} x`} {
		var c initcfg.Config
		if err := specjson.UnmarshalInitConfig([]byte(bad), &c); err == nil {
			t.Errorf("UnmarshalInitConfig(%q): no error", bad)
		}
	}
}

// TestState: state.json, filled at random, encodes to the bytes
// encoding/json writes and decodes to what it reads, as state.json files
// written by earlier versions (with encoding/json) are read.
func TestState(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	for i := 0; i < 500; i++ {
		var s statefile.State
		fill(rnd, reflect.ValueOf(&s).Elem(), 0)
		s.Created = time.Unix(rnd.Int63n(1e10), rnd.Int63n(1e9)*int64(rnd.Intn(2)))
		if i%3 == 0 {
			s.Created = s.Created.UTC()
		}
		want, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		got := statefile.Marshal(&s)
		if !bytes.Equal(got, want) {
			t.Fatalf("statefile.Marshal:\ngot  %s\nwant %s", got, want)
		}
		in := want
		if i%2 == 1 {
			in = shuffleCase(rnd, want)
		}
		var dj, ds statefile.State
		if err := json.Unmarshal(in, &dj); err != nil {
			t.Fatal(err)
		}
		if err := statefile.Unmarshal(in, &ds); err != nil {
			t.Fatalf("statefile.Unmarshal(%s): %v", in, err)
		}
		if !reflect.DeepEqual(&ds, &dj) {
			g, _ := json.Marshal(&ds)
			t.Fatalf("statefile.Unmarshal:\ngot  %s\nwant %s", g, in)
		}
	}
	for _, bad := range []string{``, `{`, `{"created":1}`, `{"created":"yesterday"}`, `{"initPid":"1"}`, `{"cgroup":[]}`} {
		var s statefile.State
		if err := statefile.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("statefile.Unmarshal(%q): no error", bad)
		}
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("encoding/json accepts %q", bad)
		}
	}
}

// shuffleCase changes the case of letters in object keys (strings
// followed by a colon).
func shuffleCase(rnd *rand.Rand, b []byte) []byte {
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				r := []rune(k)
				for i := range r {
					if rnd.Intn(2) == 0 {
						r[i] = []rune(strings.ToUpper(string(r[i])))[0]
					}
				}
				out[string(r)] = walk(e)
			}
			return out
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(m))
	if err != nil {
		panic(err)
	}
	return out
}

func fill(rnd *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		strs := []string{"", "a", "/dev/null", "héllo", "\u2028x\"\\", "CAP_SYS_ADMIN", "<a&b>\x01\t\n\x7f", "bad \xff utf-8 \u2029"}
		v.SetString(strs[rnd.Intn(len(strs))])
	case reflect.Bool:
		v.SetBool(rnd.Intn(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rnd.Int63() >> uint(rnd.Intn(64))
		if rnd.Intn(2) == 0 {
			n = -n
		}
		if v.OverflowInt(n) {
			n = int64(int8(n))
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := rnd.Uint64() >> uint(rnd.Intn(64))
		if v.OverflowUint(n) {
			n = uint64(uint8(n))
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(rnd.Intn(1000)) / 8)
	case reflect.Pointer:
		if depth > 6 || rnd.Intn(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(rnd, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 || rnd.Intn(4) == 0 {
			return
		}
		n := rnd.Intn(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(rnd, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if depth > 6 || rnd.Intn(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := rnd.Intn(3); i > 0; i-- {
			k := reflect.New(v.Type().Key()).Elem()
			fill(rnd, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(rnd, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(rnd, v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		if rnd.Intn(2) == 0 {
			v.Set(reflect.ValueOf(map[string]any{"a": []any{1.5, "x", nil, true}}))
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		same(t, data)
	})
}

// TestGeneratedUpToDate regenerates codec_gen.go and
// libsandbox/statefile's (gen.go) and compares: a runtime-spec update
// needs `go generate ./internal/specjson`.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "run", "gen.go", "-spec", filepath.Join(dir, "spec.go"), "-state", filepath.Join(dir, "state.go"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, b)
	}
	for gen, file := range map[string]string{"spec.go": "codec_gen.go", "state.go": "../../libsandbox/statefile/codec_gen.go"} {
		want, err := os.ReadFile(filepath.Join(dir, gen))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s is stale: go generate ./internal/specjson", file)
		}
	}
}
