package nsexec

import (
	"encoding/json"
	"fmt"
	"os"
)

// logger writes JSON lines ({"level","msg"}) to the log pipe; the runtime
// reads them and passes them to its own logger at the same level.
type logger struct{ f *os.File }

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

func (l *logger) debugf(format string, args ...any) { l.log("debug", format, args...) }
func (l *logger) warnf(format string, args ...any)  { l.log("warning", format, args...) }

func (l *logger) close() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
