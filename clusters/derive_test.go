package clusters

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// demoBlue is blue as a team would keep the sandbox demo's cluster in git.
const demoBlue = `# demo-blue: the demo environment's cluster.
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig

metadata:
  name: demo-blue
  region: us-east-1
  version: "1.29"
  tags:
    eksbg.io/environment: demo
    eksbg.io/color: blue
    team: platform # who to call

vpc:
  id: vpc-0de00000000000001
  subnets:
    private:
      us-east-1a: {id: subnet-0de00000000000a01}
      us-east-1b: {id: subnet-0de00000000000b01}
      us-east-1c: {id: subnet-0de00000000000c01}
  controlPlaneSubnetIDs: [subnet-0de00000000000a02, subnet-0de00000000000b02, subnet-0de00000000000c02]
  clusterEndpoints:
    privateAccess: true

managedNodeGroups:
  - name: general
    instanceType: m5.large
    amiFamily: AmazonLinux2
    releaseVersion: 1.29.0-20240129
    privateNetworking: true
    desiredCapacity: 6
    labels: {role: general}
  - name: batch
    instanceTypes: [c5.large, c5a.large]
    spot: true
    privateNetworking: true
    subnets: [us-east-1a]
    preBootstrapCommands:
      - echo fs.inotify.max_user_watches=524288 >> /etc/sysctl.conf

addons:
  - name: vpc-cni
    version: v1.19.2-eksbuild.1
    configurationValues: '{"env":{"WARM_ENI_TARGET":"1"}}'
  - name: kube-proxy
    version: v1.29.15-eksbuild.5
  - name: coredns
`

// demoNetwork is the demo scenario's network (internal/sandbox/scenarios/demo.yaml).
func demoNetwork() Network {
	n := Network{VPCID: "vpc-0de00000000000001", CIDR: "10.20.0.0/16"}
	for i, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		c := string(rune('a' + i))
		n.Nodes = append(n.Nodes, NetworkSubnet{ID: "subnet-0de00000000000" + c + "01", AZ: az})
		n.ControlPlane = append(n.ControlPlane, NetworkSubnet{ID: "subnet-0de00000000000" + c + "02", AZ: az})
		n.LoadBalancers = append(n.LoadBalancers, NetworkSubnet{ID: "subnet-0de00000000000" + c + "03", AZ: az})
	}
	return n
}

func demoOptions(version string, addons eks.DescribeAddonVersionsAPIClient) DeriveOptions {
	return DeriveOptions{Name: "demo-green", Version: version, Network: demoNetwork(), Addons: addons,
		Tags: map[string]string{TagEnvironment: "demo", TagColor: "green"}}
}

// TestDeriveDemo derives the demo's blue config for several targets with
// addon versions from the sandbox emulator's EKS, and compares green and
// the findings with testdata/derive/*.golden.
func TestDeriveDemo(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithClock(sandboxtest.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).Now))
	api := eks.NewFromConfig(env.AWS)
	schema := mustSchema(t)
	blue, err := Parse("demo-blue.yaml", []byte(demoBlue))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(blue); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"1.29", "1.32", "1.33"} {
		t.Run(target, func(t *testing.T) {
			green, fs, err := Derive(context.Background(), blue, demoOptions(target, api))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(green); err != nil {
				t.Errorf("green does not validate: %v", err)
			}
			if green.rewrites != 0 {
				t.Errorf("%d edits not spliced", green.rewrites)
			}
			var b strings.Builder
			b.Write(green.Bytes())
			b.WriteString("\n# findings:\n")
			for _, f := range fs {
				fmt.Fprintf(&b, "# %s\n", f)
			}
			golden(t, filepath.Join("testdata", "derive", "demo-"+target+".golden"), []byte(b.String()))
		})
	}
	if string(blue.Bytes()) != demoBlue {
		t.Error("Derive changed blue")
	}
}

