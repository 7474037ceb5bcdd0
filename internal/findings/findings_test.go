package findings

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Severity: Fail, Check: "removed-api", What: "uses extensions/v1beta1 Ingress", Where: Where{App: "web", Object: "extensions/v1beta1 Ingress default/web", File: "web.yaml:3"}, Fix: "use networking.k8s.io/v1"},
			"fail removed-api: web.yaml:3: web: extensions/v1beta1 Ingress default/web: uses extensions/v1beta1 Ingress (fix: use networking.k8s.io/v1)"},
		{Finding{Severity: Warn, Check: "ami", What: "pinned AMI dropped"}, "warn ami: pinned AMI dropped"},
		{Finding{What: "x"}, "info : x"},
		{Finding{Severity: Fail, Check: "cluster", Environment: "prod", Resource: "nodegroup/prod-blue/general", Field: "maxSize", Expected: "9", Actual: "12", Fix: "eksctl scale nodegroup"},
			"fail cluster: prod: nodegroup/prod-blue/general maxSize: expected 9, actual 12 (fix: eksctl scale nodegroup)"},
		{Finding{Severity: Warn, Check: "capacity", Where: Where{Object: "subnet subnet-1 (a)"}, What: "3 free addresses", Resource: "subnet/subnet-1", Field: "freeAddresses", Expected: "9 free", Actual: "3 free"},
			"warn capacity: subnet subnet-1 (a): subnet/subnet-1 freeAddresses: 3 free addresses"},
		{Finding{Severity: Fail, Check: "terraform", Resource: "aws_subnet.a", Actual: "plan would create"},
			"fail terraform: aws_subnet.a: expected , actual plan would create"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestSeverityJSON(t *testing.T) {
	for _, s := range []Severity{Info, Warn, Fail} {
		b, err := json.Marshal(Finding{Severity: s})
		if err != nil {
			t.Fatal(err)
		}
		var back Finding
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Severity != s {
			t.Errorf("%s round-tripped to %s via %s", s, back.Severity, b)
		}
	}
	b, _ := json.Marshal(Finding{Severity: Fail, Check: "c", What: "w"})
	if want := `{"severity":"fail","check":"c","what":"w","where":{}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	// The fields of a finding that compares are there only when set.
	b, _ = json.Marshal(Finding{Severity: Warn, Check: "cluster", Environment: "prod", Resource: "cluster/prod-blue", Field: "version", Expected: "1.33", Actual: "1.32"})
	if want := `{"severity":"warn","check":"cluster","what":"","where":{},"environment":"prod","resource":"cluster/prod-blue","field":"version","expected":"1.33","actual":"1.32"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var f Finding
	if err := json.Unmarshal([]byte(`{"severity":"bad"}`), &f); err == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := json.Marshal(Finding{Severity: 7}); err == nil {
		t.Error("out-of-range severity marshalled")
	}
}

func TestBlockingAndSort(t *testing.T) {
	fs := []Finding{
		{Severity: Info, Check: "b", What: "1"},
		{Severity: Fail, Check: "b", What: "2"},
		{Severity: Warn, Check: "a", What: "3"},
		{Severity: Fail, Check: "a", What: "4", Resource: "r"},
		{Severity: Fail, Check: "a", What: "4"},
	}
	if !Blocking(fs) {
		t.Error("not blocking with a fail")
	}
	if Blocking(fs[2:3]) || Blocking(nil) {
		t.Error("blocking without a fail")
	}
	Sort(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.What)
	}
	if want := []string{"4", "4", "2", "3", "1"}; !slices.Equal(got, want) || fs[0].Resource != "" || fs[1].Resource != "r" {
		t.Errorf("sorted %v (%+v), want %v, the one without a resource first", got, fs, want)
	}
}
