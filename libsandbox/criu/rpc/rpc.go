// Package rpc is the part of CRIU's RPC protocol (criu/images/rpc.proto,
// proto2) that checkpoint and restore speak to `criu swrk`: the
// messages, under go-criu's names (github.com/checkpoint-restore/
// go-criu/v7/rpc), and their protobuf wire encoding.
//
// Why not go-criu's rpc package itself: it is generated for
// google.golang.org/protobuf, whose package initialisers run at every
// start of the runtime binary, whatever the verb, and in init and
// exec's re-executed stage too: they register rpc.proto's descriptors
// and hash eight samples of the executable (protobuf's internal/detrand
// opens os.Executable(): init opened the runtime binary from inside the
// container's namespaces). Measured on this project's binary
// (GODEBUG=inittrace=1, means of 3): 0.30 ms of a ~2.8 ms start, and
// 0.6 MB of the binary (go tool nm), whose pages are the bulk of every
// runtime process's RSS. The wire format of the few messages used here
// is small: rpc_test.go checks every field against go-criu's types and
// google.golang.org/protobuf's Marshal and Unmarshal, which only the
// tests link.
package rpc

import (
	"errors"
	"fmt"
	"strconv"
)

// CriuReqType is criu_req_type.
type CriuReqType int32

const (
	CriuReqType_EMPTY            CriuReqType = 0
	CriuReqType_DUMP             CriuReqType = 1
	CriuReqType_RESTORE          CriuReqType = 2
	CriuReqType_CHECK            CriuReqType = 3
	CriuReqType_PRE_DUMP         CriuReqType = 4
	CriuReqType_PAGE_SERVER      CriuReqType = 5
	CriuReqType_NOTIFY           CriuReqType = 6
	CriuReqType_CPUINFO_DUMP     CriuReqType = 7
	CriuReqType_CPUINFO_CHECK    CriuReqType = 8
	CriuReqType_FEATURE_CHECK    CriuReqType = 9
	CriuReqType_VERSION          CriuReqType = 10
	CriuReqType_WAIT_PID         CriuReqType = 11
	CriuReqType_PAGE_SERVER_CHLD CriuReqType = 12
	CriuReqType_SINGLE_PRE_DUMP  CriuReqType = 13
)

var reqTypeNames = map[CriuReqType]string{
	0: "EMPTY", 1: "DUMP", 2: "RESTORE", 3: "CHECK", 4: "PRE_DUMP", 5: "PAGE_SERVER",
	6: "NOTIFY", 7: "CPUINFO_DUMP", 8: "CPUINFO_CHECK", 9: "FEATURE_CHECK", 10: "VERSION",
	11: "WAIT_PID", 12: "PAGE_SERVER_CHLD", 13: "SINGLE_PRE_DUMP",
}

// String is the value's name in rpc.proto, or its number.
func (t CriuReqType) String() string {
	if s, ok := reqTypeNames[t]; ok {
		return s
	}
	return strconv.Itoa(int(t))
}

// CriuCgMode is criu_cg_mode.
type CriuCgMode int32

const (
	CriuCgMode_IGNORE  CriuCgMode = 0
	CriuCgMode_CG_NONE CriuCgMode = 1
	CriuCgMode_PROPS   CriuCgMode = 2
	CriuCgMode_SOFT    CriuCgMode = 3
	CriuCgMode_FULL    CriuCgMode = 4
	CriuCgMode_STRICT  CriuCgMode = 5
	CriuCgMode_DEFAULT CriuCgMode = 6
)

// CriuReq is criu_req.
type CriuReq struct {
	Type          *CriuReqType  // 1
	Opts          *CriuOpts     // 2
	NotifySuccess *bool         // 3
	KeepOpen      *bool         // 4
	Features      *CriuFeatures // 5
	Pid           *uint32       // 6
}

