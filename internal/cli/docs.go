package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// CommandDocs renders one Markdown page per command of the tree, keyed by
// file name (eksbg_upgrade.md), and an index (README.md). docs/commands is
// generated from it; TestCommandDocs keeps the two in step
// (go test ./internal/cli -run TestCommandDocs -update rewrites them).
func CommandDocs(root *cobra.Command) map[string][]byte {
	pages := map[string][]byte{}
	var index bytes.Buffer
	index.WriteString("# Commands\n\nGenerated from eksbg's command tree (`go test ./internal/cli -run TestCommandDocs -update`); do not edit.\n\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		name := docFile(c)
		pages[name] = commandPage(c)
		depth := strings.Count(c.CommandPath(), " ")
		fmt.Fprintf(&index, "%s- [`%s`](%s): %s\n", strings.Repeat("  ", depth), c.CommandPath(), name, c.Short)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	pages["README.md"] = index.Bytes()
	return pages
}

func docFile(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
}

func commandPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# `%s`\n\n%s\n\n", c.CommandPath(), c.Short)
	if c.Runnable() {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Long != "" {
		fmt.Fprintf(&b, "```text\n%s\n```\n\n", strings.TrimRight(c.Long, "\n"))
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```console\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Flags\n\n```text\n%s```\n\n", fs.FlagUsages())
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Global flags\n\n```text\n%s```\n\n", fs.FlagUsages())
	}
	var subs []string
	for _, sub := range c.Commands() {
		if !sub.Hidden && sub.Name() != "help" && sub.Name() != "completion" {
			subs = append(subs, fmt.Sprintf("- [`%s`](%s): %s", sub.CommandPath(), docFile(sub), sub.Short))
		}
	}
	if len(subs) > 0 {
		fmt.Fprintf(&b, "## Subcommands\n\n%s\n\n", strings.Join(subs, "\n"))
	}
	if c.HasParent() {
		fmt.Fprintf(&b, "See also [`%s`](%s), [all commands](README.md).\n", c.Parent().CommandPath(), docFile(c.Parent()))
	} else {
		b.WriteString("See also [all commands](README.md).\n")
	}
	return b.Bytes()
}
