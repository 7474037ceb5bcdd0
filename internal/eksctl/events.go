package eksctl

import (
	"regexp"
	"strings"
	"time"
)

// Level is the severity eksctl gives a log line with its icon.
type Level string

// eksctl's log levels, from the icons its logger prints
// (github.com/kris-nova/logger, configured in eksctl's pkg/ctl/cmdutils).
const (
	LevelDebug   Level = "debug"   // ▶
	LevelInfo    Level = "info"    // ℹ
	LevelSuccess Level = "success" // ✔
	LevelWarning Level = "warning" // !
	LevelError   Level = "error"   // ✖
)

var icons = map[string]Level{
	"▶": LevelDebug, "ℹ": LevelInfo, "✔": LevelSuccess, "!": LevelWarning, "✖": LevelError,
}

// Event is one progress line of eksctl, structured for the CLI and the TUI.
type Event struct {
	Time    time.Time
	Level   Level
	Message string
	// Stack names the CloudFormation stack the line is about, when it
	// names one ("deploying stack \"eksctl-x-cluster\"").
	Stack string
	// Stderr is true for lines eksctl wrote to stderr.
	Stderr bool
}

// eksctl prints "2025-06-01 12:00:00 [ℹ]  message".
var lineRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \[(.+?)\]\s+(.*)$`)

var stackRE = regexp.MustCompile(`stack "([^"]+)"`)

// ParseLine turns one line of eksctl output into an Event. Lines that are
// not log lines (tables, JSON, blank lines) give false.
func ParseLine(line string) (Event, bool) {
	m := lineRE.FindStringSubmatch(strings.TrimRight(line, "\r"))
	if m == nil {
		return Event{}, false
	}
	lvl, ok := icons[m[2]]
	if !ok {
		return Event{}, false
	}
	// eksctl prints local time without a zone.
	t, err := time.ParseInLocation("2006-01-02 15:04:05", m[1], time.Local)
	if err != nil {
		return Event{}, false
	}
	ev := Event{Time: t, Level: lvl, Message: m[3]}
	if s := stackRE.FindStringSubmatch(m[3]); s != nil {
		ev.Stack = s[1]
	}
	return ev, true
}
