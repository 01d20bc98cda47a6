package criu

import (
	"errors"
	"fmt"
	"os"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox/criu/rpc"
)

// MinVersion is the oldest CRIU the runtime uses: 3.15 is the first
// with everything it asks for (the cgroup v2 freezer, 3.14; an external
// pid namespace, 3.15; cr_errmsg in responses, 3.15).
const MinVersion = 31500

// Version asks criu its version, as major*10000 + minor*100 + sublevel.
func Version(path string) (int, error) {
	t := rpc.CriuReqType_VERSION
	r, err := (&Swrk{Path: path}).Run(&rpc.CriuReq{Type: &t})
	if err != nil {
		return 0, err
	}
	v := r.GetVersion()
	if v == nil {
		return 0, errors.New("criu: no version in its answer")
	}
	return int(v.GetMajorNumber())*10000 + int(v.GetMinorNumber())*100 + int(v.GetSublevel()), nil
}

// FormatVersion writes a Version as CRIU does: 3.17.1.
func FormatVersion(v int) string {
	s := fmt.Sprintf("%d.%d", v/10000, v/100%100)
	if v%100 != 0 {
		s += fmt.Sprintf(".%d", v%100)
	}
	return s
}

// Check runs CRIU's own check of the kernel (`criu check`, through the
// RPC): nil, or an error with CRIU's reason. Its log goes to a
// temporary directory, removed after.
func Check(path string) error {
	dir, err := os.MkdirTemp("", "criu-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	t := rpc.CriuReqType_CHECK
	// CRIU opens the directories through /proc/<our pid>/fd: the fd
	// numbers are ours.
	s := &Swrk{Path: path, LogDir: dir, LogFile: "check.log"}
	_, err = s.Run(&rpc.CriuReq{Type: &t, Opts: &rpc.CriuOpts{
		ImagesDirFd: rpc.Int32(int32(d.Fd())),
		WorkDirFd:   rpc.Int32(int32(d.Fd())),
		LogFile:     rpc.String("check.log"),
		LogLevel:    rpc.Int32(2),
	}})
	var e *Error
	if errors.As(err, &e) {
		e.Log = "criu check" // the log is removed with dir
	}
	return err
}

// Features asks which of want's features this criu and kernel have.
func Features(path string, want *rpc.CriuFeatures) (*rpc.CriuFeatures, error) {
	t := rpc.CriuReqType_FEATURE_CHECK
	r, err := (&Swrk{Path: path}).Run(&rpc.CriuReq{Type: &t, Features: want})
	if err != nil {
		return nil, err
	}
	return r.GetFeatures(), nil
}