// CriuOpts is criu_opts, the fields this runtime sets.
type CriuOpts struct {
	ImagesDirFd       *int32              // 1
	Pid               *int32              // 2
	LeaveRunning      *bool               // 3
	ExtUnixSk         *bool               // 4
	TcpEstablished    *bool               // 5
	EvasiveDevices    *bool               // 6
	ShellJob          *bool               // 7
	FileLocks         *bool               // 8
	LogLevel          *int32              // 9
	LogFile           *string             // 10
	Ps                *CriuPageServerInfo // 11
	NotifyScripts     *bool               // 12
	Root              *string             // 13
	ParentImg         *string             // 14
	TrackMem          *bool               // 15
	AutoDedup         *bool               // 16
	WorkDirFd         *int32              // 17
	LinkRemap         *bool               // 18
	ExtMnt            []*ExtMountMap      // 23
	ManageCgroups     *bool               // 24
	CgRoot            []*CgroupRoot       // 25
	RstSibling        *bool               // 26
	InheritFd         []*InheritFd        // 27
	ManageCgroupsMode *CriuCgMode         // 34
	External          []string            // 37
	EmptyNs           *uint32             // 38
	JoinNs            []*JoinNamespace    // 39
	FreezeCgroup      *string             // 44
	TcpSkipInFlight   *bool               // 46
	LazyPages         *bool               // 48
	StatusFd          *int32              // 49
	OrphanPtsMaster   *bool               // 50
	ConfigFile        *string             // 51
	LsmProfile        *string             // 53
	CgroupYard        *string             // 60
	LsmMountContext   *string             // 63
}

// CriuPageServerInfo is criu_page_server_info.
type CriuPageServerInfo struct {
	Address *string // 1
	Port    *int32  // 2
	Pid     *int32  // 3
	Fd      *int32  // 4
}

// ExtMountMap is ext_mount_map.
type ExtMountMap struct {
	Key *string // 1
	Val *string // 2
}

// JoinNamespace is join_namespace.
type JoinNamespace struct {
	Ns       *string // 1
	NsFile   *string // 2
	ExtraOpt *string // 3
}

// InheritFd is inherit_fd.
type InheritFd struct {
	Key *string // 1
	Fd  *int32  // 2
}

// CgroupRoot is cgroup_root.
type CgroupRoot struct {
	Ctrl *string // 1
	Path *string // 2
}

// CriuFeatures is criu_features.
type CriuFeatures struct {
	MemTrack   *bool // 1
	LazyPages  *bool // 2
	PidfdStore *bool // 3
}

// CriuResp is criu_resp.
type CriuResp struct {
	Type     *CriuReqType        // 1
	Success  *bool               // 2
	Dump     *CriuDumpResp       // 3
	Restore  *CriuRestoreResp    // 4
	Notify   *CriuNotify         // 5
	Ps       *CriuPageServerInfo // 6
	CrErrno  *int32              // 7
	Features *CriuFeatures       // 8
	CrErrmsg *string             // 9
	Version  *CriuVersion        // 10
	Status   *int32              // 11
}

// CriuDumpResp is criu_dump_resp.
type CriuDumpResp struct {
	Restored *bool // 1
}

// CriuRestoreResp is criu_restore_resp.
type CriuRestoreResp struct {
	Pid *int32 // 1
}

// CriuNotify is criu_notify.
type CriuNotify struct {
	Script *string // 1
	Pid    *int32  // 2
}

// CriuVersion is criu_version.
type CriuVersion struct {
	MajorNumber *int32  // 1
	MinorNumber *int32  // 2
	Gitid       *string // 3
	Sublevel    *int32  // 4
	Extra       *int32  // 5
	Name        *string // 6
}

// Bool, Int32, Uint32 and String return a pointer to their argument, for
// the optional fields (as google.golang.org/protobuf/proto's do).
func Bool(v bool) *bool       { return &v }
func Int32(v int32) *int32    { return &v }
func Uint32(v uint32) *uint32 { return &v }
func String(v string) *string { return &v }

// The getters used on what CRIU answers: the zero value when the field
// is absent, as protobuf's generated getters give.

func (r *CriuReq) GetType() CriuReqType {
	if r == nil || r.Type == nil {
		return 0
	}
	return *r.Type
}

func (r *CriuResp) GetType() CriuReqType {
	if r == nil || r.Type == nil {
		return 0
	}
	return *r.Type
}

func (r *CriuResp) GetSuccess() bool { return r != nil && r.Success != nil && *r.Success }

func (r *CriuResp) GetCrErrno() int32 {
	if r == nil || r.CrErrno == nil {
		return 0
	}
	return *r.CrErrno
}

func (r *CriuResp) GetCrErrmsg() string {
	if r == nil || r.CrErrmsg == nil {
		return ""
	}
	return *r.CrErrmsg
}

