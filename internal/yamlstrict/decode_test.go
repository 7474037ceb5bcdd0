package yamlstrict

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type testGates struct {
	MaxRate *float64       `yaml:"maxRate,omitempty"`
	Latency *time.Duration `yaml:"latency,omitempty"`
}

type testTraffic struct {
	Steps    []int         `yaml:"steps,omitempty"`
	BakeTime time.Duration `yaml:"bakeTime"`
	Gates    testGates     `yaml:"gates"`
}

type testMeta struct {
	Owner string `yaml:"owner"`
}

type testEnv struct {
	testMeta `yaml:",inline"`
	Name     string            `yaml:"name"`
	Enabled  bool              `yaml:"enabled"`
	Replicas uint8             `yaml:"replicas"`
	Traffic  *testTraffic      `yaml:"traffic"`
	Labels   map[string]string `yaml:"labels"`
	Quotas   map[string]int    `yaml:"quotas"`
	Extra    any               `yaml:"extra"`
	Color    testColor         `yaml:"color"`
	Internal string            `yaml:"-"`
}

type testProject struct {
	APIVersion   string    `yaml:"apiVersion"`
	Environments []testEnv `yaml:"environments"`
}

// testColor decodes itself and accepts only blue or green.
type testColor string

func (c *testColor) UnmarshalYAML(n *yaml.Node) error {
	if n.Value != "blue" && n.Value != "green" {
		return fmt.Errorf("color must be blue or green, got %q", n.Value)
	}
	*c = testColor(n.Value)
	return nil
}

