package seccomp

//go:generate go run gensystab.go

import "sort"

// The architectures a filter can have sections for, in systab's order.
type tableArch int

const (
	archX86_64 tableArch = iota
	archX86
	archX32
	archAARCH64
	archARM
	archRISCV64
	nTableArchs
)

type sysEntry struct {
	name string
	nr   [nTableArchs]int32
	mux  int32
}

// sysNumber is name's syscall number on arch, or -1.
func sysNumber(name string, arch tableArch) int32 {
	if e := sysLookup(name); e != nil {
		return e.nr[arch]
	}
	return -1
}

func sysLookup(name string) *sysEntry {
	i := sort.Search(len(systab), func(i int) bool { return systab[i].name >= name })
	if i < len(systab) && systab[i].name == name {
		return &systab[i]
	}
	return nil
}