func (r *CriuResp) GetNotify() *CriuNotify {
	if r == nil {
		return nil
	}
	return r.Notify
}

func (r *CriuResp) GetFeatures() *CriuFeatures {
	if r == nil {
		return nil
	}
	return r.Features
}

func (r *CriuResp) GetVersion() *CriuVersion {
	if r == nil {
		return nil
	}
	return r.Version
}

func (r *CriuResp) GetRestore() *CriuRestoreResp {
	if r == nil {
		return nil
	}
	return r.Restore
}

func (n *CriuNotify) GetScript() string {
	if n == nil || n.Script == nil {
		return ""
	}
	return *n.Script
}

func (n *CriuNotify) GetPid() int32 {
	if n == nil || n.Pid == nil {
		return 0
	}
	return *n.Pid
}

func (r *CriuRestoreResp) GetPid() int32 {
	if r == nil || r.Pid == nil {
		return 0
	}
	return *r.Pid
}

func (f *CriuFeatures) GetMemTrack() bool  { return f != nil && f.MemTrack != nil && *f.MemTrack }
func (f *CriuFeatures) GetLazyPages() bool { return f != nil && f.LazyPages != nil && *f.LazyPages }

func (v *CriuVersion) GetMajorNumber() int32 { return get32(v, func() *int32 { return v.MajorNumber }) }
func (v *CriuVersion) GetMinorNumber() int32 { return get32(v, func() *int32 { return v.MinorNumber }) }
func (v *CriuVersion) GetSublevel() int32    { return get32(v, func() *int32 { return v.Sublevel }) }

func get32(v *CriuVersion, f func() *int32) int32 {
	if v == nil {
		return 0
	}
	if p := f(); p != nil {
		return *p
	}
	return 0
}

// Marshal encodes a request, its fields in number order as
// google.golang.org/protobuf writes them.
func (r *CriuReq) Marshal() []byte {
	var e enc
	e.enum(1, (*int32)(r.Type))
	e.msg(2, r.Opts != nil, func(e *enc) { r.Opts.encode(e) })
	e.bool(3, r.NotifySuccess)
	e.bool(4, r.KeepOpen)
	e.msg(5, r.Features != nil, func(e *enc) { r.Features.encode(e) })
	e.uint32(6, r.Pid)
	return e.b
}

func (o *CriuOpts) encode(e *enc) {
	e.int32(1, o.ImagesDirFd)
	e.int32(2, o.Pid)
	e.bool(3, o.LeaveRunning)
	e.bool(4, o.ExtUnixSk)
	e.bool(5, o.TcpEstablished)
	e.bool(6, o.EvasiveDevices)
	e.bool(7, o.ShellJob)
	e.bool(8, o.FileLocks)
	e.int32(9, o.LogLevel)
	e.string(10, o.LogFile)
	e.msg(11, o.Ps != nil, func(e *enc) { o.Ps.encode(e) })
	e.bool(12, o.NotifyScripts)
	e.string(13, o.Root)
	e.string(14, o.ParentImg)
	e.bool(15, o.TrackMem)
	e.bool(16, o.AutoDedup)
	e.int32(17, o.WorkDirFd)
	e.bool(18, o.LinkRemap)
	for _, m := range o.ExtMnt {
		e.msg(23, true, func(e *enc) { e.string(1, m.Key); e.string(2, m.Val) })
	}
	e.bool(24, o.ManageCgroups)
	for _, m := range o.CgRoot {
		e.msg(25, true, func(e *enc) { e.string(1, m.Ctrl); e.string(2, m.Path) })
	}
	e.bool(26, o.RstSibling)
	for _, m := range o.InheritFd {
		e.msg(27, true, func(e *enc) { e.string(1, m.Key); e.int32(2, m.Fd) })
	}
	e.enum(34, (*int32)(o.ManageCgroupsMode))
	for i := range o.External {
		e.string(37, &o.External[i])
	}
	e.uint32(38, o.EmptyNs)
	for _, m := range o.JoinNs {
		e.msg(39, true, func(e *enc) { e.string(1, m.Ns); e.string(2, m.NsFile); e.string(3, m.ExtraOpt) })
	}
	e.string(44, o.FreezeCgroup)
	e.bool(46, o.TcpSkipInFlight)
	e.bool(48, o.LazyPages)
	e.int32(49, o.StatusFd)
	e.bool(50, o.OrphanPtsMaster)
	e.string(51, o.ConfigFile)
	e.string(53, o.LsmProfile)
	e.string(60, o.CgroupYard)
	e.string(63, o.LsmMountContext)
}