func TestDecodeValid(t *testing.T) {
	src := `apiVersion: v1
environments:
  - name: prod
    owner: team-a
    enabled: true
    replicas: 3
    color: green
    traffic: &t
      steps: [10, 50, 100]
      bakeTime: 5m
      gates:
        maxRate: 1.5
        latency: 500ms
    labels: {a: b}
    quotas:
      ec2/L-1216C47A: 64
    extra: {anything: [1, 2]}
  - name: dev
    traffic: *t
    labels:
      <<: {x: "1"}
      y: "2"
`
	var p testProject
	doc, err := Decode("eksbg.yaml", []byte(src), &p)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	rate, lat := 1.5, 500*time.Millisecond
	tr := &testTraffic{Steps: []int{10, 50, 100}, BakeTime: 5 * time.Minute, Gates: testGates{MaxRate: &rate, Latency: &lat}}
	want := testProject{APIVersion: "v1", Environments: []testEnv{
		{testMeta: testMeta{Owner: "team-a"}, Name: "prod", Enabled: true, Replicas: 3, Color: "green", Traffic: tr,
			Labels: map[string]string{"a": "b"}, Quotas: map[string]int{"ec2/L-1216C47A": 64},
			Extra: map[string]any{"anything": []any{1, 2}}},
		{Name: "dev", Traffic: tr, Labels: map[string]string{"x": "1", "y": "2"}},
	}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
	for path, pos := range map[string]string{
		"environments[0].traffic.steps[1]":         "eksbg.yaml:9:19",
		"environments[0].traffic":                  "eksbg.yaml:8:5",
		"environments[0].traffic.gates.missing":    "eksbg.yaml:11:7",
		`environments[0].quotas["ec2/L-1216C47A"]`: "eksbg.yaml:16:23",
		"environments[1].traffic.bakeTime":         "eksbg.yaml:10:17", // via the alias
		"environments[1].labels.x":                 "eksbg.yaml:21:15", // via the merge key
		"environments[5].name":                     "eksbg.yaml:2:1",
		"nope[0]":                                  "eksbg.yaml:1:1",
		"":                                         "eksbg.yaml:1:1",
	} {
		want := pos + ": " + path + ": msg 7"
		if path == "" {
			want = pos + ": msg 7"
		}
		if got := doc.Errorf(path, "msg %d", 7).Error(); got != want {
			t.Errorf("Errorf(%q) = %q, want %q", path, got, want)
		}
	}
	if !doc.Has("environments[1].labels.y") || doc.Has("environments[1].owner") {
		t.Error("Has gives wrong answers")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"syntax error", "environments:\n  - name: a\n    bad: [1, 2\n", []string{
			"eksbg.yaml:3: did not find expected ',' or ']'"}},
		{"syntax error on line 1", "apiVersion: a: b\n", []string{
			"eksbg.yaml:1: mapping values are not allowed in this context"}},
		{"tab indentation", "environments:\n\t- name: a\n", []string{
			"eksbg.yaml:2: found character that cannot start any token"}},
		{"invalid utf-8", "apiVersion: v1\nenvironments: \xff\n", []string{
			"eksbg.yaml:2: invalid leading UTF-8 octet"}},
		{"empty", "", []string{"eksbg.yaml: document is empty"}},
		{"only comments", "# nothing\n\n", []string{"eksbg.yaml: document is empty"}},
		{"null document", "---\n~\n", []string{"eksbg.yaml:2:1: document is empty"}},
		{"multiple documents", "apiVersion: v1\n---\napiVersion: v2\n", []string{
			"eksbg.yaml:2:1: a second YAML document starts here; the file must hold exactly one document (remove the '---' separator)"}},
		{"unknown field at top", "apiVersion: v1\nkind: Project\n", []string{
			`eksbg.yaml:2:1: kind: unknown field "kind" (expected one of: apiVersion, environments)`}},
		{"unknown fields deep", "environments:\n  - name: a\n    traffic:\n      steps2: [1]\n      gates: {maxrate: 1}\n", []string{
			`eksbg.yaml:4:7: environments[0].traffic.steps2: unknown field "steps2" (expected one of: steps, bakeTime, gates)`,
			`eksbg.yaml:5:15: environments[0].traffic.gates.maxrate: unknown field "maxrate" (expected one of: maxRate, latency)`}},
		{"wrong scalar types", "environments:\n  - name: a\n    enabled: yes\n    replicas: abc\n    traffic:\n      steps: [10, \"25\", 1.5]\n      gates:\n        maxRate: high\n", []string{
			`eksbg.yaml:3:14: environments[0].enabled: expected boolean (true or false), got "yes"`,
			`eksbg.yaml:4:15: environments[0].replicas: expected integer, got "abc"`,
			`eksbg.yaml:6:19: environments[0].traffic.steps[1]: expected integer, got "25"`,
			`eksbg.yaml:6:25: environments[0].traffic.steps[2]: expected integer, got 1.5`,
			`eksbg.yaml:8:18: environments[0].traffic.gates.maxRate: expected number, got "high"`}},
		{"integer out of range", "environments:\n  - replicas: 300\n  - replicas: -1\n", []string{
			`eksbg.yaml:2:15: environments[0].replicas: expected integer between 0 and 255, got 300`,
			`eksbg.yaml:3:15: environments[1].replicas: expected integer between 0 and 255, got -1`}},
		{"bad durations", "environments:\n  - traffic:\n      bakeTime: 300\n      gates: {latency: fast}\n", []string{
			`eksbg.yaml:3:17: environments[0].traffic.bakeTime: expected duration such as "30s", "5m" or "1h30m", got 300`,
			`eksbg.yaml:4:24: environments[0].traffic.gates.latency: expected duration such as "30s", "5m" or "1h30m", got "fast"`}},
		{"wrong kinds", "environments:\n  name: a\n", []string{
			`eksbg.yaml:1:1: environments: expected sequence, got mapping`}},
		{"sequence for mapping", "environments:\n  - traffic:\n      - 10\n    labels: [a]\n    name: {a: b}\n", []string{
			`eksbg.yaml:2:5: environments[0].traffic: expected mapping, got sequence`,
			`eksbg.yaml:4:13: environments[0].labels: expected mapping, got sequence`,
			`eksbg.yaml:5:11: environments[0].name: expected string, got mapping`}},
		{"root not a mapping", "- a\n- b\n", []string{
			`eksbg.yaml:1:1: expected mapping, got sequence`}},
		{"duplicate keys", "apiVersion: v1\nenvironments:\n  - name: a\n    labels:\n      x: \"1\"\n      x: \"2\"\n    name: b\napiVersion: v2\n", []string{
			`eksbg.yaml:6:7: environments[0].labels.x: duplicate key "x" (first defined at line 5)`,
			`eksbg.yaml:7:5: environments[0].name: duplicate key "name" (first defined at line 3)`,
			`eksbg.yaml:8:1: apiVersion: duplicate key "apiVersion" (first defined at line 1)`}},
		{"self-decoding type", "environments:\n  - color: red\n", []string{
			`eksbg.yaml:2:12: environments[0].color: color must be blue or green, got "red"`}},
		{"quoted map key in path", "environments:\n  - quotas:\n      ec2/L-1216C47A: lots\n", []string{
			`eksbg.yaml:3:23: environments[0].quotas["ec2/L-1216C47A"]: expected integer, got "lots"`}},
		{"unknown anchor", "environments:\n  - name: a\n  - *nope\n", []string{
			`eksbg.yaml:3: unknown anchor 'nope' referenced`}},
		{"bad merge", "environments:\n  - <<: [1]\n", []string{
			`eksbg.yaml:2:10: environments[0]: merge key "<<" expects a mapping or a sequence of mappings, got 1`}},
		{"unknown field via merge", "environments:\n  - <<: {nam: x}\n", []string{
			`eksbg.yaml:2:10: environments[0].nam: unknown field "nam" (expected one of: owner, name, enabled, replicas, traffic, labels, quotas, extra, color)`}},
		{"recursive alias", "environments: &e\n  - traffic:\n      steps: *e\n", []string{
			`eksbg.yaml:2:5: environments[0].traffic.steps[0]: expected integer, got mapping`}},
		{"non-scalar key", "environments:\n  - ? [a]\n    : b\n", []string{
			`eksbg.yaml:2:7: environments[0]: expected a scalar key, got sequence`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p testProject
			_, err := Decode("eksbg.yaml", []byte(tt.src), &p)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Decode error = %v (%T), want Errors", err, err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !reflect.DeepEqual(p, testProject{}) {
				t.Errorf("out was modified on error: %+v", p)
			}
		})
	}
}

