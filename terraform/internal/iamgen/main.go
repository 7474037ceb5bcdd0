// Command iamgen writes the iam module's list of actions
// (terraform/modules/iam/policy/actions.json) from the AWS API calls in
// eksbg's Go source. Run it with `go generate ./terraform`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eksbg/eksbg/terraform/internal/iamactions"
)

func main() {
	out := flag.String("out", "", "file to write (default: standard output)")
	root := flag.String("root", "", "root of the eksbg module (default: the directory of the nearest go.mod)")
	verbose := flag.Bool("v", false, "list on standard error where the code uses each action")
	flag.Parse()
	if err := run(context.Background(), *root, *out, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "iamgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, out string, verbose bool) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	uses, err := iamactions.Derive(ctx, iamactions.ForEksbg(root))
	if err != nil {
		return err
	}
	if verbose {
		for _, u := range uses {
			fmt.Fprintf(os.Stderr, "%s\t%s\n", u.Action, u.Pos)
		}
	}
	data := iamactions.FormatJSON(iamactions.Actions(uses))
	if out == "" {
		_, err := os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

// moduleRoot is the nearest directory at or above the working directory
// holding a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory: pass -root")
		}
		dir = parent
	}
}
