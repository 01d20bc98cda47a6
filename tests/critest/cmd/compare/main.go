// compare reads critest's JUnit reports, one per runtime handler, and
// prints the totals side by side and every spec whose result differs
// from the first handler's (the reference, runc). It fails if a spec
// passes with the reference and not with another handler, or fails with
// every handler without a line in the known-failures file.
//
//	compare KNOWN-FAILURES DIR HANDLER... (reads DIR/junit-HANDLER.xml)
//
// known-failures: "SPEC :: reason" lines, SPEC being the spec's full
// text as JUnit names it without the leading "[It] "; # starts a comment.
package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type report struct {
	Suites []struct {
		Cases []struct {
			Name   string `xml:"name,attr"`
			Status string `xml:"status,attr"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// results maps a spec's name to passed, failed, skipped, pending (or
// timedout, interrupted: anything not passed nor skipped is a failure).
func results(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := map[string]string{}
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			name, ok := strings.CutPrefix(c.Name, "[It] ")
			if !ok {
				continue // [BeforeSuite], [AfterSuite], ReportAfterSuite
			}
			m[name] = c.Status
		}
	}
	return m, nil
}

func known(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		spec, reason, ok := strings.Cut(line, " :: ")
		if !ok {
			return nil, fmt.Errorf("%s: no \" :: reason\": %q", path, line)
		}
		m[spec] = reason
	}
	return m, sc.Err()
}

func failed(status string) bool {
	return status != "passed" && status != "skipped" && status != "pending" && status != ""
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: compare KNOWN-FAILURES DIR HANDLER...")
		os.Exit(2)
	}
	kf, err := known(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	handlers := os.Args[3:]
	res := make([]map[string]string, len(handlers))
	specs := map[string]bool{}
	for i, h := range handlers {
		if res[i], err = results(filepath.Join(os.Args[2], "junit-"+h+".xml")); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(2)
		}
		for s := range res[i] {
			specs[s] = true
		}
	}
	names := make([]string, 0, len(specs))
	for s := range specs {
		names = append(names, s)
	}
	sort.Strings(names)

	bad := 0
	for _, s := range names {
		ref := res[0][s]
		allFail := true
		for i := range handlers {
			if !failed(res[i][s]) {
				allFail = false
			}
		}
		for i := 1; i < len(handlers); i++ {
			if got := res[i][s]; got != ref && !(failed(got) && failed(ref)) {
				fmt.Printf("DIFFERS %s: %s %s, %s %s\n", s, handlers[0], ref, handlers[i], got)
				if ref == "passed" {
					bad++
				}
			}
		}
		if allFail {
			if r, ok := kf[s]; ok {
				fmt.Printf("known   %s: %s\n", s, r)
			} else {
				fmt.Printf("UNKNOWN %s: fails for all, not in known-failures\n", s)
				bad++
			}
		}
	}
	for s := range kf {
		if !specs[s] {
			fmt.Printf("stale?  known-failures names a spec that did not run: %s\n", s)
		}
	}
	fmt.Printf("%-16s %7s %7s %7s %7s\n", "handler", "passed", "failed", "skipped", "total")
	for i, h := range handlers {
		var p, f, sk int
		for _, st := range res[i] {
			switch {
			case st == "passed":
				p++
			case st == "skipped" || st == "pending":
				sk++
			default:
				f++
			}
		}
		fmt.Printf("%-16s %7d %7d %7d %7d\n", h, p, f, sk, len(res[i]))
	}
	if bad > 0 {
		fmt.Printf("critest: %d spec(s) regress from %s or fail unexplained\n", bad, handlers[0])
		os.Exit(1)
	}
}
