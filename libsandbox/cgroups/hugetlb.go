package cgroups

// The hugetlb controller: v2 hugetlb.<size>.max and v1
// hugetlb.<size>.limit_in_bytes.

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fs2) setHugetlb(limits []specs.LinuxHugepageLimit) error {
	if len(limits) == 0 {
		return nil
	}
	if m.hybrid {
		if err := m.enableControllers([]string{"hugetlb"}); err != nil {
			return err
		}
	}
	for i, l := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		size, err := pageSizeName(l.Pagesize)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		file := "hugetlb." + size + ".max"
		if !exists(m.at(), file) {
			return fmt.Errorf("%s.pageSize %q: this host has no such hugepage size or no hugetlb controller (sizes: %v)", field, l.Pagesize, hugepageSizes())
		}
		v := strconv.FormatUint(l.Limit, 10)
		if err := m.fs.write(m.at(), file, v, field); err != nil {
			return err
		}
		// runtime-spec 1.3: also the reservation limit where there is one.
		if rsvd := "hugetlb." + size + ".rsvd.max"; exists(m.at(), rsvd) {
			if err := m.fs.write(m.at(), rsvd, v, field); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHugetlb on v1 hosts: the v1 hugetlb controller where it is mounted,
// else the v2 part of a hybrid host (where the project's hosts have it).
func (m *fs1) setHugetlb(limits []specs.LinuxHugepageLimit) error {
	if len(limits) == 0 {
		return nil
	}
	d, ok := m.dir("hugetlb")
	if !ok {
		if m.v2 != nil {
			return m.v2.setHugetlb(limits)
		}
		return errors.New("linux.resources.hugepageLimits: no hugetlb controller on this host")
	}
	for i, l := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		size, err := pageSizeName(l.Pagesize)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if err := m.fs.write(d, "hugetlb."+size+".limit_in_bytes", strconv.FormatUint(l.Limit, 10), field); err != nil {
			return err
		}
	}
	return nil
}
