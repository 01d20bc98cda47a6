package report

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// docs/report.md documents every field of the JSON, and every finding
// ID, and nothing else: a field added, renamed or removed without the
// document fails here.

const schemaDoc = "../../docs/report.md"

// jsonPaths lists the JSON fields of t: "a", "a.b", "list[].c".
func jsonPaths(t reflect.Type, prefix string, out *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := prefix + name
		*out = append(*out, p)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			jsonPaths(ft, p+".", out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			jsonPaths(ft.Elem(), p+"[].", out)
		}
	}
}

// docRows returns the first column of the table rows under heading.
func docRows(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(schemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("%s: no section %q", schemaDoc, heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	var out []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSchemaDocumented(t *testing.T) {
	var fields []string
	jsonPaths(reflect.TypeOf(Report{}), "", &fields)
	documented := docRows(t, "JSON")
	if !reflect.DeepEqual(documented, fields) {
		t.Errorf("%s documents the fields (in order)\n%s\nthe JSON has\n%s", schemaDoc, strings.Join(documented, "\n"), strings.Join(fields, "\n"))
	}
	ids := append([]string(nil), FindingIDs...)
	docIDs := docRows(t, "Findings")
	sort.Strings(ids)
	sort.Strings(docIDs)
	if !reflect.DeepEqual(docIDs, ids) {
		t.Errorf("%s documents the finding IDs %q, the code has %q", schemaDoc, docIDs, ids)
	}
}

// The JSON of a report has exactly the documented fields, lists as []
// (never null) and the nullable ones only where the document says
// "null": a report read from the fixture, encoded and decoded.
func TestSchemaJSON(t *testing.T) {
	f := isolated()
	f.cgroup["memory.max"] = "max\n"
	r, err := Gather(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	nullable := map[string]bool{"resources.memory.limit": true, "resources.pids.limit": true, "resources.cpu.quota": true}
	documented := map[string]bool{}
	for _, f := range docRows(t, "JSON") {
		documented[f] = true
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := prefix + k
				if !documented[p] {
					t.Errorf("field %s is not documented", p)
				}
				if x == nil && !nullable[p] {
					t.Errorf("field %s is null", p)
				}
				walk(p+".", x)
			}
		case []any:
			for _, x := range v {
				if _, ok := x.(map[string]any); ok {
					walk(strings.TrimSuffix(prefix, ".")+"[].", x)
				}
			}
		}
	}
	walk("", doc)
	for _, list := range []string{"errors", "namespaces", "findings"} {
		if _, ok := doc[list].([]any); !ok {
			t.Errorf("%s: got %v, want a list", list, doc[list])
		}
	}
}
