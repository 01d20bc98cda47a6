package libsandbox

import "fmt"

// MaxIDLength bounds a container ID (it names a directory and appears in
// cgroup paths).
const MaxIDLength = 1024

// ValidateID accepts [A-Za-z0-9][A-Za-z0-9_.+-]* up to MaxIDLength: no
// empty ID, no "." or "..", no "/", nothing that could leave the state
// directory.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: container ID cannot be empty", ErrInvalidID)
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("%w: container ID is %d bytes long, the limit is %d", ErrInvalidID, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || i > 0 && (c == '_' || c == '.' || c == '+' || c == '-') {
			continue
		}
		return fmt.Errorf("%w: %q (must match [A-Za-z0-9][A-Za-z0-9_.+-]*)", ErrInvalidID, id)
	}
	return nil
}
