package emulator_test

import (
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// eventLog records what a subscriber hears.
type eventLog struct {
	mu     sync.Mutex
	events []emulator.Event
}

func (l *eventLog) add(e emulator.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) has(kind emulator.EventKind, cluster string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.events, func(e emulator.Event) bool { return e.Kind == kind && e.Cluster == cluster })
}

// With control planes attached, a cluster stays CREATING past its creation
// time until its control plane publishes an endpoint and CA; then
// DescribeCluster returns them (the CA as base64 PEM) and subscribers hear
// ClusterActive.
func TestControlPlaneHoldsCreationUntilReady(t *testing.T) {
	e := startEKS(t)
	var log eventLog
	unsubscribe := e.Server.Subscribe(log.add)
	defer unsubscribe()
	e.Server.HoldForControlPlanes(true)

	e.createCluster(t, "held", "1.33")
	e.clock.Advance(61 * time.Second)
	if st := e.describeCluster(t, "held").Status; st != types.ClusterStatusCreating {
		t.Fatalf("held cluster is %s past its creation time, want CREATING", st)
	}
	if log.has(emulator.EventClusterActive, "held") {
		t.Fatal("ClusterActive delivered while the control plane was not ready")
	}
	var view emulator.ControlPlaneCluster
	for _, c := range e.Server.ControlPlaneClusters() {
		if c.Name == "held" {
			view = c
		}
	}
	if view.Status != emulator.StatusCreating || view.Ready || view.ServiceCIDR == "" || view.OIDCIssuer == "" {
		t.Fatalf("control-plane view of a held cluster: %+v", view)
	}
	// EKS installs vpc-cni, coredns and kube-proxy in every cluster: with no
	// add-on, at the catalog's default versions for 1.33.
	for name, want := range map[string]string{"vpc-cni": "v1.19.5-eksbuild.1", "coredns": "v1.12.1-eksbuild.2", "kube-proxy": "v1.33.3-eksbuild.4"} {
		if got := view.SelfManaged[name]; got != want {
			t.Errorf("self-managed %s at %q, want %q", name, got, want)
		}
	}
	if len(view.ControlPlaneIPs) < 2 {
		t.Errorf("control-plane ENI addresses %v, want one per AZ", view.ControlPlaneIPs)
	}

	caPEM := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	if err := e.Server.SetControlPlane("held", "https://127.0.0.1:40001", caPEM); err != nil {
		t.Fatal(err)
	}
	c := e.describeCluster(t, "held")
	if c.Status != types.ClusterStatusActive {
		t.Fatalf("cluster is %s once its control plane is ready, want ACTIVE", c.Status)
	}
	if aws.ToString(c.Endpoint) != "https://127.0.0.1:40001" {
		t.Errorf("endpoint %q", aws.ToString(c.Endpoint))
	}
	got, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil || string(got) != string(caPEM) {
		t.Errorf("certificateAuthority.data decodes to %q (%v), want the CA PEM", got, err)
	}
	if !log.has(emulator.EventClusterActive, "held") {
		t.Error("subscriber did not hear ClusterActive")
	}
	if err := e.Server.SetControlPlane("missing", "https://127.0.0.1:1", caPEM); err == nil {
		t.Error("SetControlPlane of a missing cluster succeeded")
	}
}

// Without control planes attached (the bare emulator), creation is timed
// as before; a control plane that fails marks its cluster FAILED, which
// DeleteCluster then removes.
func TestControlPlaneNoHoldAndFailure(t *testing.T) {
	e := startEKS(t)
	e.activeCluster(t, "free", "1.33")

	e.Server.HoldForControlPlanes(true)
	e.createCluster(t, "broken", "1.33")
	e.Server.FailControlPlane("broken")
	if st := e.describeCluster(t, "broken").Status; st != types.ClusterStatusFailed {
		t.Fatalf("cluster is %s after its control plane failed, want FAILED", st)
	}
	if _, err := e.eks.DeleteCluster(context.Background(), &eks.DeleteClusterInput{Name: aws.String("broken")}); err != nil {
		t.Fatalf("deleting a FAILED cluster: %v", err)
	}
}

// Every pod address the control-plane view lists for an instance is held
// by one of its ENIs (DescribeNetworkInterfaces agrees), in the ENI's
// subnet, and is not an ENI's primary address; with prefix delegation the
// 16 addresses of each /28 prefix count. Max pods follows the EKS AMI.
func TestControlPlaneInstancePodIPs(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		maxPods int // m5.large: 3 ENIs x 10 addresses
	}{
		{"secondary-ip", 29},       // 3*(10-1)+2
		{"prefix-delegation", 110}, // min(3*9*16+2, 110)
	} {
		t.Run(tc.mode, func(t *testing.T) {
			env := sandboxtest.StartYAML(t, eksScenario+`
clusters:
  - name: ips
    version: "1.33"
    subnets: [subnet-0e150000000000a02, subnet-0e150000000000b02, subnet-0e150000000000c02]
    cni: {mode: `+tc.mode+`}
    nodegroups:
      - {name: ng, instanceType: m5.large, desired: 3, min: 1, max: 3,
         subnets: [subnet-0e150000000000a01, subnet-0e150000000000b01, subnet-0e150000000000c01]}
`)
			clusters := env.Server.ControlPlaneClusters()
			if len(clusters) != 1 || len(clusters[0].Nodegroups) != 1 {
				t.Fatalf("control-plane view: %+v", clusters)
			}
			ng := clusters[0].Nodegroups[0]
			if len(ng.Instances) != 3 {
				t.Fatalf("%d instances, want 3", len(ng.Instances))
			}
			out, err := ec2.NewFromConfig(env.AWS).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{})
			if err != nil {
				t.Fatal(err)
			}
			for _, inst := range ng.Instances {
				if inst.MaxPods != tc.maxPods {
					t.Errorf("%s: max pods %d, want %d", inst.ID, inst.MaxPods, tc.maxPods)
				}
				held := map[string]bool{}
				for _, ni := range out.NetworkInterfaces {
					if ni.Attachment == nil || aws.ToString(ni.Attachment.InstanceId) != inst.ID {
						continue
					}
					for _, a := range ni.PrivateIpAddresses {
						if !aws.ToBool(a.Primary) {
							held[aws.ToString(a.PrivateIpAddress)] = true
						}
					}
					for _, p := range ni.Ipv4Prefixes {
						pfx := netip.MustParsePrefix(aws.ToString(p.Ipv4Prefix))
						for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
							held[a.String()] = true
						}
					}
				}
				if len(inst.PodIPs) == 0 || len(inst.PodIPs) != len(held) {
					t.Errorf("%s: %d pod addresses, its ENIs hold %d", inst.ID, len(inst.PodIPs), len(held))
				}
				for _, ip := range inst.PodIPs {
					if !held[ip] {
						t.Errorf("%s: pod address %s is not held by its ENIs", inst.ID, ip)
					}
				}
			}
		})
	}
}
