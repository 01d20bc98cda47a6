package libsandbox

import (
	"strings"
	"testing"
)

func TestIdentityMap(t *testing.T) {
	for in, want := range map[string]bool{
		"         0          0 4294967295\n": true,
		"         0       1001          1\n": false,
		"0 0 4294967295\n1 1 1\n":            false,
		"":                                   false,
	} {
		if got := identityMap(strings.NewReader(in)); got != want {
			t.Errorf("identityMap(%q) = %v, want %v", in, got, want)
		}
	}
}
