package nsexec

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// logger writes JSON lines ({"level","msg"}) to the log pipe; the runtime
// reads them and passes them to its own logger at the same level.
type logger struct {
	f *os.File
	// debug: the runtime runs with --debug; debugf lines say how long
	// after init's start they were written (where init's time goes).
	debug bool
	start time.Time
}

func (l *logger) log(level, format string, args ...any) {
	if l == nil || l.f == nil {
		return
	}
	b, _ := json.Marshal(struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}{level, fmt.Sprintf(format, args...)})
	l.f.Write(append(b, '\n'))
}

func (l *logger) debugf(format string, args ...any) {
	if l == nil || !l.debug {
		return
	}
	l.log("debug", fmt.Sprintf("+%.2fms ", float64(time.Since(l.start))/1e6)+format, args...)
}
func (l *logger) warnf(format string, args ...any) { l.log("warning", format, args...) }

func (l *logger) close() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
