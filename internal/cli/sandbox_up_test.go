package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/testenv"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestSandboxUpPlanDown is the sandbox end to end, as a user meets it:
// 'sandbox up' starts the emulator and a real control plane per cluster in
// the background and writes the workspace; eksbg reaches the cluster with
// an EKS token through the emulator's webhook; 'plan' derives green with
// the workspace's Terraform stack and eksctl; 'down' leaves nothing
// running.
func TestSandboxUpPlanDown(t *testing.T) {
	sandboxtest.SkipShort(t, "kube-apiserver")
	dir := t.TempDir()
	state := filepath.Join(dir, "state", "world.json")
	ws := filepath.Join(dir, "ws")
	addr := freeAddr(t)
	t.Setenv("EKSBG_TEST_AS_EKSBG", "1") // the spawned 'eksbg' is this test binary
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return out.String(), errOut.String(), code
	}
	t.Cleanup(func() {
		// Whatever happens, nothing may be left running.
		if rt, _ := sandbox.ReadRuntime(sandbox.RuntimeFile(state)); rt != nil {
			for _, pid := range append([]int{rt.PID}, rt.Processes...) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})

	out, errOut, code := run("sandbox", "up", "--state", state, "--addr", addr, "--workspace", ws,
		"--eksctl-schema", testenv.EksctlSchemaPath(t), "--fresh")
	if code != 0 {
		t.Fatalf("sandbox up: exit %d\n%s\n%s", code, out, errOut)
	}
	rt, err := sandbox.ReadRuntime(sandbox.RuntimeFile(state))
	// etcd, and per cluster an API server, controller manager, scheduler
	// and kwok; then redis, git daemon and three Argo CD roles.
	if err != nil || rt == nil || !rt.Ready || len(rt.Clusters) == 0 || rt.Clusters[0].Name != "demo-blue" || len(rt.Processes) != 1+4*len(rt.Clusters)+5 {
		t.Fatalf("runtime after up = %+v (%v)", rt, err)
	}

	// The workspace's env, as a user who sourced it has.
	t.Setenv("AWS_ENDPOINT_URL", rt.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultCredential.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultCredential.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("PATH", filepath.Join(ws, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("EKSBG_EKSCTL_SCHEMA", testenv.EksctlSchemaPath(t))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))

	// eksbg reaches the control plane with an EKS token, CA verified.
	cfg, err := sandbox.AWSConfig(t.Context(), rt.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kubeaccess.Clientset(t.Context(), eks.NewFromConfig(cfg), cfg, "demo-blue")
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := kc.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 6 {
		t.Fatalf("nodes of demo-blue through an EKS token: %d (%v)", len(nodes.Items), err)
	}
	// kubectl's way: the kubeconfig's exec plugin is 'eksbg token'.
	out, errOut, code = run("token", "--cluster-name", "demo-blue")
	var ec struct {
		Kind   string
		Status struct{ Token, ExpirationTimestamp string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &ec) != nil || ec.Kind != "ExecCredential" || !strings.HasPrefix(ec.Status.Token, "k8s-aws-v1.") {
		t.Fatalf("eksbg token: exit %d, %q %s", code, out, errOut)
	}

	out, errOut, code = run("plan", "--config", filepath.Join(ws, "eksbg.yaml"), "--env", "demo", "--to", "1.34", "-o", "json")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	var plan struct {
		Blue, Green struct{ Name, Version string }
		Diff        string
		Blocked     bool
		Phases      []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Blue.Name != "demo-blue" || plan.Green.Name != "demo-green" || plan.Green.Version != "1.34" || plan.Blocked || len(plan.Phases) != 8 ||
		!strings.Contains(plan.Diff, "-  version: \"1.32\"\n+  version: \"1.34\"") {
		t.Errorf("plan = %+v", plan)
	}
	// A version that is not ahead is refused with the reason.
	if _, errOut, code = run("plan", "--config", filepath.Join(ws, "eksbg.yaml"), "--env", "demo", "--to", "1.31"); code != 1 || !strings.Contains(errOut, "not newer") {
		t.Errorf("plan to an older version: exit %d, %s", code, errOut)
	}

	out, errOut, code = run("sandbox", "down", "--state", state)
	if code != 0 || !strings.Contains(out, "nothing left running") {
		t.Fatalf("sandbox down: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, pid := range append([]int{rt.PID}, rt.Processes...) {
		// Gone, or a zombie waiting for its parent to reap it.
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !strings.Contains(string(b), ") Z ") {
			t.Errorf("process %d still runs after down: %s", pid, b)
		}
	}
	if _, err := os.Stat(sandbox.RuntimeFile(state)); !os.IsNotExist(err) {
		t.Errorf("runtime file left after down: %v", err)
	}
}
