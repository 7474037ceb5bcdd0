package iamactions

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDerive(t *testing.T) {
	uses, err := Derive(t.Context(), Options{Root: filepath.Join("testdata", "good"), Exclude: []string{"excluded"}, ModuleDir: "."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range uses {
		got = append(got, u.Action+" "+u.Pos)
	}
	want := []string{
		"ec2:DescribeInstances calls.go:23",
		"ec2:DescribeSubnets calls.go:16",
		"eks:CreateNodegroup calls.go:20",
		"eks:DescribeCluster calls.go:25",                       // ClusterActive waiter
		"eks:DescribeNodegroup calls.go:26",                     // NodegroupDeleted waiter
		"elasticloadbalancing:DescribeTargetHealth calls.go:27", // TargetInService waiter
		"elasticloadbalancing:ModifyRule calls.go:21",
		"sts:GetCallerIdentity calls.go:32",
		"sts:GetCallerIdentity calls.go:34",
		"sts:GetCallerIdentity sub/presign.go:15",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Derive() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := Actions(uses); !slices.Equal(a, []string{"ec2:DescribeInstances", "ec2:DescribeSubnets", "eks:CreateNodegroup", "eks:DescribeCluster",
		"eks:DescribeNodegroup", "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:ModifyRule", "sts:GetCallerIdentity"}) {
		t.Errorf("Actions() = %v", a)
	}
}

func TestDeriveErrors(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{"badop", "bad.go:5: LaunchRocket is not an operation of the SDK's eks package"},
		{"badservice", "bad.go:5: service sso has no IAM prefix: add it to servicePrefix in terraform/internal/iamactions"},
		{"badwaiter", "bad.go:5: eks.NewRocketLaunchedWaiter is not a waiter of the SDK's eks package"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := Derive(t.Context(), Options{Root: filepath.Join("testdata", tt.dir), ModuleDir: "."})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Derive() error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFormatJSON(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "[]\n"},
		{[]string{"a:B", "c:D"}, "[\n  \"a:B\",\n  \"c:D\"\n]\n"},
	} {
		if got := string(FormatJSON(tt.in)); got != tt.want {
			t.Errorf("FormatJSON(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