func TestDecodeBadOut(t *testing.T) {
	for _, out := range []any{nil, testProject{}, (*testProject)(nil)} {
		if _, err := Decode("f.yaml", []byte("a: 1"), out); err == nil {
			t.Errorf("Decode(%T) succeeded", out)
		}
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	var out map[string]any
	if _, err := Decode("bomb.yaml", []byte(b.String()), &out); err == nil {
		t.Fatal("alias bomb decoded without error")
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{"eksbg.yaml", 12, 5, "environments[0].traffic.steps[1]", "must be between 1 and 100"},
			"eksbg.yaml:12:5: environments[0].traffic.steps[1]: must be between 1 and 100"},
		{FieldError{"eksbg.yaml", 3, 0, "", "bad"}, "eksbg.yaml:3: bad"},
		{FieldError{"eksbg.yaml", 0, 7, "a.b", "bad"}, "eksbg.yaml: a.b: bad"},
		{FieldError{"", 0, 0, "", "bad"}, "bad"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	es := Errors{{File: "f", Line: 2, Msg: "b"}, {File: "f", Line: 1, Msg: "a"}}
	es.Sort()
	if got := es.Error(); got != "f:1: a\nf:2: b" {
		t.Errorf("Errors.Error() = %q", got)
	}
	var fe *FieldError
	if !errors.As(error(es), &fe) || fe.Msg != "a" {
		t.Errorf("errors.As did not find the first FieldError")
	}
}

func TestJoinKey(t *testing.T) {
	for _, tt := range [][3]string{
		{"", "environments", "environments"},
		{"a", "b_c-1", "a.b_c-1"},
		{"quotas", "ec2/L-1216C47A", `quotas["ec2/L-1216C47A"]`},
		{"labels", "a.b", `labels["a.b"]`},
		{"labels", "", `labels[""]`},
	} {
		if got := JoinKey(tt[0], tt[1]); got != tt[2] {
			t.Errorf("JoinKey(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: v1\nenvironments:\n  - name: prod\n    traffic: {steps: [10, 100], bakeTime: 5m}\n",
		"environments:\n  - &e {name: a}\n  - <<: *e\n    quotas: {ec2/x: 1}\n",
		"a: &a [*a]\n",
		"---\na: 1\n---\nb: 2\n",
		"environments: [{replicas: 300, enabled: yes, color: red}]\n",
		"? [a]\n: b\n",
		"environments:\n\t- x\n",
		"!!binary aGVsbG8=\n",
		"environments: [{traffic: {gates: {latency: !!int 5}}}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p testProject
		doc, err := Decode("fuzz.yaml", data, &p)
		if err == nil {
			_ = doc.Errorf("environments[0].traffic.steps[0]", "x").Error()
			return
		}
		errs, ok := err.(Errors)
		if !ok || len(errs) == 0 {
			t.Fatalf("error is %T %q, want non-empty Errors", err, err)
		}
		for _, e := range errs {
			if e == nil || e.Line <= 0 && e.Msg == "" {
				t.Fatalf("entry without line or message: %#v", e)
			}
		}
	})
}
