package scenario

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

const minimal = `apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
vpcs:
  - id: vpc-00000000000000001
    cidr: 10.0.0.0/16
    subnets:
      - {id: subnet-00000000000000001, az: us-east-1a, cidr: 10.0.0.0/24}
      - {id: subnet-00000000000000002, az: us-east-1b, cidr: 10.0.1.0/24}
`

func TestParseMinimal(t *testing.T) {
	s, err := Parse("s.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.Account != "111122223333" || len(s.VPCs[0].Subnets) != 2 {
		t.Fatalf("%+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", minimal + "trafic: {}\n", `s.yaml:11:1: trafic: unknown field "trafic"`},
		{"wrong kind", strings.Replace(minimal, "kind: SandboxScenario", "kind: Scenario", 1), `s.yaml:2:7: kind: must be "SandboxScenario", got "Scenario"`},
		{"bad account", strings.Replace(minimal, `"111122223333"`, `"1234"`, 1), `s.yaml:3:10: account: must be a 12-digit AWS account ID`},
		{"subnet outside VPC", strings.Replace(minimal, "10.0.1.0/24", "10.1.1.0/24", 1), `s.yaml:10:62: vpcs[0].subnets[1].cidr: 10.1.1.0/24 is not inside the VPC's 10.0.0.0/16`},
		{"overlap", strings.Replace(minimal, "10.0.1.0/24", "10.0.0.128/25", 1), `vpcs[0].subnets[1].cidr: 10.0.0.128/25 overlaps 10.0.0.0/24`},
		{"az of another region", strings.Replace(minimal, "az: us-east-1b", "az: eu-west-1b", 1), `vpcs[0].subnets[1].az: must be an availability zone of us-east-1`},
		{"type mismatch", minimal + "timing: {clusterCreate: soon}\n", `timing.clusterCreate`},
		{"weight out of range", minimal + `targetGroups: [{name: a, vpc: vpc-00000000000000001}]
loadBalancers:
  - name: lb
    subnets: [subnet-00000000000000001, subnet-00000000000000002]
    listeners: [{port: 80, defaultForward: [{targetGroup: a, weight: 1000}]}]
`, `loadBalancers[0].listeners[0].defaultForward[0].weight: must be 0-999, got 1000`},
		{"nodegroup sizes", minimal + `clusters:
  - name: c
    version: "1.31"
    subnets: [subnet-00000000000000001, subnet-00000000000000002]
    nodegroups: [{name: ng, instanceType: m5.large, desired: 5, min: 1, max: 3}]
`, `clusters[0].nodegroups[0]: needs 0 <= min <= desired <= max`},
		{"fault rate", minimal + "faults: [{service: ec2, operation: '*', throttleRate: 2}]\n", `faults[0]: throttleRate must be between 0 and 1`},
		{"access entry for an STS session", minimal + accessEntries(`{principalArn: "arn:aws:sts::111122223333:assumed-role/Admin/me"}`),
			`clusters[0].accessEntries[0].principalArn: must be an IAM user or role ARN`},
		{"duplicate access entry", minimal + accessEntries(`{principalArn: "arn:aws:iam::111122223333:role/Admin"}`,
			`{principalArn: "arn:aws:iam::111122223333:role/Admin", kubernetesGroups: [a]}`),
			`clusters[0].accessEntries[1].principalArn: duplicate access entry for arn:aws:iam::111122223333:role/Admin`},
		{"reserved username", minimal + accessEntries(`{principalArn: "arn:aws:iam::111122223333:user/me", username: "eks:me"}`),
			`clusters[0].accessEntries[0].username: must not start with "eks:"`},
		{"empty group", minimal + accessEntries(`{principalArn: "arn:aws:iam::111122223333:user/me", kubernetesGroups: [""]}`),
			`clusters[0].accessEntries[0].kubernetesGroups[0]: must not be empty`},
		{"access entry field misspelt", minimal + accessEntries(`{principalARN: "arn:aws:iam::111122223333:user/me"}`),
			`unknown field "principalARN"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var es yamlstrict.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not yamlstrict.Errors: %v", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, c.want)
			}
			for _, e := range es {
				if e.File != "s.yaml" || e.Line == 0 {
					t.Fatalf("error without file and line: %+v", e)
				}
			}
		})
	}
}

// accessEntries is a cluster with the given access entries (YAML flow maps).
func accessEntries(entries ...string) string {
	return `clusters:
  - name: c
    version: "1.31"
    subnets: [subnet-00000000000000001, subnet-00000000000000002]
    accessEntries: [` + strings.Join(entries, ", ") + `]
`
}

func TestParseAccessEntries(t *testing.T) {
	s, err := Parse("s.yaml", []byte(minimal+accessEntries(
		`{principalArn: "arn:aws:iam::111122223333:role/teams/Admin", username: "admin:{{SessionName}}", kubernetesGroups: [a, b]}`,
		`{principalArn: "arn:aws:iam::444455556666:user/me"}`)))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Clusters[0].AccessEntries
	if len(got) != 2 || got[0].PrincipalARN != "arn:aws:iam::111122223333:role/teams/Admin" || got[0].Username != "admin:{{SessionName}}" ||
		strings.Join(got[0].KubernetesGroups, ",") != "a,b" || got[1].PrincipalARN != "arn:aws:iam::444455556666:user/me" {
		t.Fatalf("access entries %+v", got)
	}
}

// TestDocExampleParses keeps docs/sandbox.md's complete example true.
func TestDocExampleParses(t *testing.T) {
	b, err := os.ReadFile("../../../docs/sandbox.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/sandbox.md has no yaml example")
	}
	s, err := Parse("docs/sandbox.md", m[1])
	if err != nil {
		t.Fatalf("the example in docs/sandbox.md does not parse:\n%v", err)
	}
	if len(s.Clusters) == 0 || len(s.LoadBalancers) == 0 || len(s.Faults) == 0 {
		t.Fatal("the docs example should show clusters, load balancers and faults")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("apiVersion: x\nkind: [1, 2]\n"))
	f.Add([]byte("vpcs: [{subnets: [{cidr: 10.0.0.0/33}]}]\n"))
	f.Add([]byte("clusters: [{nodegroups: [{desired: -1}]}]\nquotas: {a: 1}\n"))
	f.Add([]byte(":\n- ]["))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil && s == nil {
			t.Fatal("nil scenario without error")
		}
		if err != nil {
			var es yamlstrict.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not a non-empty yamlstrict.Errors: %T %v", err, err)
			}
		}
	})
}
