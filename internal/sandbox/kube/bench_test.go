package kube_test

import (
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// BenchmarkManagerStart measures how long the control planes of a
// scenario take to be ready (StartManager to WaitReady: etcd, API
// servers, bootstrap objects, nodes registered and Ready, endpoints
// published) and the memory they then hold (rss-MiB: the sum of the
// processes' resident sets, sampled once ready). "demo" is the demo
// scenario (demo-blue, 6 nodes); "demo+green" adds a copy of demo-blue
// named demo-green, as a blue/green upgrade runs two clusters.
//
//	go test -run '^$' -bench BenchmarkManagerStart -benchtime 3x ./internal/sandbox/kube/
func BenchmarkManagerStart(b *testing.B) {
	for _, tc := range []struct {
		name   string
		extend func(*scenario.Scenario)
	}{
		{"demo", func(*scenario.Scenario) {}},
		{"demo+green", func(s *scenario.Scenario) {
			green := s.Clusters[0]
			green.Name = "demo-green"
			s.Clusters = append(s.Clusters, green)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var rss int64
			perComponent := map[string]int64{}
			for range b.N {
				b.StopTimer()
				sc, err := scenarios.Load("demo")
				if err != nil {
					b.Fatal(err)
				}
				tc.extend(sc)
				env := sandboxtest.Start(b, sc)
				b.StartTimer()
				sb := sandboxtest.StartKube(b, env, sandboxtest.WithReadyTimeout(3*time.Minute))
				b.StopTimer()
				m := sb.Manager
				n, err := m.RSS()
				if err != nil {
					b.Fatal(err)
				}
				rss += n
				for _, st := range m.Status() {
					for comp, pid := range st.PIDs {
						n, err := kube.ProcessRSS(pid)
						if err != nil {
							b.Fatal(err)
						}
						perComponent[comp] += n
					}
				}
				if err := sb.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "rss-MiB")
			for comp, n := range perComponent {
				b.ReportMetric(float64(n)/float64(b.N)/(1<<20), comp+"-MiB")
			}
		})
	}
}
