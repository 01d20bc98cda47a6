package libsandbox

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		ok   bool
	}{
		{"empty", "", false},
		{"dot", ".", false},
		{"dotdot", "..", false},
		{"slash", "/", false},
		{"path", "a/b", false},
		{"leading dash", "-a", false},
		{"leading dot", ".a", false},
		{"leading underscore", "_a", false},
		{"space", "a b", false},
		{"newline", "a\n", false},
		{"nul", "a\x00", false},
		{"colon", "a:b", false},
		{"non-ascii", "é", false},
		{"one letter", "a", true},
		{"one digit", "9", true},
		{"all allowed characters", "A9_.+-x", true},
		{"trailing dots", "a..", true},
		{"max length", strings.Repeat("a", MaxIDLength), true},
		{"one past max length", strings.Repeat("a", MaxIDLength+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateID(tc.id)
			if tc.ok {
				if err != nil {
					t.Errorf("ValidateID(%.20q): got %v, want nil", tc.id, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateID(%.20q): got nil, want an error", tc.id)
			}
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("ValidateID(%.20q): got %v, want an error wrapping ErrInvalidID", tc.id, err)
			}
		})
	}
}
