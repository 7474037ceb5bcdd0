package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestSetPodReadiness: a target whose pod a controller reports not ready
// fails its health checks; ready again, or forgotten, it is healthy.
func TestSetPodReadiness(t *testing.T) {
	d := startELBDemo(t)
	d.clock.Advance(10 * time.Second) // past the scenario targets' initial state
	all := d.health(t, d.blue)
	if len(all) == 0 {
		t.Fatal("demo-blue-web has no targets")
	}
	var ip string
	for _, h := range all {
		ip = aws.ToString(h.Target.Id)
		break
	}
	states := func() (sick elbtypes.TargetHealth, others []elbtypes.TargetHealthStateEnum) {
		t.Helper()
		for _, h := range d.health(t, d.blue) {
			if aws.ToString(h.Target.Id) == ip {
				sick = *h.TargetHealth
			} else {
				others = append(others, h.TargetHealth.State)
			}
		}
		return sick, others
	}
	for _, tc := range []struct {
		name   string
		report map[string]bool
		want   elbtypes.TargetHealthStateEnum
		reason elbtypes.TargetHealthReasonEnum
	}{
		{"not ready", map[string]bool{ip: false, "10.20.99.99": true}, elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthReasonEnumFailedHealthChecks},
		{"ready again", map[string]bool{ip: true}, elbtypes.TargetHealthStateEnumHealthy, ""},
		{"not ready again", map[string]bool{ip: false}, elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthReasonEnumFailedHealthChecks},
		{"forgotten", nil, elbtypes.TargetHealthStateEnumHealthy, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.env.Server.SetPodReadiness("demo-blue", tc.report)
			sick, others := states()
			if sick.State != tc.want || sick.Reason != tc.reason {
				t.Errorf("target %s: %s %s, want %s %s", ip, sick.State, sick.Reason, tc.want, tc.reason)
			}
			for _, s := range others {
				if s != elbtypes.TargetHealthStateEnumHealthy {
					t.Errorf("another target is %s, want healthy", s)
				}
			}
		})
	}
}
