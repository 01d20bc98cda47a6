package rootfs

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseOptions feeds ParseOptions an option list, one option a line
// (the fuzzer has no []string). The seed corpus is in
// testdata/fuzz/FuzzParseOptions; `go test` runs it as ordinary tests.
//
// An element holding a comma ("size=1k,ro") is one option to us and goes
// to the filesystem as data as is, as in runc; only then may a piece of
// Data between commas be a known option.
func FuzzParseOptions(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		opts := strings.Split(in, "\n")
		o, err := ParseOptions(opts)

		// An error exactly when an option is empty or known but not
		// supported.
		wantErr := false
		commas := false
		for _, opt := range opts {
			if _, bad := unsupportedOptions[opt]; bad || opt == "" {
				wantErr = true
			}
			commas = commas || strings.Contains(opt, ",")
		}
		if (err != nil) != wantErr {
			t.Fatalf("ParseOptions(%q): error %v, want an error: %v", opts, err, wantErr)
		}
		if err != nil {
			return
		}

		if o.Flags&o.Clear != 0 {
			t.Errorf("ParseOptions(%q): flags %#x both set and cleared", opts, o.Flags&o.Clear)
		}
		if o.RecSet&o.RecClear != 0 {
			t.Errorf("ParseOptions(%q): attributes %#x both set and cleared", opts, o.RecSet&o.RecClear)
		}

		// The last option naming a flag wins: "ro" then "rw" is
		// read-write, and the flag is remembered as cleared.
		var all uintptr
		for _, fo := range flagOptions {
			all |= fo.flag
		}
		for bit := uintptr(1); bit != 0 && bit <= all; bit <<= 1 {
			if all&bit == 0 {
				continue
			}
			last := ""
			for _, opt := range opts {
				if fo, ok := flagOptions[opt]; ok && fo.flag&bit != 0 {
					last = opt
				}
			}
			set, cleared := o.Flags&bit != 0, o.Clear&bit != 0
			var wantSet, wantCleared bool
			if last != "" {
				wantCleared = flagOptions[last].clear
				wantSet = !wantCleared
			}
			if set != wantSet || cleared != wantCleared {
				t.Errorf("ParseOptions(%q): flag %#x set %v, cleared %v; want set %v, cleared %v (last option naming it: %q)",
					opts, bit, set, cleared, wantSet, wantCleared, last)
			}
		}

		var prop []uintptr
		var data []string
		for _, opt := range opts {
			if p, ok := propagationOptions[opt]; ok {
				prop = append(prop, p)
			}
			if !known(opt) && !strings.HasPrefix(opt, "x-") {
				data = append(data, opt)
			}
		}
		if !reflect.DeepEqual(o.Propagate, prop) {
			t.Errorf("ParseOptions(%q): propagation %#x, want %#x", opts, o.Propagate, prop)
		}
		if want := strings.Join(data, ","); o.Data != want {
			t.Errorf("ParseOptions(%q): data %q, want %q", opts, o.Data, want)
		}
		if commas {
			return
		}
		for _, piece := range strings.Split(o.Data, ",") {
			if known(piece) || strings.HasPrefix(piece, "x-") {
				t.Errorf("ParseOptions(%q): data %q holds %q, which is not for the filesystem", opts, o.Data, piece)
			}
		}
	})
}

func known(opt string) bool {
	_, flag := flagOptions[opt]
	_, prop := propagationOptions[opt]
	_, rec := recursiveOptions[opt]
	_, unsup := unsupportedOptions[opt]
	return flag || prop || rec || unsup || opt == "tmpcopyup" || opt == "idmap" || opt == "ridmap"
}
