package clusters

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/eksbg/eksbg/internal/findings"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// fakeAddons answers DescribeAddonVersions from a table: addon name to the
// versions that run on each Kubernetes version, the first being the
// default.
type fakeAddons struct {
	versions map[string]map[string][]string
	calls    []string
}

var _ eks.DescribeAddonVersionsAPIClient = (*fakeAddons)(nil)

func (f *fakeAddons) DescribeAddonVersions(_ context.Context, in *eks.DescribeAddonVersionsInput, _ ...func(*eks.Options)) (*eks.DescribeAddonVersionsOutput, error) {
	name, k8s := aws.ToString(in.AddonName), aws.ToString(in.KubernetesVersion)
	f.calls = append(f.calls, name+"@"+k8s)
	out := &eks.DescribeAddonVersionsOutput{}
	vs := f.versions[name][k8s]
	if len(vs) == 0 {
		return out, nil
	}
	info := ekstypes.AddonInfo{AddonName: aws.String(name)}
	for i, v := range vs {
		info.AddonVersions = append(info.AddonVersions, ekstypes.AddonVersionInfo{
			AddonVersion:    aws.String(v),
			Compatibilities: []ekstypes.Compatibility{{ClusterVersion: aws.String(k8s), DefaultVersion: i == 0}},
		})
	}
	out.Addons = []ekstypes.AddonInfo{info}
	return out, nil
}

// conformanceAddons has a version of every addon eksctl's examples name
// for the versions the conformance test targets.
func conformanceAddons() *fakeAddons {
	f := &fakeAddons{versions: map[string]map[string][]string{}}
	for _, name := range []string{"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent", "aws-efs-csi-driver", "snapshot-controller", "metrics-server", "amazon-cloudwatch-observability", "aws-guardduty-agent", "aws-mountpoint-s3-csi-driver", "adot"} {
		f.versions[name] = map[string][]string{
			"1.31": {"v9.31.0-eksbuild.1"},
			"1.33": {"v9.33.0-eksbuild.1", "v9.32.0-eksbuild.1"},
		}
	}
	return f
}

// testNetwork is a network in region's zones a to f.
func testNetwork(region string) Network {
	n := Network{VPCID: "vpc-0green000000000", CIDR: "10.0.0.0/16"}
	for i, z := range []string{"a", "b", "c", "d", "e", "f"} {
		az := region + z
		n.Nodes = append(n.Nodes, NetworkSubnet{ID: fmt.Sprintf("subnet-0node%d", i), AZ: az, CIDR: fmt.Sprintf("10.0.%d.0/22", i*4)})
		n.ControlPlane = append(n.ControlPlane, NetworkSubnet{ID: fmt.Sprintf("subnet-0cp%d", i), AZ: az, CIDR: fmt.Sprintf("10.0.240.%d/28", i*16)})
		n.LoadBalancers = append(n.LoadBalancers, NetworkSubnet{ID: fmt.Sprintf("subnet-0lb%d", i), AZ: az, CIDR: fmt.Sprintf("10.0.%d.0/24", 200+i)})
	}
	return n
}

// exampleBlueSubnets describes subnets that eksctl's examples name by ID
// only, as DescribeSubnets would.
var exampleBlueSubnets = []NetworkSubnet{
	{ID: "subnet-0324095a4f2188967", AZ: "us-west-2a"},
	{ID: "subnet-083814b087bad140b", AZ: "us-west-2b"},
	{ID: "subnet-03a1260affe6f9944", AZ: "us-west-2c"},
	{ID: "subnet-00110ffa3ef259d0c", AZ: "us-west-2b"},
	{ID: "subnet-0a96e24163ef2c9c3", AZ: "us-west-2c"},
	{ID: "subnet-0f00000000000cidr", AZ: "us-west-2a", CIDR: "192.168.160.0/19"},
}

// TestConformance derives every eksctl example for two targets and checks
// each outcome: a green config that validates, places every node in the
// network, and differs from blue only in the fields eksbg owns; or a
// refusal naming the feature. testdata/conformance-1.NN.golden records the
// outcome of every file (go test -run TestConformance -update rewrites it).
func TestConformance(t *testing.T) {
	schema := mustSchema(t)
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 49 {
		t.Fatalf("%d examples, want 49", len(files))
	}
	for _, target := range []string{"1.31", "1.33"} {
		t.Run(target, func(t *testing.T) {
			var report bytes.Buffer
			derived, byFeature := 0, map[string]int{}
			for _, f := range files {
				name := filepath.Base(f)
				line := conformOne(t, schema, f, target)
				if strings.HasPrefix(line, "derived") {
					derived++
				} else {
					for _, feat := range strings.Split(strings.TrimPrefix(line, "refused: "), "; ") {
						byFeature[feat]++
					}
				}
				fmt.Fprintf(&report, "%s: %s\n", name, line)
			}
			fmt.Fprintf(&report, "\nderived %d, refused %d of %d\n", derived, len(files)-derived, len(files))
			feats := make([]string, 0, len(byFeature))
			for k := range byFeature {
				feats = append(feats, k)
			}
			sort.Strings(feats)
			for _, k := range feats {
				fmt.Fprintf(&report, "refused for %s: %d\n", k, byFeature[k])
			}
			t.Logf("target %s:\n%s", target, report.String())
			golden(t, filepath.Join("testdata", "conformance-"+target+".golden"), report.Bytes())
		})
	}
}

