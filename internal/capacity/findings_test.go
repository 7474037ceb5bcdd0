package capacity

import (
	"testing"

	"github.com/eksbg/eksbg/internal/findings"
)

// TestReportFindings checks the one conversion of a report to findings:
// FAIL and WARN lines only, with the texts `eksbg plan` shows (What,
// Where) and those `eksbg drift` reports (Resource, Field, Expected,
// Actual).
func TestReportFindings(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  Report
		want []findings.Finding
	}{
		{"nothing to say", Report{Verdict: OK,
			AZs:     []AZReport{{AZ: "eu-west-1a", SupplyIPs: 500, DemandIPs: 20, Verdict: OK}},
			Subnets: []SubnetReport{{ID: "subnet-a", AZ: "eu-west-1a", AvailableIPs: 500, Verdict: OK}},
			Quotas:  []QuotaReport{{Service: "ec2", Code: "L-1216C47A", Limit: 100, Used: 10, Demand: 5, Verdict: OK}}},
			nil},
		{"zone", Report{AZs: []AZReport{
			{AZ: "eu-west-1a", SupplyIPs: 40, DemandIPs: 60, DemandIPsAtMax: 90, Verdict: Fail, Remedy: "add a /26"},
			{AZ: "eu-west-1b", SupplyIPs: 70, DemandIPs: 60, DemandIPsAtMax: 90, FreePrefixes: 3, DemandPrefixes: 4, Verdict: Warn, Remedy: "add a /25"},
			{AZ: "eu-west-1c", SupplyIPs: 700, DemandIPs: 60, DemandIPsAtMax: 90, Verdict: OK},
		}}, []findings.Finding{
			{Severity: findings.Fail, Check: "capacity", Where: findings.Where{Object: "availability zone eu-west-1a"},
				What: "green needs 60 addresses (90 at maxSize); the zone's subnets have 40 free", Fix: "add a /26",
				Resource: "az/eu-west-1a", Field: "freeAddresses", Expected: "60 free addresses for green (90 at maxSize)", Actual: "40 free"},
			{Severity: findings.Warn, Check: "capacity", Where: findings.Where{Object: "availability zone eu-west-1b"},
				What: "green needs 60 addresses (90 at maxSize); the zone's subnets have 70 free", Fix: "add a /25",
				Resource: "az/eu-west-1b", Field: "freeAddresses", Expected: "60 free addresses for green (90 at maxSize), 4 free /28 prefixes", Actual: "70 free, 3 free /28 prefixes"},
		}},
		{"subnet", Report{Subnets: []SubnetReport{
			{ID: "subnet-a", AZ: "eu-west-1a", AvailableIPs: 12, FreePrefixes: 0, DemandIPs: 30, Verdict: Fail, Remedy: "add a subnet"},
			{ID: "subnet-b", AZ: "eu-west-1b", AvailableIPs: 40, FreePrefixes: 2, DemandIPs: 30, DemandPrefixes: 2, Verdict: Warn, Remedy: "free some /28s"},
		}}, []findings.Finding{
			{Severity: findings.Fail, Check: "capacity", Where: findings.Where{Object: "subnet subnet-a (eu-west-1a)"},
				What: "12 free addresses, 0 free /28 prefixes", Fix: "add a subnet",
				Resource: "subnet/subnet-a", Field: "freeAddresses", Expected: "30 free addresses for its share of green (eu-west-1a)", Actual: "12 free"},
			{Severity: findings.Warn, Check: "capacity", Where: findings.Where{Object: "subnet subnet-b (eu-west-1b)"},
				What: "40 free addresses, 2 free /28 prefixes", Fix: "free some /28s",
				Resource: "subnet/subnet-b", Field: "freeAddresses", Expected: "30 free addresses for its share of green (eu-west-1b), 2 free /28 prefixes", Actual: "40 free, 2 free /28 prefixes"},
		}},
		{"quota", Report{Quotas: []QuotaReport{
			{Service: "ec2", Code: "L-1216C47A", Name: "Running On-Demand Standard instances", Limit: 64, Used: 64, Demand: 16, Verdict: Fail, Remedy: "request an increase of L-1216C47A to 96"},
			{Service: "eks", Code: "L-33415657", Name: "Managed node groups per cluster", Limit: 30, Used: 0, Demand: 27, Verdict: Warn},
		}}, []findings.Finding{
			{Severity: findings.Fail, Check: "quota", Where: findings.Where{Object: "ec2 L-1216C47A"},
				What: "Running On-Demand Standard instances: 64 used + 16 for green of a limit of 64", Fix: "request an increase of L-1216C47A to 96",
				Resource: "quota/ec2/L-1216C47A", Field: "limit", Expected: "at least 80 (64 used + 16 for green)", Actual: "64"},
			{Severity: findings.Warn, Check: "quota", Where: findings.Where{Object: "eks L-33415657"},
				What:     "Managed node groups per cluster: 0 used + 27 for green of a limit of 30",
				Resource: "quota/eks/L-33415657", Field: "limit", Expected: "at least 27 (0 used + 27 for green)", Actual: "30"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.rep.Findings()
			if len(got) != len(tc.want) {
				t.Fatalf("%d findings, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("finding %d:\n got  %+v\n want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
