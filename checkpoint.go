package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sandbox-runtime/sandbox-runtime/libsandbox"
)

// criuFlags are the flags checkpoint and restore share, runc's.
var criuFlags = []cli.Flag{
	&cli.StringFlag{Name: "image-path", Usage: "directory of CRIU's image files (default: ./checkpoint)"},
	&cli.StringFlag{Name: "work-path", Usage: "directory of CRIU's work files and logs (default: the image path)"},
	&cli.BoolFlag{Name: "tcp-established", Usage: "allow open TCP connections"},
	&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
	&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
	&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks"},
	&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "CRIU's cgroups mode: soft, full, strict or ignore (default: soft)"},
	&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace of this type, but do not dump or restore its contents (network only)"},
	&cli.BoolFlag{Name: "auto-dedup", Usage: "deduplicate memory images as they are written"},
	&cli.BoolFlag{Name: "lazy-pages", Usage: "restore memory pages lazily, with userfaultfd"},
}

var checkpointCommand = &cli.Command{
	Name:      "checkpoint",
	Usage:     "checkpoint a running container with CRIU",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "parent-path", Usage: "a previous (pre-)dump's images, relative to --image-path: dump only what changed since"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the container running after the checkpoint"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump the memory only, and leave the container running"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip TCP connections still being set up"},
		&cli.BoolFlag{Name: "link-remap", Usage: "link unlinked files back, where possible"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "with --lazy-pages: fd CRIU writes \\0 to once its page server is ready"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of a page server to send the memory to"},
	}, criuFlags...),
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, exactArgs); err != nil {
			return err
		}
		o, err := criuOptions(c)
		if err != nil {
			return err
		}
		ct, err := libsandbox.Load(root(c), c.Args().First())
		if err != nil {
			return err
		}
		defer ct.Close()
		return ct.Checkpoint(o)
	},
}

// criuOptions reads the flags of checkpoint and restore.
func criuOptions(c *cli.Context) (*libsandbox.CriuOpts, error) {
	o := &libsandbox.CriuOpts{
		CriuPath:          c.String("criu"),
		ImagePath:         c.String("image-path"),
		WorkPath:          c.String("work-path"),
		ParentPath:        c.String("parent-path"),
		LeaveRunning:      c.Bool("leave-running"),
		PreDump:           c.Bool("pre-dump"),
		AutoDedup:         c.Bool("auto-dedup"),
		TCPEstablished:    c.Bool("tcp-established"),
		TCPSkipInFlight:   c.Bool("tcp-skip-in-flight"),
		LinkRemap:         c.Bool("link-remap"),
		ExtUnixSk:         c.Bool("ext-unix-sk"),
		ShellJob:          c.Bool("shell-job"),
		FileLocks:         c.Bool("file-locks"),
		LazyPages:         c.Bool("lazy-pages"),
		StatusFd:          -1,
		PageServer:        c.String("page-server"),
		ManageCgroupsMode: c.String("manage-cgroups-mode"),
		EmptyNs:           c.StringSlice("empty-ns"),
		LsmProfile:        c.String("lsm-profile"),
		LsmMountContext:   c.String("lsm-mount-context"),
	}
	if c.IsSet("status-fd") {
		o.StatusFd = c.Int("status-fd")
	}
	if o.ImagePath == "" {
		// runc's default.
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		o.ImagePath = filepath.Join(wd, "checkpoint")
	}
	return o, nil
}
