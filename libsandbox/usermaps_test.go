package libsandbox

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSubIDs(t *testing.T) {
	const file = `# comment
alice:100000:65536
bob:165536:65536
1001:300000:10
alice:bad:1
alice:400000:0

alice:500000:5
`
	for _, tc := range []struct {
		name string
		id   int
		want []idRange
	}{
		{"alice", 1000, []idRange{{100000, 65536}, {500000, 5}}},
		{"carol", 1001, []idRange{{300000, 10}}}, // by uid
		{"dave", 1002, nil},
	} {
		got, err := parseSubIDs(strings.NewReader(file), tc.name, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if !equalRanges(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseProcIDMap(t *testing.T) {
	got, err := parseProcIDMap(strings.NewReader("         0       1001          1\n         1     100000      65536\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []idRange{{0, 1}, {1, 65536}}; !equalRanges(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, err = parseProcIDMap(strings.NewReader("0 0 4294967295\n"))
	if err != nil || !covered(idRange{4294967000, 295}, got) {
		t.Errorf("the host's map covers every id: got %v, %v", got, err)
	}
}

func TestCovered(t *testing.T) {
	rs := []idRange{{1001, 1}, {100000, 65536}, {165536, 10}}
	for _, tc := range []struct {
		r    idRange
		want bool
	}{
		{idRange{1001, 1}, true},
		{idRange{1000, 2}, false},
		{idRange{100000, 65546}, true}, // across two touching ranges
		{idRange{100000, 65547}, false},
		{idRange{200000, 1}, false},
	} {
		if got := covered(tc.r, rs); got != tc.want {
			t.Errorf("covered(%v) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestCheckIDMappings(t *testing.T) {
	m := func(c, h, n uint32) specs.LinuxIDMapping {
		return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: n}
	}
	for _, tc := range []struct {
		maps []specs.LinuxIDMapping
		want string // "" for no error
	}{
		{[]specs.LinuxIDMapping{m(0, 1001, 1), m(1, 100000, 65536)}, ""},
		{[]specs.LinuxIDMapping{m(0, 1001, 0)}, "linux.uidMappings[0].size: must not be 0"},
		{[]specs.LinuxIDMapping{m(0, 100000, 10), m(5, 200000, 10)}, "linux.uidMappings[1]: container ids 5-14 overlap linux.uidMappings[0]'s (0-9)"},
		{[]specs.LinuxIDMapping{m(0, 100000, 10), m(10, 100009, 10)}, "linux.uidMappings[1]: host ids 100009-100018 overlap linux.uidMappings[0]'s (100000-100009)"},
		{[]specs.LinuxIDMapping{m(4294967290, 0, 10)}, "linux.uidMappings[0]: the range of 10 ids runs past the last id"},
	} {
		err := checkIDMappings("linux.uidMappings", tc.maps)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: got %v, want no error", tc.maps, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want %q", tc.maps, err, tc.want)
		}
	}
}

func TestPlanIDMaps(t *testing.T) {
	m := func(c, h, n uint32) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: c, HostID: h, Size: n}}
	}
	multi := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	user := func() *mapPrivilege {
		return &mapPrivilege{
			uid: 1001, gid: 1001,
			nsUIDs: []idRange{{0, 1 << 32}}, nsGIDs: []idRange{{0, 1 << 32}},
			subIDs:   func(string) ([]idRange, error) { return []idRange{{100000, 65536}}, nil },
			lookPath: func(name string) (string, error) { return "/usr/bin/" + name, nil },
		}
	}
	// Root of rootless podman's namespace: 0 is the user, 1-65536 the
	// subordinate ids, and it has CAP_SETUID and CAP_SETGID there.
	podman := &mapPrivilege{
		capSetuid: true, capSetgid: true,
		nsUIDs: []idRange{{0, 1}, {1, 65536}}, nsGIDs: []idRange{{0, 1}, {1, 65536}},
	}
	noHelper := user()
	noHelper.lookPath = func(string) (string, error) {
		return "", errors.New(`exec: "newuidmap": executable file not found in $PATH`)
	}
	for _, tc := range []struct {
		name       string
		uids, gids []specs.LinuxIDMapping
		pv         *mapPrivilege
		want       mapPlan
		err        string
	}{
		{"root", multi, multi, &mapPrivilege{capSetuid: true, capSetgid: true, nsUIDs: []idRange{{0, 1 << 32}}, nsGIDs: []idRange{{0, 1 << 32}}}, mapPlan{}, ""},
		{"own ids, no helper", m(0, 1001, 1), m(0, 1001, 1), user(), mapPlan{denySetgroups: true}, ""},
		{"subordinate ids, helpers", multi, multi, user(), mapPlan{uidHelper: "/usr/bin/newuidmap", gidHelper: "/usr/bin/newgidmap"}, ""},
		{"own uid, subordinate gids", m(0, 1001, 1), multi, user(), mapPlan{gidHelper: "/usr/bin/newgidmap"}, ""},
		{"another's uid", m(0, 1002, 1), m(0, 1001, 1), user(), mapPlan{}, "linux.uidMappings[0]: host uids 1002-1002 are not yours to map: the runtime runs without root"},
		{"beyond subuid", m(0, 100000, 65537), m(0, 1001, 1), user(), mapPlan{}, "linux.uidMappings[0]: host uids 100000-165536 are not yours"},
		{"another's gid", m(0, 1001, 1), m(0, 0, 1), user(), mapPlan{}, "linux.gidMappings[0]: host gids 0-0 are not yours"},
		{"no newuidmap", multi, m(0, 1001, 1), noHelper, mapPlan{}, "linux.uidMappings: mapping more than your own uid needs newuidmap"},
		{"podman's namespace", m(0, 0, 65537), m(0, 0, 65537), podman, mapPlan{}, ""},
		{"beyond podman's namespace", m(0, 0, 65538), m(0, 0, 1), podman, mapPlan{}, "linux.uidMappings[0]: host uids 0-65537 are not mapped in the runtime's user namespace"},
	} {
		got, err := planIDMaps(tc.uids, tc.gids, tc.pv)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, *got, tc.want)
		}
	}
}

func equalRanges(a, b []idRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