func (p *CriuPageServerInfo) encode(e *enc) {
	e.string(1, p.Address)
	e.int32(2, p.Port)
	e.int32(3, p.Pid)
	e.int32(4, p.Fd)
}

func (f *CriuFeatures) encode(e *enc) {
	e.bool(1, f.MemTrack)
	e.bool(2, f.LazyPages)
	e.bool(3, f.PidfdStore)
}

// enc is protobuf's wire format, written: a field's key (number << 3 |
// wire type) then its value; an absent optional field is not written.
type enc struct{ b []byte }

const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

func (e *enc) varint(v uint64) {
	for v >= 0x80 {
		e.b = append(e.b, byte(v)|0x80)
		v >>= 7
	}
	e.b = append(e.b, byte(v))
}

func (e *enc) key(num, wt int) { e.varint(uint64(num)<<3 | uint64(wt)) }

func (e *enc) bool(num int, v *bool) {
	if v == nil {
		return
	}
	e.key(num, wireVarint)
	if *v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// int32 and enum values are sign-extended to 64 bits (a negative one
// takes ten bytes), as protobuf encodes them.
func (e *enc) int32(num int, v *int32) {
	if v == nil {
		return
	}
	e.key(num, wireVarint)
	e.varint(uint64(int64(*v)))
}

func (e *enc) enum(num int, v *int32) { e.int32(num, v) }

func (e *enc) uint32(num int, v *uint32) {
	if v == nil {
		return
	}
	e.key(num, wireVarint)
	e.varint(uint64(*v))
}

func (e *enc) string(num int, v *string) {
	if v == nil {
		return
	}
	e.key(num, wireBytes)
	e.varint(uint64(len(*v)))
	e.b = append(e.b, *v...)
}

// msg writes an embedded message, if present, length first.
func (e *enc) msg(num int, present bool, body func(*enc)) {
	if !present {
		return
	}
	var sub enc
	body(&sub)
	e.key(num, wireBytes)
	e.varint(uint64(len(sub.b)))
	e.b = append(e.b, sub.b...)
}

// Unmarshal decodes a response. Fields it does not know are skipped, as
// protobuf skips them; a field of a known number with another wire type
// is an error.
func (r *CriuResp) Unmarshal(b []byte) error {
	*r = CriuResp{}
	return fields(b, func(num, wt int, d *dec) error {
		switch num {
		case 1:
			var v *int32
			if err := d.enum(wt, &v); err != nil {
				return err
			}
			t := CriuReqType(*v)
			r.Type = &t
			return nil
		case 2:
			return d.bool(wt, &r.Success)
		case 3:
			if r.Dump == nil {
				r.Dump = new(CriuDumpResp)
			}
			return d.msg(wt, func(num, wt int, d *dec) error {
				if num == 1 {
					return d.bool(wt, &r.Dump.Restored)
				}
				return d.skip(wt)
			})
		case 4:
			if r.Restore == nil {
				r.Restore = new(CriuRestoreResp)
			}
			return d.msg(wt, func(num, wt int, d *dec) error {
				if num == 1 {
					return d.int32(wt, &r.Restore.Pid)
				}
				return d.skip(wt)
			})
		case 5:
			if r.Notify == nil {
				r.Notify = new(CriuNotify)
			}
			return d.msg(wt, func(num, wt int, d *dec) error {
				switch num {
				case 1:
					return d.string(wt, &r.Notify.Script)
				case 2:
					return d.int32(wt, &r.Notify.Pid)
				}
				return d.skip(wt)
			})
		case 6:
			if r.Ps == nil {
				r.Ps = new(CriuPageServerInfo)
			}
			return d.msg(wt, func(num, wt int, d *dec) error {
				switch num {
				case 1:
					return d.string(wt, &r.Ps.Address)
				case 2:
					return d.int32(wt, &r.Ps.Port)
				case 3:
					return d.int32(wt, &r.Ps.Pid)
				case 4:
					return d.int32(wt, &r.Ps.Fd)
				}
				return d.skip(wt)
			})
		case 7:
			return d.int32(wt, &r.CrErrno)
		case 8:
			if r.Features == nil {
				r.Features = new(CriuFeatures)
			}
			return d.msg(wt, func(num, wt int, d *dec) error {
				switch num {
				case 1:
					return d.bool(wt, &r.Features.MemTrack)
				case 2:
					return d.bool(wt, &r.Features.LazyPages)
				case 3:
					return d.bool(wt, &r.Features.PidfdStore)
				}
				return d.skip(wt)
			})
		case 9:
			return d.string(wt, &r.CrErrmsg)
		case 10:
			if r.Version == nil {
				r.Version = new(CriuVersion)
			}
			v := r.Version
			return d.msg(wt, func(num, wt int, d *dec) error {
				switch num {
				case 1:
					return d.int32(wt, &v.MajorNumber)
				case 2:
					return d.int32(wt, &v.MinorNumber)
				case 3:
					return d.string(wt, &v.Gitid)
				case 4:
					return d.int32(wt, &v.Sublevel)
				case 5:
					return d.int32(wt, &v.Extra)
				case 6:
					return d.string(wt, &v.Name)
				}
				return d.skip(wt)
			})
		case 11:
			return d.int32(wt, &r.Status)
		}
		return d.skip(wt)
	})
}

var errTruncated = errors.New("criu response: truncated protobuf message")

// dec reads protobuf's wire format.
type dec struct {
	b []byte
	i int
}

// fields calls field for each field of the message in b.
func fields(b []byte, field func(num, wt int, d *dec) error) error {
	d := &dec{b: b}
	for d.i < len(d.b) {
		k, err := d.varint()
		if err != nil {
			return err
		}
		num, wt := int(k>>3), int(k&7)
		if num <= 0 || num > 1<<29-1 {
			return fmt.Errorf("criu response: bad field number %d", num)
		}
		if err := field(num, wt, d); err != nil {
			return err
		}
	}
	return nil
}

func (d *dec) varint() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.i >= len(d.b) {
			return 0, errTruncated
		}
		c := d.b[d.i]
		d.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("criu response: varint overflows 64 bits")
}