// TestDeriveAddons checks each way an addon version is resolved, against
// the emulator's catalog.
func TestDeriveAddons(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithClock(sandboxtest.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).Now))
	api := eks.NewFromConfig(env.AWS)
	tests := []struct {
		name, addon, target string
		wantVersion         string // green's version field
		wantSeverity        findings.Severity
		wantWhat            string
	}{
		{"pinned and compatible", "{name: vpc-cni, version: v1.19.2-eksbuild.1}", "1.32", "v1.19.2-eksbuild.1", findings.Info, "runs on Kubernetes 1.32; kept"},
		{"pinned and too old", "{name: vpc-cni, version: v1.19.2-eksbuild.1}", "1.33", "v1.19.5-eksbuild.1", findings.Warn, "does not run on Kubernetes 1.33; green gets v1.19.5-eksbuild.1"},
		{"per-minor builds", "{name: kube-proxy, version: v1.31.10-eksbuild.2}", "1.32", "v1.32.6-eksbuild.2", findings.Warn, "green gets v1.32.6-eksbuild.2"},
		{"partial version as eksctl matches it", "{name: coredns, version: v1.11}", "1.32", "v1.11", findings.Info, "kept"},
		{"default", "{name: coredns}", "1.33", "", findings.Info, "eksctl installs v1.12.1-eksbuild.2, the default for Kubernetes 1.33"},
		{"latest", "{name: coredns, version: latest}", "1.33", "latest", findings.Info, "eksctl installs v1.12.1-eksbuild.2, the latest"},
		{"unknown addon", "{name: not-an-addon, version: v1}", "1.32", "v1", findings.Fail, "addon not-an-addon has no version for Kubernetes 1.32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: b, region: us-east-1, version: \"1.31\"}\nvpc: {id: vpc-0de00000000000001}\nmanagedNodeGroups: [{name: ng, privateNetworking: true}]\naddons:\n  - " + tt.addon + "\n"
			blue, err := Parse("b.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			green, fs, err := Derive(context.Background(), blue, demoOptions(tt.target, api))
			if err != nil {
				t.Fatal(err)
			}
			s, err := green.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Addons[0].Version; got != tt.wantVersion {
				t.Errorf("version %q, want %q", got, tt.wantVersion)
			}
			i := slices.IndexFunc(fs, func(f findings.Finding) bool { return f.Check == "addons" })
			if i < 0 {
				t.Fatalf("no addons finding in %v", fs)
			}
			if fs[i].Severity != tt.wantSeverity || !strings.Contains(fs[i].What, tt.wantWhat) {
				t.Errorf("finding %s, want %s containing %q", fs[i], tt.wantSeverity, tt.wantWhat)
			}
		})
	}
}

func TestDeriveWithoutAddonAPI(t *testing.T) {
	blue, err := Parse("demo-blue.yaml", []byte(demoBlue))
	if err != nil {
		t.Fatal(err)
	}
	green, fs, err := Derive(context.Background(), blue, demoOptions("1.30", nil))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := green.Spec()
	if s.Addons[1].Version != "v1.29.15-eksbuild.5" {
		t.Errorf("addon version changed without the API: %q", s.Addons[1].Version)
	}
	if !slices.ContainsFunc(fs, func(f findings.Finding) bool {
		return f.Check == "addons" && f.Severity == findings.Warn && strings.Contains(f.What, "not checked")
	}) {
		t.Errorf("no warning about unchecked addons: %v", fs)
	}
}

