// Package output renders command results as a table, JSON, YAML or
// Markdown: the -o/--output flag of every command with tabular output.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Format is an output format.
type Format string

// The formats commands offer.
const (
	Table    Format = "table"
	JSON     Format = "json"
	YAML     Format = "yaml"
	Markdown Format = "markdown"
)

// Formats lists the formats in the order help shows them.
var Formats = []Format{Table, JSON, YAML, Markdown}

// ParseFormat checks a -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q: use one of table, json, yaml, markdown", s)
}

// Tabular is a result that can be shown as rows; the same value is
// marshalled as-is for JSON and YAML, so its json tags are the contract.
type Tabular interface {
	Header() []string
	Rows() [][]string
}

// Write renders v in format f. Table and Markdown need v to be Tabular.
func Write(w io.Writer, f Format, v any) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case YAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	case Table, Markdown:
		t, ok := v.(Tabular)
		if !ok {
			return fmt.Errorf("this result has no %s form: use -o json or -o yaml", f)
		}
		if f == Markdown {
			return writeMarkdown(w, t)
		}
		return writeTable(w, t)
	}
	return fmt.Errorf("unknown output format %q", f)
}

func writeTable(w io.Writer, t Tabular) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Header(), "\t"))
	for _, r := range t.Rows() {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func writeMarkdown(w io.Writer, t Tabular) error {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	h := t.Header()
	cells := make([]string, len(h))
	for i, c := range h {
		cells[i] = esc(c)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat(" --- |", len(h)))
	for _, r := range t.Rows() {
		for i := range r {
			r[i] = esc(r[i])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	return nil
}
