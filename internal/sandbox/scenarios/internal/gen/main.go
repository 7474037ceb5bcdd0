// Command gen writes the "large" benchmark scenario: 10 VPCs, 1,000+ subnets,
// 30 clusters whose node groups hold 20,000+ ENIs. It is generated, not
// hand-written, so its shape is easy to change and review; a test checks
// the committed file is what this program writes.
//
//	go generate ./internal/sandbox/scenarios
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/eksbg/eksbg/internal/sandbox/scenarios/internal/large"
)

func main() {
	out := flag.String("o", "large.yaml", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, large.Generate(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
