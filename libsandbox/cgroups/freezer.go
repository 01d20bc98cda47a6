package cgroups

// Freezing: v2 cgroup.freeze (waited for on cgroup.events) and the v1
// freezer controller.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func (m *fs2) Freeze() error {
	if err := m.fs.write(m.at(), "cgroup.freeze", "1", "freeze"); err != nil {
		return err
	}
	return waitEvent(m.at(), "frozen", "1")
}

func (m *fs2) Thaw() error {
	if err := m.fs.write(m.at(), "cgroup.freeze", "0", "thaw"); err != nil {
		return err
	}
	return waitEvent(m.at(), "frozen", "0")
}

func (m *fs2) Frozen() bool {
	return events(m.at())["frozen"] == "1"
}

func events(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			out[k] = v
		}
	}
	return out
}

// waitEvent waits until cgroup.events says key is want. The kernel
// notifies changes of cgroup.events with inotify IN_MODIFY, so this
// sleeps on inotify instead of polling the file.
func waitEvent(dir, key, want string) error {
	if events(dir)[key] == want {
		return nil
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(dir, "cgroup.events"), unix.IN_MODIFY); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 4096)
	for {
		if events(dir)[key] == want {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("cgroup %s: timed out waiting for %s %s", shown(dir), key, want)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return err
		}
		unix.Read(fd, buf)
	}
}

