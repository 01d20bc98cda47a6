// Package statefile is the type of a container's state.json and its
// encoder and decoder, which internal/specjson's gen.go generates: every
// verb that finds a container reads state.json, and encoding/json's first
// decode of a type builds, by reflection, the tables of every type it
// reaches (~0.25 ms of each verb's run).
// libsandbox works on it as its type persisted.
package statefile

import (
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/sandbox-runtime/sandbox-runtime/internal/specjson"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/cgroups"
	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/intelrdt"
)

// State is state.json. It is written twice by create: a first time
// before anything is made on the host (Creating, with the creator's
// identity), so that a create killed half-way can be found and cleaned up
// by delete --force, and a last time when init is ready.
type State struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	OCIVersion  string            `json:"ociVersion"`

	// InitPid and InitStart identify init (start time from
	// /proc/PID/stat), so a recycled pid is never taken for it.
	InitPid   int    `json:"initPid,omitempty"`
	InitStart uint64 `json:"initStart,omitempty"`
	// InitExe is init's executable while it waits for start (the sealed
	// runtime binary): start sees init's execve in it changing.
	InitExe *ExeID `json:"initExe,omitempty"`
	// While Creating: the create process, to tell a create in progress
	// from one that died.
	CreatorPid   int    `json:"creatorPid,omitempty"`
	CreatorStart uint64 `json:"creatorStart,omitempty"`

	// Hooks are the config's hooks: start runs the poststart ones,
	// delete the poststop ones. The whole config, which only exec and
	// update need, is in the state directory's config.json: state.json
	// stays small, and the verbs that read it on every call (state,
	// start, kill) stay cheap.
	Hooks *specs.Hooks `json:"hooks,omitempty"`
	// Cgroup locates the container's cgroup.
	Cgroup *cgroups.State `json:"cgroup,omitempty"`
	// IntelRdt locates the container's resctrl group (linux.intelRdt).
	IntelRdt *intelrdt.State `json:"intelRdt,omitempty"`
}

// ExeID identifies an executable file: the device and inode of
// /proc/PID/exe.
type ExeID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// Known: e names a file (the zero ExeID is none).
func (e ExeID) Known() bool { return e != ExeID{} }

// Marshal encodes s as encoding/json.Marshal would, without its
// reflection (codec_gen.go, which internal/specjson's gen.go writes).
func Marshal(s *State) []byte {
	w := specjson.NewWriter(1024)
	encStatefileState(w, s)
	return w.Bytes()
}

// Unmarshal decodes state.json as encoding/json.Unmarshal would: every
// verb that finds a container reads it.
func Unmarshal(data []byte, s *State) error {
	return specjson.Decode(data, s, decStatefileState)
}
