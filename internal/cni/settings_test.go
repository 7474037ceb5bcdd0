package cni

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseEnv follows the variable semantics of
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md.
func TestParseEnv(t *testing.T) {
	builtin := Settings{Mode: ModeSecondaryIP, SubnetDiscovery: true}
	tests := []struct {
		name string
		env  map[string]string
		want Settings
	}{
		{"nil", nil, builtin},
		{"empty values are unset", map[string]string{EnvWarmENITarget: "", EnvEnablePrefixDelegation: " "}, builtin},
		{"unrelated variables ignored", map[string]string{"AWS_VPC_K8S_CNI_LOGLEVEL": "DEBUG", "FOO": "x"}, builtin},
		{"everything", map[string]string{
			EnvCustomNetworkCfg:       "true",
			EnvEnablePrefixDelegation: "TRUE",
			EnvWarmENITarget:          "0",
			EnvWarmIPTarget:           "5",
			EnvMinimumIPTarget:        " 10 ",
			EnvWarmPrefixTarget:       "2",
			EnvMaxENI:                 "4",
			EnvEnablePodENI:           "1",
			EnvEnableSubnetDiscovery:  "false",
		}, Settings{
			Mode:             ModePrefixDelegation,
			WarmENITarget:    Ptr(0),
			WarmIPTarget:     Ptr(5),
			MinimumIPTarget:  Ptr(10),
			WarmPrefixTarget: Ptr(2),
			MaxENI:           Ptr(4),
			CustomNetworking: true,
			PodENI:           true,
			SubnetDiscovery:  false,
		}},
		{"prefix delegation off", map[string]string{EnvEnablePrefixDelegation: "false"}, builtin},
		// README: MAX_ENI "unset or 0 (or lower)" is not used.
		{"MAX_ENI=0", map[string]string{EnvMaxENI: "0"}, builtin},
		{"MAX_ENI=-1", map[string]string{EnvMaxENI: "-1"}, builtin},
		// README: a non-positive WARM_PREFIX_TARGET is the same as 0.
		{"WARM_PREFIX_TARGET=-3", map[string]string{EnvWarmPrefixTarget: "-3"},
			Settings{Mode: ModeSecondaryIP, SubnetDiscovery: true, WarmPrefixTarget: Ptr(0)}},
		{"WARM_IP_TARGET=0 is kept", map[string]string{EnvWarmIPTarget: "0"},
			Settings{Mode: ModeSecondaryIP, SubnetDiscovery: true, WarmIPTarget: Ptr(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEnv(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseEnv = %s, want %s", dump(got), dump(tc.want))
			}
		})
	}
}

func TestParseEnvErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{EnvEnablePrefixDelegation: "yes"}, []string{`ENABLE_PREFIX_DELEGATION="yes": not a boolean`}},
		{map[string]string{EnvCustomNetworkCfg: "on"}, []string{"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"}},
		{map[string]string{EnvEnablePodENI: "maybe"}, []string{"ENABLE_POD_ENI"}},
		{map[string]string{EnvEnableSubnetDiscovery: "2"}, []string{"ENABLE_SUBNET_DISCOVERY"}},
		{map[string]string{EnvWarmENITarget: "one"}, []string{`WARM_ENI_TARGET="one": not an integer`}},
		{map[string]string{EnvWarmENITarget: "-1"}, []string{"WARM_ENI_TARGET=-1: must not be negative"}},
		{map[string]string{EnvWarmIPTarget: "-2"}, []string{"WARM_IP_TARGET=-2"}},
		{map[string]string{EnvMinimumIPTarget: "1.5"}, []string{"MINIMUM_IP_TARGET"}},
		{map[string]string{EnvWarmPrefixTarget: "x"}, []string{"WARM_PREFIX_TARGET"}},
		{map[string]string{EnvMaxENI: "lots"}, []string{"MAX_ENI"}},
		// Every bad value is reported.
		{map[string]string{EnvWarmIPTarget: "a", EnvMinimumIPTarget: "b", EnvEnablePodENI: "c"},
			[]string{"WARM_IP_TARGET", "MINIMUM_IP_TARGET", "ENABLE_POD_ENI"}},
	}
	for _, tc := range tests {
		s, err := ParseEnv(tc.env)
		if err == nil {
			t.Errorf("ParseEnv(%v) = %s, want error", tc.env, dump(s))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseEnv(%v) error %q lacks %q", tc.env, err, w)
			}
		}
		if !reflect.DeepEqual(s, Settings{}) {
			t.Errorf("ParseEnv(%v) returned settings with an error: %s", tc.env, dump(s))
		}
	}
}

