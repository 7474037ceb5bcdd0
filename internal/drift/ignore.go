package drift

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/yamlstrict"
)

// IgnoreFileName is the ignore file eksbg drift reads beside eksbg.yaml.
const IgnoreFileName = ".eksbgignore"

// dateLayout is the form of an ignore rule's expiry date.
const dateLayout = "2006-01-02"

// IgnoreRule suppresses the findings it matches until it expires. Every
// pattern is a glob where "*" matches any run of characters ("/" included)
// and "?" one character; an empty Environment, Kind or Field matches any.
// Kind matches a finding's Check (a drift finding's Check is its Kind).
type IgnoreRule struct {
	Environment string `yaml:"environment,omitempty" json:"environment,omitempty"`
	Kind        string `yaml:"kind,omitempty" json:"kind,omitempty"`
	Resource    string `yaml:"resource" json:"resource"`
	Field       string `yaml:"field,omitempty" json:"field,omitempty"`
	// Reason says why the drift is accepted (a ticket, a person); required.
	Reason string `yaml:"reason" json:"reason"`
	// Expires is the last day (UTC, YYYY-MM-DD) the rule applies; required,
	// so that no suppression outlives its reason unnoticed.
	Expires string `yaml:"expires" json:"expires"`
	// Source is where the rule is written, "FILE:LINE".
	Source string `yaml:"-" json:"rule"`

	until time.Time // the first instant the rule no longer applies
	res   []*regexp.Regexp
}

// IgnoreFile is a parsed ignore file.
type IgnoreFile struct {
	// File is the path it was read from.
	File  string
	Rules []*IgnoreRule
}

type ignoreDoc struct {
	Ignore []*IgnoreRule `yaml:"ignore"`
}

// LoadIgnore reads the ignore file at path. A missing file is no rules
// (nil, nil) unless required is set.
func LoadIgnore(path string, required bool) (*IgnoreFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the ignore file: %w", err)
	}
	return ParseIgnore(path, data)
}

// ParseIgnore parses an ignore file: a YAML document whose "ignore" key
// lists rules (docs/drift.md#ignoring-findings). Every problem is reported
// at once, with its line.
func ParseIgnore(file string, data []byte) (*IgnoreFile, error) {
	var d ignoreDoc
	doc, err := yamlstrict.Decode(file, data, &d)
	if err != nil {
		return nil, err
	}
	var errs yamlstrict.Errors
	out := &IgnoreFile{File: file}
	kinds := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		kinds = append(kinds, string(k))
	}
	for i, r := range d.Ignore {
		path := yamlstrict.JoinIndex("ignore", i)
		if r == nil {
			errs = append(errs, doc.Errorf(path, "is empty; a rule needs resource, reason and expires"))
			continue
		}
		r.Source = fmt.Sprintf("%s:%d", file, doc.Errorf(path, "").Line)
		if strings.TrimSpace(r.Resource) == "" {
			errs = append(errs, doc.Errorf(path+".resource", "is required: the resource to ignore (a glob, such as nodegroup/prod-blue/*)"))
		}
		if strings.TrimSpace(r.Reason) == "" {
			errs = append(errs, doc.Errorf(path+".reason", "is required: say why this drift is accepted (a ticket, who agreed)"))
		}
		if r.Kind != "" && !slices.Contains(kinds, r.Kind) {
			errs = append(errs, doc.Errorf(path+".kind", "is %q; use one of %s", r.Kind, strings.Join(kinds, ", ")))
		}
		day, err := time.Parse(dateLayout, r.Expires)
		switch {
		case r.Expires == "":
			errs = append(errs, doc.Errorf(path+".expires", "is required: the last day (YYYY-MM-DD) the rule applies"))
		case err != nil:
			errs = append(errs, doc.Errorf(path+".expires", "is %q, not a date YYYY-MM-DD", r.Expires))
		default:
			r.until = day.AddDate(0, 0, 1)
		}
		for _, p := range []string{r.Environment, r.Kind, r.Resource, r.Field} {
			r.res = append(r.res, globRE(p))
		}
		out.Rules = append(out.Rules, r)
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return out, nil
}

// globRE compiles a glob ("" matches anything).
func globRE(glob string) *regexp.Regexp {
	if glob == "" {
		glob = "*"
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// matches reports whether the rule's patterns match f (its Kind pattern
// matches the finding's Check).
func (r *IgnoreRule) matches(f findings.Finding) bool {
	for i, s := range []string{f.Environment, f.Check, f.Resource, f.Field} {
		if !r.res[i].MatchString(s) {
			return false
		}
	}
	return true
}

// expired reports whether the rule no longer applies at now.
func (r *IgnoreRule) expired(now time.Time) bool { return !now.Before(r.until) }

// appliesTo reports whether the rule's environment pattern matches env.
func (r *IgnoreRule) appliesTo(env string) bool { return r.res[0].MatchString(env) }

// IgnoreSummary lists the rules of the ignore file that suppress nothing:
// those past their expiry date (their findings count again) and those that
// matched no finding of the environments checked.
type IgnoreSummary struct {
	// File is the ignore file read ("" when there was none).
	File string `json:"file,omitempty"`
	// Rules counts its rules.
	Rules   int           `json:"rules"`
	Expired []*IgnoreRule `json:"expired"`
	Unused  []*IgnoreRule `json:"unused"`
}

func (s *IgnoreSummary) sort() {
	by := func(a, b *IgnoreRule) int { return cmp.Compare(a.Source, b.Source) }
	slices.SortFunc(s.Expired, by)
	slices.SortFunc(s.Unused, by)
	if s.Expired == nil {
		s.Expired = []*IgnoreRule{}
	}
	if s.Unused == nil {
		s.Unused = []*IgnoreRule{}
	}
}

// apply moves the findings of the report that a live rule matches to
// Suppressed, and fills in the summary.
func (f *IgnoreFile) apply(r *Report, now time.Time) {
	if f == nil {
		return
	}
	r.Ignore.File, r.Ignore.Rules = f.File, len(f.Rules)
	used := map[*IgnoreRule]bool{}
	for i := range r.Environments {
		e := &r.Environments[i]
		kept := e.Findings[:0]
		for _, fd := range e.Findings {
			var rule *IgnoreRule
			for _, ru := range f.Rules {
				if !ru.expired(now) && ru.matches(fd) {
					rule = ru
					break
				}
			}
			if rule == nil {
				kept = append(kept, fd)
				continue
			}
			used[rule] = true
			e.Suppressed = append(e.Suppressed, Suppressed{Finding: fd, Reason: rule.Reason, Expires: rule.Expires, Rule: rule.Source})
		}
		e.Findings = kept
	}
	for _, ru := range f.Rules {
		switch {
		case ru.expired(now):
			r.Ignore.Expired = append(r.Ignore.Expired, ru)
		case !used[ru] && slices.ContainsFunc(r.Environments, func(e EnvResult) bool { return ru.appliesTo(e.Environment) }):
			r.Ignore.Unused = append(r.Ignore.Unused, ru)
		}
	}
}
