package sandboxtest

import "testing"

// SkipShort skips t under `go test -short` (`make unit`, the quick loop)
// because it is about to start binary, an external program: the sandbox's
// etcd, kube-apiserver, kwok and Argo CD (built by `make kube-bins` and
// `make argocd-bins`, seconds of CPU each), the AWS CLI, moto or
// terraform. `make test` never passes -short, so in CI nothing skips.
// The helpers that start those programs call it (StartKube, RunCLI, and
// the few tests' own starters); tests do not call testing.Short.
func SkipShort(t testing.TB, binary string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("starts %s: run by make test", binary)
	}
}