func (m *fs1) Freeze() error {
	d, err := m.need("freezer", "pause")
	if err != nil {
		return err
	}
	if err := m.fs.write(d, "freezer.state", "FROZEN", "pause"); err != nil {
		return err
	}
	// FREEZING turns FROZEN once every task stopped; v1 has no event to
	// wait on, so check a few times, as runc does.
	for i := 0; i < 1000; i++ {
		if s, _ := read(d, "freezer.state"); s == "FROZEN" {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	m.fs.write(d, "freezer.state", "THAWED", "pause")
	return errors.New("pause: the freezer did not reach FROZEN")
}

func (m *fs1) Thaw() error {
	d, err := m.need("freezer", "resume")
	if err != nil {
		return err
	}
	return m.fs.write(d, "freezer.state", "THAWED", "resume")
}

func (m *fs1) Frozen() bool {
	d, ok := m.dir("freezer")
	if !ok {
		return false
	}
	s, _ := read(d, "freezer.state")
	return V1Frozen(s)
}

// V1Frozen reports whether a v1 freezer.state value stops the cgroup's
// tasks: FREEZING is on its way to FROZEN (some tasks already stopped),
// and a cgroup below a frozen one reads FROZEN too.
func V1Frozen(state string) bool {
	return state == "FROZEN" || state == "FREEZING"
}

// freezerMount returns the v1 hierarchy with the freezer, if any.
func (h *Host) freezerMount() (Mount, bool) {
	for _, m := range h.V1 {
		if m.has("freezer") {
			return m, true
		}
	}
	return Mount{}, false
}

// UnfreezeOurs moves pid, a process of ours that a container's v1
// freezer may hold (exec's first child, in the container's cgroups from
// before it joins anything), into our own cgroup of the freezer
// hierarchy, which is not frozen since we run: the move thaws it
// (legacy_freezer.c, freezer_attach thaws a task whose new cgroup is not
// freezing), so that a SIGKILL sent to it takes effect. A frozen v1 task
// ignores even SIGKILL until thawed. Only for a process about to die:
// it leaves the container's freezer cgroup, not the others. Nothing to
// do on a host without a v1 freezer.
func UnfreezeOurs(pid int) error {
	return UnfreezeOursIf(pid, nil)
}

// UnfreezeOursIf is UnfreezeOurs for a pid that is not our child, whose
// identity still says ok (a pidfd not readable: it has not exited, so
// the pid is its own), asked right before the write, once the file is
// open: a pid is reused only once its process is reaped.
func UnfreezeOursIf(pid int, ok func() bool) error {
	h, err := Probe()
	if err != nil {
		return fmt.Errorf("unfreeze %d: %w", pid, err)
	}
	m, hasFreezer := h.freezerMount()
	if !hasFreezer {
		return nil
	}
	own, found := h.Own[m.Key()]
	if !found {
		return fmt.Errorf("unfreeze %d: our cgroup in %s: not in /proc/self/cgroup", pid, m.Point)
	}
	procs := filepath.Join(h.v1Dir(m, filepath.Clean("/"+own)), "cgroup.procs")
	f, err := os.OpenFile(procs, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("unfreeze %d: %w", pid, err)
	}
	defer f.Close()
	if ok != nil && !ok() {
		return nil
	}
	if _, err := f.WriteString(strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("unfreeze %d: write %s: %w", pid, procs, err)
	}
	return nil
}

// FrozenFreezer returns the directory of a frozen or freezing cgroup of
// the v1 freezer hierarchy that holds a thread of pid, "" if none does
// (and on a host without a v1 freezer). Every thread is looked at: v1
// moves single threads too (a tid written to `tasks`), and one frozen
// thread keeps a process from dying (the others wait for it in exit or
// in execve's de_thread).
func FrozenFreezer(pid int) string {
	h, err := Probe()
	if err != nil {
		return ""
	}
	m, ok := h.freezerMount()
	if !ok {
		return ""
	}
	for _, t := range threadLooks(pid) {
		if p, ok := t.cg[m.Key()]; ok {
			d := h.v1Dir(m, filepath.Clean("/"+p))
			if s, _ := read(d, "freezer.state"); V1Frozen(s) {
				return d
			}
		}
	}
	return ""
}

// HeldFrozen returns a frozen cgroup that holds a thread of pid, a
// process of ours on its way into a container (create's init, start's
// before its exec), unless that is a pause of the container: "" when
// nothing frozen holds it, or when what is frozen is own (the
// container's cgroup; nil without one) or an ancestor of it, or own is
// frozen by now (a pause of it or of a parent, a pod's: the caller's
// doing, which a wait waits out).
//
// What it defends against: another container that shares pid's pid
// namespace, with a writable cgroupfs, moving pid, or single threads of
// it, into a frozen cgroup of its own, where a wait for pid lasted for
// ever. v1 lets root move any task it sees into a cgroup it can write,
// and so does cgroup2 when mounted without nsdelegate (a hybrid host's
// unified hierarchy): root passes the common-ancestor check
// (cgroup_procs_write_permission). Reviews did both, and moved threads
// alone. So both freezers are looked at, and every thread. A path read
// from /proc names a directory that the container may rename or remove
// (a task moved between two frozen cgroups stays frozen) before we look
// at it: a live thread's cgroup that is gone is read again, and gone
// each time, it counts as held.
func HeldFrozen(pid int, own *State) string {
	h, err := Probe()
	if err != nil {
		return ""
	}
	var gone string
	for try := 0; try < heldTries; try++ {
		d, g := h.frozenThread(pid)
		if d != "" {
			if own != nil && (ownOrAbove(own, d) || ownFrozen(own)) {
				return ""
			}
			return d
		}
		if g == "" {
			return ""
		}
		gone = g
	}
	return gone + " (renamed or removed each time it was looked at)"
}

// heldTries: how many times HeldFrozen reads a thread's cgroup that is
// gone by the time it looks.
const heldTries = 3

// frozenThread returns the frozen cgroup that holds a thread of pid, or
// else the cgroup of a thread that no longer exists when looked at.
func (h *Host) frozenThread(pid int) (frozen, gone string) {
	return h.frozenIn(threadLooks(pid))
}

// threadLook is what HeldFrozen reads of one thread: its cgroups
// (/proc/PID/task/TID/cgroup) and whether it sleeps in the v1 freezer
// (its wchan is __refrigerator: a frozen task's, whatever its cgroup is
// called by the time we look; a review had the container keep a thawed
// decoy at the name /proc gave, renaming the frozen cgroup away).
type threadLook struct {
	cg           map[string]string
	refrigerated bool
}

// frozenIn is frozenThread over what was read of each thread.
func (h *Host) frozenIn(threads []threadLook) (frozen, gone string) {
	m, hasFreezer := h.freezerMount()
	for _, t := range threads {
		cg := t.cg
		if p, ok := cg[m.Key()]; hasFreezer && ok && resolvable(p, m.Root) {
			d := h.v1Dir(m, filepath.Clean("/"+p))
			// A v1 cgroup below a frozen one reads FROZEN itself.
			st, err := read(d, "freezer.state")
			switch {
			case V1Frozen(st) || t.refrigerated:
				return d, ""
			case err != nil && !dirExists(d):
				gone = d
			}
		} else if t.refrigerated && hasFreezer {
			return m.Point + " (a cgroup of it)", ""
		}
		if p, ok := cg[""]; h.V2 != "" && ok && resolvable(p, "/") {
			d, g := v2FrozenUp(h.v2Dir(filepath.Clean("/"+p)), h.V2)
			if d != "" {
				return d, ""
			}
			if g {
				gone = h.v2Dir(filepath.Clean("/" + p))
			}
		}
	}
	return "", gone
}

// v2FrozenUp walks from d up to the hierarchy's root (a v2 cgroup is
// frozen when it or an ancestor asks): the first with cgroup.freeze 1,
// or gone if d or an ancestor does not exist.
func v2FrozenUp(d, root string) (frozen string, gone bool) {
	for {
		v, err := read(d, "cgroup.freeze")
		if err != nil {
			// The root has no cgroup.freeze; a directory gone has none.
			return "", !dirExists(d)
		}
		if v == "1" {
			return d, false
		}
		if d == root || d == "/" || !strings.HasPrefix(d, root+"/") {
			return "", false
		}
		d = filepath.Dir(d)
	}
}

func dirExists(d string) bool {
	_, err := os.Stat(d)
	return err == nil
}

// ownOrAbove reports whether d is the container's cgroup, or an ancestor
// of it, in the v1 freezer hierarchy or on v2.
func ownOrAbove(st *State, d string) bool {
	below := func(own string) bool {
		return own != "" && (own == d || strings.HasPrefix(own, d+"/"))
	}
	if key, ok := st.V1Controllers["freezer"]; ok && below(st.V1[key]) {
		return true
	}
	return below(st.V2)
}

// ownFrozen reports whether the container's cgroup is frozen, in the v1
// freezer or on v2, by itself or an ancestor.
func ownFrozen(st *State) bool {
	if key, ok := st.V1Controllers["freezer"]; ok && st.V1[key] != "" && frozenAt(st.V1[key]) != "" {
		return true
	}
	return st.V2 != "" && frozenAt(st.V2) != ""
}

// resolvable reports whether a path of /proc/PID/cgroup names a
// directory we can reach under a mount of the hierarchy's root: not a
// "/.." path (a runtime inside a cgroup namespace, the task outside it),
// nor one outside the mount's root (a bind mount of a sub-tree), which
// would be looked up in the wrong place and read as gone.
func resolvable(p, root string) bool {
	if p == "/.." || strings.HasPrefix(p, "/../") {
		return false
	}
	return root == "" || root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// threadLooks reads each thread of pid (threadLook); pid alone if its
// task directory cannot be read.
func threadLooks(pid int) []threadLook {
	base := "/proc/" + strconv.Itoa(pid)
	ents, err := os.ReadDir(base + "/task")
	if err != nil {
		if cg, err := readProcCgroup(base + "/cgroup"); err == nil {
			return []threadLook{{cg: cg, refrigerated: refrigerated(base)}}
		}
		return nil
	}
	var out []threadLook
	for _, e := range ents {
		dir := base + "/task/" + e.Name()
		if cg, err := readProcCgroup(dir + "/cgroup"); err == nil {
			out = append(out, threadLook{cg: cg, refrigerated: refrigerated(dir)})
		}
	}
	return out
}

// refrigerated reports whether the task of the /proc directory dir sleeps
// in the v1 freezer (wchan, which root reads).
func refrigerated(dir string) bool {
	b, err := os.ReadFile(dir + "/wchan")
	return err == nil && string(b) == "__refrigerator"
}