// TestDeriveRefusals changes the demo's blue config in one way each and
// checks the refusal names the feature and the place.
func TestDeriveRefusals(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(string) string
		target    string
		net       func(*Network)
		feature   string
		wantWhere string
	}{
		{"outposts", func(y string) string {
			return y + "outpost:\n  controlPlaneOutpostARN: arn:aws:outposts:us-east-1:1:outpost/op-1\n"
		}, "1.32", nil,
			FeatureOutposts, "outpost"},
		{"outpost node group", func(y string) string {
			return strings.Replace(y, "    desiredCapacity: 6\n", "    desiredCapacity: 6\n    outpostARN: arn:aws:outposts:us-east-1:1:outpost/op-1\n", 1)
		}, "1.32", nil, FeatureOutposts, "managedNodeGroups[0].outpostARN"},
		{"hybrid nodes", func(y string) string {
			return y + "remoteNetworkConfig:\n  remoteNodeNetworks:\n    - cidrs: [10.80.0.0/24]\n"
		}, "1.32", nil, FeatureHybridNodes, "remoteNetworkConfig"},
		{"local zones", func(y string) string { return y + "localZones: [us-east-1-bos-1a]\n" }, "1.32", nil, FeatureLocalZones, "localZones"},
		{"ipv6", func(y string) string { return y + "kubernetesNetworkConfig:\n  ipFamily: IPv6\n" }, "1.32", nil, FeatureIPv6, "kubernetesNetworkConfig.ipFamily"},
		{"hostname type", func(y string) string {
			return strings.Replace(y, "  clusterEndpoints:\n", "  hostnameType: resource-name\n  clusterEndpoints:\n", 1)
		}, "1.32", nil, FeatureVPCOnlyForNew, "vpc.hostnameType"},
		{"downgrade", func(y string) string { return y }, "1.28", nil, FeatureVersionDowngrade, "metadata.version"},
		{"AL2 override moving to AL2023", func(y string) string {
			return strings.Replace(y, "    desiredCapacity: 6\n", "    desiredCapacity: 6\n    ami: ami-0123456789abcdef0\n    overrideBootstrapCommand: |\n      #!/bin/bash\n      /etc/eks/bootstrap.sh demo-blue\n", 1)
		}, "1.33", nil, FeatureCustomAMI, "managedNodeGroups[0].ami"},
		{"self-managed AL2 override moving to AL2023", func(y string) string {
			return y + "nodeGroups:\n  - name: old\n    amiFamily: AmazonLinux2\n    privateNetworking: true\n    overrideBootstrapCommand: |\n      #!/bin/bash\n      /etc/eks/bootstrap.sh demo-blue\n"
		}, "1.33", nil, FeatureAL2Bootstrap, "nodeGroups[0].overrideBootstrapCommand"},
		{"docker in preBootstrapCommands", func(y string) string {
			return strings.Replace(y, "      - echo fs.inotify", "      - systemctl restart docker\n      - echo fs.inotify", 1)
		}, "1.32", nil, FeatureAL2Bootstrap, "managedNodeGroups[1].preBootstrapCommands[0]"},
		{"bootstrap.sh in preBootstrapCommands on AL2 moving", func(y string) string {
			return strings.Replace(y, "    labels: {role: general}\n", "    labels: {role: general}\n    preBootstrapCommands: [\"/etc/eks/bootstrap.sh --help\"]\n", 1)
		}, "1.34", nil, FeatureAL2Bootstrap, "managedNodeGroups[0].preBootstrapCommands[0]"},
		{"dockerd runtime", func(y string) string {
			return y + "nodeGroups:\n  - name: old\n    privateNetworking: true\n    containerRuntime: dockerd\n"
		}, "1.32", nil, FeatureAL2Bootstrap, "nodeGroups[0].containerRuntime"},
		{"zone the network lacks", func(y string) string {
			return strings.Replace(y, "    subnets: [us-east-1a]\n", "    availabilityZones: [us-east-1d]\n", 1)
		}, "1.32", nil, FeatureNetwork, "managedNodeGroups[1].availabilityZones"},
		{"public node group without public subnets", func(y string) string {
			return strings.Replace(y, "    privateNetworking: true\n    desiredCapacity: 6\n", "    desiredCapacity: 6\n", 1)
		}, "1.32", func(n *Network) { n.LoadBalancers = nil }, FeatureNetwork, "managedNodeGroups[0]"},
		{"subnet of unknown zone", func(y string) string {
			return strings.Replace(y, "    subnets: [us-east-1a]\n", "    subnets: [subnet-elsewhere]\n", 1)
		}, "1.32", nil, FeatureUnplacedSubnet, "managedNodeGroups[1].subnets"},
		{"security groups of another VPC", func(y string) string {
			return strings.Replace(y, "  clusterEndpoints:\n", "  securityGroup: sg-1\n  clusterEndpoints:\n", 1)
		}, "1.32", func(n *Network) { n.VPCID = "vpc-other" }, FeatureForeignSGs, "vpc.securityGroup"},
		{"network in another region", func(y string) string { return y }, "1.32", func(n *Network) { n.Nodes[0].AZ = "eu-west-1a" }, FeatureNetwork, "metadata.region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := tt.edit(demoBlue)
			blue, err := Parse("demo-blue.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			if err := mustSchema(t).Validate(blue); err != nil {
				t.Fatalf("the test's blue config is not valid: %v", err)
			}
			opts := demoOptions(tt.target, nil)
			if tt.net != nil {
				tt.net(&opts.Network)
			}
			green, _, err := Derive(context.Background(), blue, opts)
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v, green:\n%s", err, bytesOf(green))
			}
			i := slices.IndexFunc(refused.Refusals, func(r Refusal) bool { return r.Feature == tt.feature })
			if i < 0 {
				t.Fatalf("no refusal for %q in %v", tt.feature, err)
			}
			r := refused.Refusals[i]
			if r.Where.Object != tt.wantWhere || !strings.HasPrefix(r.Where.File, "demo-blue.yaml:") || r.Reason == "" {
				t.Errorf("refusal %+v, want it at %s", r, tt.wantWhere)
			}
			if !strings.Contains(err.Error(), tt.feature) {
				t.Errorf("error %q does not name %q", err, tt.feature)
			}
			fs := refused.Findings()
			if !findings.Blocking(fs) || len(fs) != len(refused.Refusals) {
				t.Errorf("findings of a refusal: %v", fs)
			}
		})
	}
}