// conformOne derives one example and returns its outcome line.
func conformOne(t *testing.T, schema *Schema, file, target string) string {
	t.Helper()
	blue, err := Load(file)
	if err != nil {
		t.Errorf("%s does not load: %v", file, err)
		return "load error"
	}
	if err := schema.Validate(blue); err != nil {
		t.Errorf("%s: blue does not validate: %v", file, err)
	}
	spec, err := blue.Spec()
	if err != nil {
		t.Errorf("%s: %v", file, err)
		return "spec error"
	}
	net := testNetwork(spec.Region)
	green, fs, err := Derive(context.Background(), blue, DeriveOptions{
		Name: spec.Name + "-green", Version: target, BlueVersion: "1.30", Network: net,
		Tags:   map[string]string{TagEnvironment: "conformance", TagColor: "green"},
		Addons: conformanceAddons(), BlueSubnets: exampleBlueSubnets,
	})
	var refused *RefusedError
	if errors.As(err, &refused) {
		var feats []string
		for _, r := range refused.Refusals {
			if r.Feature == "" || r.Reason == "" {
				t.Errorf("%s: refusal without feature or reason: %+v", file, r)
			}
			if !slices.Contains(feats, r.Feature) {
				feats = append(feats, r.Feature)
			}
		}
		sort.Strings(feats)
		return "refused: " + strings.Join(feats, "; ")
	}
	if err != nil {
		t.Errorf("%s: %v", file, err)
		return "error"
	}
	if green.rewrites != 0 {
		t.Errorf("%s: %d edits were not spliced", file, green.rewrites)
	}
	if err := schema.Validate(green); err != nil {
		t.Errorf("%s: green does not validate: %v\n%s", file, err, green.Bytes())
	}
	checkOwnedOnly(t, file, blue, green)
	checkGreenSpec(t, file, green, target, net)
	for _, f := range fs {
		if f.Severity == findings.Fail {
			t.Errorf("%s: blocking finding: %s", file, f)
		}
	}
	return fmt.Sprintf("derived (%d findings)", len(fs))
}

// checkOwnedOnly compares blue and green with the fields eksbg owns left
// out: what remains must be equal. The list here is the test's own, kept
// apart from the code on purpose.
func checkOwnedOnly(t *testing.T, file string, blue, green *Config) {
	t.Helper()
	strip := func(c *Config) any {
		v, err := toJSON(c.root, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		m := v.(map[string]any)
		meta := m["metadata"].(map[string]any)
		delete(meta, "name")
		delete(meta, "version")
		if tags, ok := meta["tags"].(map[string]any); ok {
			delete(tags, TagEnvironment)
			delete(tags, TagColor)
			if len(tags) == 0 {
				delete(meta, "tags")
			}
		}
		if vpc, ok := m["vpc"].(map[string]any); ok {
			for _, k := range []string{"id", "cidr", "subnets", "controlPlaneSubnetIDs"} {
				delete(vpc, k)
			}
			if len(vpc) == 0 {
				delete(m, "vpc")
			}
		}
		delete(m, "availabilityZones")
		for _, list := range []string{"nodeGroups", "managedNodeGroups"} {
			items, _ := m[list].([]any)
			for _, it := range items {
				ng := it.(map[string]any)
				for _, k := range []string{"amiFamily", "ami", "releaseVersion", "subnets"} {
					delete(ng, k)
				}
			}
		}
		fps, _ := m["fargateProfiles"].([]any)
		for _, it := range fps {
			delete(it.(map[string]any), "subnets")
		}
		addons, _ := m["addons"].([]any)
		for _, it := range addons {
			delete(it.(map[string]any), "version")
		}
		return m
	}
	if b, g := strip(blue), strip(green); !reflect.DeepEqual(b, g) {
		t.Errorf("%s: green differs from blue outside eksbg's fields:\nblue:  %v\ngreen: %v", file, b, g)
	}
}

// checkGreenSpec checks the owned fields' new values.
func checkGreenSpec(t *testing.T, file string, green *Config, target string, net Network) {
	t.Helper()
	s, err := green.Spec()
	if err != nil {
		t.Errorf("%s: green: %v", file, err)
		return
	}
	if s.Version != target || !strings.HasSuffix(s.Name, "-green") || s.Tags[TagColor] != "green" || s.Tags[TagEnvironment] != "conformance" {
		t.Errorf("%s: green metadata: %s %s %v", file, s.Name, s.Version, s.Tags)
	}
	if s.VPC.ID != net.VPCID {
		t.Errorf("%s: green vpc.id %q", file, s.VPC.ID)
	}
	role := map[string]string{}
	for _, sn := range net.Nodes {
		role[sn.ID] = "private"
	}
	for _, sn := range net.LoadBalancers {
		role[sn.ID] = "public"
	}
	minor, _ := minorOf(target)
	for _, ng := range s.NodeGroups {
		subnets, err := s.NodeGroupSubnets(ng)
		if err != nil {
			t.Errorf("%s: green node group %s: %v", file, ng.Name, err)
			continue
		}
		want := "public"
		if ng.PrivateNetworking {
			want = "private"
		}
		if len(subnets) == 0 {
			t.Errorf("%s: green node group %s has no subnets", file, ng.Name)
		}
		for _, sn := range subnets {
			if role[sn.ID] != want {
				t.Errorf("%s: green node group %s placed in %+v, not a %s subnet of the network", file, ng.Name, sn, want)
			}
		}
		if strings.HasPrefix(ng.AMI, "ami-") || ng.ReleaseVersion != "" {
			t.Errorf("%s: green node group %s keeps a pinned AMI %q %q", file, ng.Name, ng.AMI, ng.ReleaseVersion)
		}
		if minor > al2LastMinor && strings.EqualFold(ng.AMIFamily, FamilyAL2) {
			t.Errorf("%s: green node group %s stays on Amazon Linux 2 at %s", file, ng.Name, target)
		}
	}
}

// golden compares got with the golden file at path, or rewrites it with
// -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