func TestEnvRoundTrip(t *testing.T) {
	for _, s := range []Settings{
		DefaultSettings(),
		{Mode: ModeSecondaryIP, SubnetDiscovery: true},
		{Mode: ModePrefixDelegation, WarmIPTarget: Ptr(0), MinimumIPTarget: Ptr(20), WarmPrefixTarget: Ptr(1), MaxENI: Ptr(3), CustomNetworking: true, PodENI: true},
		{Mode: ModeSecondaryIP, WarmENITarget: Ptr(0), WarmIPTarget: Ptr(2)},
	} {
		got, err := ParseEnv(s.Env())
		if err != nil {
			t.Fatalf("ParseEnv(%v): %v", s.Env(), err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip of %s gave %s", dump(s), dump(got))
		}
	}
	want := map[string]string{
		EnvCustomNetworkCfg:       "false",
		EnvEnablePrefixDelegation: "false",
		EnvEnablePodENI:           "false",
		EnvEnableSubnetDiscovery:  "true",
		EnvWarmENITarget:          "1",
		EnvWarmPrefixTarget:       "1",
	}
	if got := DefaultSettings().Env(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultSettings().Env() = %v, want %v", got, want)
	}
}

func TestSettingsHelpers(t *testing.T) {
	tests := []struct {
		s                  Settings
		pd, ipTargets      bool
		warmENI, warmPrefx int
	}{
		{Settings{}, false, false, 1, 0},
		{DefaultSettings(), false, false, 1, 1},
		{Settings{WarmENITarget: Ptr(0)}, false, false, 0, 0},
		{Settings{WarmIPTarget: Ptr(0), MinimumIPTarget: Ptr(0)}, false, false, 1, 0},
		{Settings{WarmIPTarget: Ptr(1)}, false, true, 1, 0},
		{Settings{MinimumIPTarget: Ptr(3)}, false, true, 1, 0},
		{Settings{Mode: ModePrefixDelegation, WarmPrefixTarget: Ptr(4)}, true, false, 1, 4},
		{Settings{WarmENITarget: Ptr(1 << 40)}, false, false, maxTarget, 0},
	}
	for _, tc := range tests {
		if got := tc.s.PrefixDelegation(); got != tc.pd {
			t.Errorf("%s PrefixDelegation = %t", dump(tc.s), got)
		}
		if got := tc.s.IPTargetsDefined(); got != tc.ipTargets {
			t.Errorf("%s IPTargetsDefined = %t", dump(tc.s), got)
		}
		if got := tc.s.EffectiveWarmENITarget(); got != tc.warmENI {
			t.Errorf("%s EffectiveWarmENITarget = %d, want %d", dump(tc.s), got, tc.warmENI)
		}
		if got := tc.s.EffectiveWarmPrefixTarget(); got != tc.warmPrefx {
			t.Errorf("%s EffectiveWarmPrefixTarget = %d, want %d", dump(tc.s), got, tc.warmPrefx)
		}
	}
	if err := (Settings{Mode: "bogus", WarmENITarget: Ptr(-1), WarmPrefixTarget: Ptr(-1)}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "WARM_ENI_TARGET") || !strings.Contains(err.Error(), "WARM_PREFIX_TARGET") {
		t.Errorf("Validate: %v", err)
	}
	if err := (Settings{MaxENI: Ptr(-5)}).Validate(); err != nil {
		t.Errorf("MAX_ENI<1 is legal (unset): %v", err)
	}
}

// dump prints Settings with pointer fields dereferenced.
func dump(s Settings) string {
	var b strings.Builder
	b.WriteString("{Mode:" + string(s.Mode))
	for _, f := range []struct {
		n string
		p *int
	}{{"W", s.WarmENITarget}, {"w", s.WarmIPTarget}, {"m", s.MinimumIPTarget}, {"p", s.WarmPrefixTarget}, {"MAX_ENI", s.MaxENI}} {
		b.WriteString(" " + f.n + ":")
		if f.p == nil {
			b.WriteString("nil")
		} else {
			b.WriteString(itoa(*f.p))
		}
	}
	for _, f := range []struct {
		n string
		v bool
	}{{"CN", s.CustomNetworking}, {"PodENI", s.PodENI}, {"SD", s.SubnetDiscovery}} {
		if f.v {
			b.WriteString(" " + f.n)
		}
	}
	return b.String() + "}"
}