func bytesOf(c *Config) string {
	if c == nil {
		return "<nil>"
	}
	return string(c.Bytes())
}

func TestDeriveValidatesBlue(t *testing.T) {
	blue, err := Parse("demo-blue.yaml", []byte(strings.Replace(demoBlue, "    instanceType: m5.large\n", "    instanceTyp: m5.large\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	o := demoOptions("1.32", nil)
	o.Schema = mustSchema(t)
	_, _, err = Derive(context.Background(), blue, o)
	if err == nil || !strings.Contains(err.Error(), `demo-blue.yaml:27:5: managedNodeGroups[0].instanceTyp: unknown field "instanceTyp" (did you mean "instanceType"?)`) {
		t.Errorf("err = %v", err)
	}
	good, err := Parse("demo-blue.yaml", []byte(demoBlue))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Derive(context.Background(), good, o); err != nil {
		t.Errorf("valid blue: %v", err)
	}
}

func TestDeriveOptionsErrors(t *testing.T) {
	blue, err := Parse("demo-blue.yaml", []byte(demoBlue))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*DeriveOptions)
	}{
		{"no name", func(o *DeriveOptions) { o.Name = "" }},
		{"bad version", func(o *DeriveOptions) { o.Version = "2.0" }},
		{"no VPC", func(o *DeriveOptions) { o.Network.VPCID = "" }},
		{"no node subnets", func(o *DeriveOptions) { o.Network.Nodes = nil }},
		{"subnet without zone", func(o *DeriveOptions) { o.Network.ControlPlane[0].AZ = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := demoOptions("1.32", nil)
			tt.edit(&o)
			_, _, err := Derive(context.Background(), blue, o)
			var refused *RefusedError
			if err == nil || errors.As(err, &refused) {
				t.Errorf("err = %v, want a plain error", err)
			}
		})
	}
}

func TestAL2Specific(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"/etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--max-pods=20'", "calls /etc/eks/bootstrap.sh"},
		{"sed -i s/x/y/ /etc/docker/daemon.json", "configures Docker"},
		{"systemctl restart docker", "configures Docker"},
		{"amazon-linux-extras install epel -y", "uses amazon-linux-extras"},
		{"jq '.maxPods=20' /etc/kubernetes/kubelet/kubelet-config.json > /tmp/k", "edits the Amazon Linux 2 kubelet config file"},
		{"echo fs.inotify.max_user_watches=524288 >> /etc/sysctl.conf", ""},
		{"crictl pull docker.io/library/busybox", ""},
		{"yum install -y htop", ""},
	}
	for _, tt := range tests {
		if got := al2Specific(tt.cmd); got != tt.want {
			t.Errorf("al2Specific(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

func TestIsNodeConfig(t *testing.T) {
	if !isNodeConfig("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet: {}\n") {
		t.Error("a NodeConfig not recognised")
	}
	if isNodeConfig("#!/bin/bash\n/etc/eks/bootstrap.sh x\n") {
		t.Error("a shell script taken for a NodeConfig")
	}
}
