package main

import (
	"math/big"
	"strings"
	"testing"
)

// FuzzParseBytes: the sizes of `update --memory` and its siblings. No
// panic; nothing negative but -1 (unlimited); what is accepted is the
// number times its suffix, exactly (no overflow). The seed corpus is in
// testdata/fuzz/FuzzParseBytes.
func FuzzParseBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseBytes(s)
		if err != nil {
			return
		}
		if v < 0 && !(s == "-1" && v == -1) {
			t.Fatalf("parseBytes(%q): %d", s, v)
		}
		if s == "-1" {
			return
		}
		num, mult := strings.ToLower(s), int64(1)
		switch num[len(num)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			num = num[:len(num)-1]
		}
		num = strings.TrimSuffix(num, "b")
		want, ok := new(big.Int).SetString(num, 10)
		if !ok {
			t.Fatalf("parseBytes(%q): %d, but %q is not a number", s, v, num)
		}
		want.Mul(want, big.NewInt(mult))
		if want.Cmp(big.NewInt(v)) != 0 {
			t.Errorf("parseBytes(%q): got %d, want %s", s, v, want)
		}
	})
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"16m", 16 << 20}, {"16M", 16 << 20}, {"1G", 1 << 30}, {"512k", 512 << 10},
		{"100", 100}, {"100b", 100}, {"-1", -1}, {"0", 0},
	} {
		if got, err := parseBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("parseBytes(%q): got %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "-2", "-1m", "m", "k", "1x", "1.5g", "10000000000G", "9223372036854775807k"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): got %d, want an error", in, got)
		}
	}
}
