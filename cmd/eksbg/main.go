// Command eksbg runs the lifecycle of Amazon EKS clusters the blue/green way.
// See docs/ for the commands and concepts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/eksbg/eksbg/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
