package argocd_test

import (
	"context"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox/argocd"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// BenchmarkStartSandbox measures, on the demo scenario with its control
// planes ready, how long StartSandbox takes (git repository, redis, Argo
// CD's CRDs and configuration, the three roles serving, the ApplicationSet
// applied, the workload clusters registered, the TargetGroupBinding CRD
// and controller on every workload cluster); synced-s is how much longer
// web-demo-blue takes to be Synced and Healthy, and rss-MiB the resident
// memory of Argo CD's processes (three roles, redis, git daemon) then.
//
//	go test -run '^$' -bench BenchmarkStartSandbox -benchtime 3x ./internal/sandbox/argocd/
func BenchmarkStartSandbox(b *testing.B) {
	var synced time.Duration
	var rss int64
	for range b.N {
		b.StopTimer()
		env := sandboxtest.StartScenario(b, "demo")
		sb := sandboxtest.StartKube(b, env)
		m := sb.Manager
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		b.StartTimer()
		s, err := argocd.StartSandbox(ctx, argocd.SandboxOptions{Emulator: env.Server, URL: env.URL, Manager: m, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		t0 := time.Now()
		cp, _ := m.ControlPlane("demo-blue")
		if _, err := gitops.WaitApplications(ctx, s.ArgoCD.Dynamic(), s.ArgoCD.Namespace(), cp.Endpoint(), gitops.AllSyncedHealthy(1)); err != nil {
			b.Fatal(err)
		}
		synced += time.Since(t0)
		for _, pid := range s.PIDs() {
			n, err := kube.ProcessRSS(pid)
			if err != nil {
				b.Fatal(err)
			}
			rss += n
		}
		s.Close()
		if err := sb.Close(); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	b.ReportMetric(synced.Seconds()/float64(b.N), "synced-s")
	b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "rss-MiB")
}
