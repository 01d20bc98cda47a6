// Package procenv prepares a process's environment as runc does: the
// last value of a name wins, and HOME, when missing or empty, comes from
// the container's /etc/passwd.
package procenv

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Prepare returns env with duplicates removed (the last occurrence of
// each name kept, in the order of those last occurrences: runc's
// prepareEnv, after Go's os/exec dedupEnv) and, if HOME is missing or
// empty, an empty HOME dropped and "HOME="+home() appended. Entries
// without "=" are kept as they are (the spec's validation refuses them
// before).
func Prepare(env []string, home func() string) []string {
	out := make([]string, 0, len(env)+1)
	saw := make(map[string]bool, len(env))
	homeSet := false
	for n := len(env) - 1; n >= 0; n-- {
		kv := env[n]
		key, val, _ := strings.Cut(kv, "=")
		if saw[key] {
			continue
		}
		saw[key] = true
		if key == "HOME" {
			if val == "" {
				continue
			}
			homeSet = true
		}
		out = append(out, kv)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if !homeSet {
		out = append(out, "HOME="+home())
	}
	return out
}

// Lookup returns the value of name in env, and whether it is there.
func Lookup(env []string, name string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Home returns uid's home directory from a passwd(5) file, or "/" when
// uid has no entry or an empty one (runc's fallback).
func Home(passwd io.Reader, uid uint32) string {
	sc := bufio.NewScanner(passwd)
	want := strconv.FormatUint(uint64(uid), 10)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}
