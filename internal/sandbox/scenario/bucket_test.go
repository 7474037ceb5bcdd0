package scenario

import (
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	for _, tt := range []struct {
		name string
		want string // "" when valid
	}{
		{"eksbg-state", ""},
		{"my.state.bucket-01", ""},
		{"abc", ""},
		{strings.Repeat("a", 63), ""},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"Eksbg-State", "lower-case"},
		{"-state", "starting and ending"},
		{"state-", "starting and ending"},
		{"state_bucket", "3 to 63"},
		{"my..bucket", "adjacent periods"},
		{"192.168.5.4", "IP address"},
		{"xn--state", "reserved"},
		{"sthree-state", "reserved"},
		{"amzn-s3-demo-bucket", "reserved"},
		{"state-s3alias", "reserved"},
		{"state--ol-s3", "reserved"},
		{"state.mrap", "reserved"},
		{"state--x-s3", "reserved"},
		{"state--table-s3", "reserved"},
	} {
		err := ValidateBucketName(tt.name)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}

func TestParseBuckets(t *testing.T) {
	s, err := Parse("s.yaml", []byte(minimal+"buckets:\n  - name: eksbg-state\n  - name: other.bucket\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Buckets) != 2 || s.Buckets[0].Name != "eksbg-state" || s.Buckets[1].Name != "other.bucket" {
		t.Fatalf("buckets = %+v", s.Buckets)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"buckets:\n  - name: Bad_Name\n", `s.yaml:12:11: buckets[0].name: bucket name "Bad_Name" must be 3 to 63`},
		{"buckets:\n  - name: dup\n  - name: dup\n", `s.yaml:13:11: buckets[1].name: duplicate bucket "dup"`},
		{"buckets:\n  - nmae: x\n", `unknown field "nmae"`},
	} {
		_, err := Parse("s.yaml", []byte(minimal+tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