func wantWire(wt, want int) error {
	if wt != want {
		return fmt.Errorf("criu response: wire type %d where %d was expected", wt, want)
	}
	return nil
}

func (d *dec) bool(wt int, p **bool) error {
	if err := wantWire(wt, wireVarint); err != nil {
		return err
	}
	v, err := d.varint()
	if err != nil {
		return err
	}
	b := v != 0
	*p = &b
	return nil
}

func (d *dec) int32(wt int, p **int32) error {
	if err := wantWire(wt, wireVarint); err != nil {
		return err
	}
	v, err := d.varint()
	if err != nil {
		return err
	}
	n := int32(v)
	*p = &n
	return nil
}

func (d *dec) enum(wt int, p **int32) error { return d.int32(wt, p) }

func (d *dec) bytes(wt int) ([]byte, error) {
	if err := wantWire(wt, wireBytes); err != nil {
		return nil, err
	}
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.i) {
		return nil, errTruncated
	}
	b := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return b, nil
}

func (d *dec) string(wt int, p **string) error {
	b, err := d.bytes(wt)
	if err != nil {
		return err
	}
	s := string(b)
	*p = &s
	return nil
}

// msg decodes an embedded message into what field fills. A message
// given twice for a non-repeated field merges into the first, as
// protobuf merges it (the callers allocate only the first time).
func (d *dec) msg(wt int, field func(num, wt int, d *dec) error) error {
	b, err := d.bytes(wt)
	if err != nil {
		return err
	}
	return fields(b, field)
}

func (d *dec) skip(wt int) error {
	var n int
	switch wt {
	case wireVarint:
		_, err := d.varint()
		return err
	case wire64:
		n = 8
	case wire32:
		n = 4
	case wireBytes:
		_, err := d.bytes(wt)
		return err
	default:
		return fmt.Errorf("criu response: wire type %d not supported", wt)
	}
	if n > len(d.b)-d.i {
		return errTruncated
	}
	d.i += n
	return nil
}

func (p *CriuPageServerInfo) GetAddress() string {
	if p == nil || p.Address == nil {
		return ""
	}
	return *p.Address
}

func (p *CriuPageServerInfo) GetPort() int32 {
	if p == nil || p.Port == nil {
		return 0
	}
	return *p.Port
}
