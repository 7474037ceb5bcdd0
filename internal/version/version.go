// Package version holds the build's version, stamped by `make build`
// through -ldflags -X; a plain `go build` falls back to the module's build info.
package version

import "runtime/debug"

// Stamped by the Makefile: -X github.com/eksbg/eksbg/internal/version.version=...
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildDate string `json:"buildDate,omitempty"`
	GoVersion string `json:"goVersion"`
}

// Get returns the binary's version information.
func Get() Info {
	i := Info{Version: version, Commit: commit, BuildDate: date, GoVersion: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		i.GoVersion = bi.GoVersion
		if i.Version == "" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if i.BuildDate == "" {
					i.BuildDate = s.Value
				}
			}
		}
	}
	if i.Version == "" || i.Version == "(devel)" {
		i.Version = "dev"
	}
	return i
}
