package workspace

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/testenv"
)

// TestWorkspaceOfDemo writes the demo sandbox's workspace and checks each
// file with the tool that will read it: eksbg's config loader, eksctl's
// schema, and the real terraform.
func TestWorkspaceOfDemo(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	w, err := Read(t.Context(), env.AWS)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Environments) != 1 || w.Environments[0].Name != "demo" {
		t.Fatalf("environments = %+v", w.Environments)
	}
	e := w.Environments[0]
	if len(e.Rules) != 1 || len(e.NodeSubnets) != 3 || len(e.ControlPlane) != 3 || len(e.LBSubnets) != 3 || len(e.Addons) != 3 {
		t.Fatalf("demo environment = rules %d, node subnets %d, control plane %d, lb %d, addons %d",
			len(e.Rules), len(e.NodeSubnets), len(e.ControlPlane), len(e.LBSubnets), len(e.Addons))
	}
	dir := t.TempDir()
	files, err := Write(w, Options{Dir: dir, Endpoint: env.URL, AccessKeyID: "AKIASANDBOX", SecretAccessKey: "s", Eksbg: "/usr/local/bin/eksbg", EksctlSchema: "/x/schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Errorf("wrote %d files, want 6: %v", len(files), files)
	}

	p, err := config.Load(filepath.Join(dir, ProjectFile))
	if err != nil {
		t.Fatalf("eksbg.yaml does not load: %v", err)
	}
	pe, err := p.Env("demo")
	if err != nil {
		t.Fatal(err)
	}
	if pe.ClusterName("blue") != "demo-blue" || len(pe.Traffic.ListenerRules) != 1 || !strings.Contains(pe.Traffic.ListenerRules[0].TargetGroups.Green, "demo-green-web") {
		t.Errorf("environment demo = %+v", pe)
	}

	c, err := clusters.Load(filepath.Join(dir, ClustersDir, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := testenv.EksctlSchema(t); s.Validate(c) != nil {
		t.Errorf("the demo's eksctl config fails eksctl's schema: %v", s.Validate(c))
	}
	spec, err := c.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "demo-blue" || spec.Version != "1.32" || len(spec.NodeGroups) != 1 || spec.NodeGroups[0].Name != "general" {
		t.Errorf("spec = %+v", spec)
	}

	st, err := os.Stat(filepath.Join(dir, EnvFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("env file mode = %v (%v), want 0600", st.Mode(), err)
	}
	envData, _ := os.ReadFile(filepath.Join(dir, EnvFile))
	for _, want := range []string{"AWS_ENDPOINT_URL='" + env.URL + "'", "EKSBG_EKSCTL_SCHEMA='/x/schema.json'", "/bin':\"$PATH\""} {
		if !strings.Contains(string(envData), want) {
			t.Errorf("env file lacks %q:\n%s", want, envData)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, BinDir, "eksctl")); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("eksctl shim is not executable: %v", err)
	}

	// The network stack plans and applies offline with the real terraform,
	// in the environment's workspace, and its outputs are the subnets.
	tfDir := filepath.Join(dir, NetworkDir)
	tf := func(args ...string) string {
		t.Helper()
		sandboxtest.SkipShort(t, "terraform")
		cmd := exec.CommandContext(context.Background(), "terraform", args...)
		cmd.Dir = tfDir
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}
	tf("init", "-input=false")
	tf("workspace", "new", "demo")
	tf("apply", "-input=false", "-auto-approve")
	var outs map[string]struct{ Value any }
	if err := json.Unmarshal([]byte(tf("output", "-json")), &outs); err != nil {
		t.Fatal(err)
	}
	if outs[OutVPC].Value != e.VPC {
		t.Errorf("vpc_id output = %v, want %s", outs[OutVPC].Value, e.VPC)
	}
	if nodes, _ := outs[OutNodes].Value.([]any); len(nodes) != 3 {
		t.Errorf("node_subnet_ids output = %v", outs[OutNodes].Value)
	}
}
