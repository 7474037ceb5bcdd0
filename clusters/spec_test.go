package clusters

import (
	"path/filepath"
	"reflect"
	"testing"
)

func intp(i int) *int { return &i }

func TestSpec(t *testing.T) {
	tests := []struct {
		file string
		want func(t *testing.T, s *Spec)
	}{
		{"04-existing-vpc.yaml", func(t *testing.T, s *Spec) {
			wantEqual(t, "name", s.Name, "cluster-4")
			wantEqual(t, "region", s.Region, "eu-north-1")
			wantEqual(t, "vpc.id", s.VPC.ID, "vpc-0dd338ecf29863c55")
			wantEqual(t, "private", s.VPC.Private, []Subnet{
				{Key: "eu-north-1a", ID: "subnet-0b2512f8c6ae9bf30", AZ: "eu-north-1a", CIDR: "192.168.128.0/19"},
				{Key: "eu-north-1b", ID: "subnet-08cb9a2ed60394ce3", AZ: "eu-north-1b", CIDR: "192.168.64.0/19"},
				{Key: "eu-north-1c", ID: "subnet-00f71956cdec8f1dc", AZ: "eu-north-1c", CIDR: "192.168.0.0/19"},
			})
			wantEqual(t, "node groups", len(s.NodeGroups), 1)
			ng := s.NodeGroups[0]
			wantEqual(t, "ng", ng.Name, "ng-1")
			wantEqual(t, "types", ng.InstanceTypes, []string{"m5.xlarge"})
			wantEqual(t, "desired", ng.DesiredCapacity, intp(2))
			wantEqual(t, "private", ng.PrivateNetworking, true)
			wantEqual(t, "managed", ng.Managed, false)
			wantEqual(t, "path", ng.Path(), "nodeGroups[0]")
		}},
		{"08-spot-instances.yaml", func(t *testing.T, s *Spec) {
			ng := s.NodeGroups[0]
			wantEqual(t, "types", ng.InstanceTypes, []string{"t3.small", "t3.medium"})
			wantEqual(t, "spot", ng.Spot, true)
			wantEqual(t, "min", ng.MinSize, intp(2))
			wantEqual(t, "max", ng.MaxSize, intp(5))
			wantEqual(t, "desired", ng.DesiredCapacity, (*int)(nil))
		}},
		{"15-managed-nodes.yaml", func(t *testing.T, s *Spec) {
			wantEqual(t, "node groups", len(s.NodeGroups), 4)
			ng := s.NodeGroups[0]
			wantEqual(t, "managed", ng.Managed, true)
			wantEqual(t, "path", ng.Path(), "managedNodeGroups[0]")
			wantEqual(t, "azs", ng.AvailabilityZones, []string{"us-west-2a", "us-west-2b"})
			wantEqual(t, "labels", ng.Labels, map[string]string{"role": "worker"})
			wantEqual(t, "taints", ng.Taints, []Taint{{"key1", "value1", "NoSchedule"}, {"key2", "", "NoExecute"}})
			wantEqual(t, "ami", s.NodeGroups[2].AMI, "ami-custom")
			wantEqual(t, "amiFamily", s.NodeGroups[2].AMIFamily, "AmazonLinux2")
			wantEqual(t, "launch template", s.NodeGroups[3].LaunchTemplate, true)
		}},
		{"25-addons.yaml", func(t *testing.T, s *Spec) {
			wantEqual(t, "version", s.Version, "1.18")
			wantEqual(t, "addons", s.Addons, []Addon{{Name: "vpc-cni"}, {Name: "coredns", Version: "latest"}, {Name: "kube-proxy", Version: "latest"}, {Name: "aws-ebs-csi-driver"}})
		}},
		{"26-managed-nodegroup-spot-instances.yaml", func(t *testing.T, s *Spec) {
			for _, ng := range s.NodeGroups {
				if ng.Name == "spot" {
					wantEqual(t, "spot", ng.Spot, true)
					wantEqual(t, "types", ng.InstanceTypes, []string{"c3.large", "c4.large", "c5.large", "c5d.large", "c5n.large", "c5a.large"})
					return
				}
			}
			t.Error("no node group spot")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join(examplesDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.Spec()
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, s)
		})
	}
}

func TestSpecTaintMap(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: a, region: us-east-1}
nodeGroups:
  - name: ng
    taints:
      b: "x:NoSchedule"
      a: NoExecute
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Spec()
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "taints", s.NodeGroups[0].Taints, []Taint{{"a", "", "NoExecute"}, {"b", "x", "NoSchedule"}})
}

func TestNodeGroupSubnets(t *testing.T) {
	c, err := Load(filepath.Join(examplesDir, "24-nodegroup-subnets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Spec()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ng      NodeGroup
		want    []Subnet
		wantErr bool
	}{
		{ng: s.NodeGroups[0], want: []Subnet{{Key: "public-one", ID: "subnet-0324095a4f2188967"}, {Key: "public-two", ID: "subnet-083814b087bad140b"}}},
		{ng: s.NodeGroups[1], want: []Subnet{{Key: "private-one", CIDR: "192.168.160.0/19"}, {Key: "private-three", ID: "subnet-0a96e24163ef2c9c3"}}},
		{ng: NodeGroup{Name: "all-private", PrivateNetworking: true}, want: s.VPC.Private},
		{ng: NodeGroup{Name: "all-public"}, want: s.VPC.Public},
		{ng: NodeGroup{Name: "by-id", Subnets: []string{"subnet-elsewhere"}}, want: []Subnet{{ID: "subnet-elsewhere"}}},
		{ng: NodeGroup{Name: "private-in-public", Subnets: []string{"private-two"}}, wantErr: true},
		{ng: NodeGroup{Name: "no-zone", AvailabilityZones: []string{"us-west-2a"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.ng.Name, func(t *testing.T) {
			got, err := s.NodeGroupSubnets(tt.ng)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			wantEqual(t, "subnets", got, tt.want)
		})
	}

	c4, err := Load(filepath.Join(examplesDir, "04-existing-vpc.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s4, err := c4.Spec()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s4.NodeGroupSubnets(NodeGroup{Name: "zones", PrivateNetworking: true, AvailabilityZones: []string{"eu-north-1c", "eu-north-1a"}})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "by zone", got, []Subnet{s4.VPC.Private[2], s4.VPC.Private[0]})
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
