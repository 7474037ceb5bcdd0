package cni

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mode is the VPC CNI's IPv4 address-assignment mode, selected by
// ENABLE_PREFIX_DELEGATION.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md#enable_prefix_delegation-v190
type Mode string

const (
	// ModeSecondaryIP assigns individual secondary private IPv4 addresses to
	// ENIs (ENABLE_PREFIX_DELEGATION=false, the default). The zero Mode ""
	// means the same thing.
	//
	// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
	ModeSecondaryIP Mode = "secondary-ip"

	// ModePrefixDelegation assigns /28 IPv4 prefixes to ENIs
	// (ENABLE_PREFIX_DELEGATION=true). Nitro instances only.
	//
	// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
	ModePrefixDelegation Mode = "prefix-delegation"
)

// Names of the aws-node environment variables that ParseEnv reads and
// Settings.Env writes.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md
const (
	EnvCustomNetworkCfg       = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"
	EnvEnablePrefixDelegation = "ENABLE_PREFIX_DELEGATION"
	EnvWarmENITarget          = "WARM_ENI_TARGET"
	EnvWarmIPTarget           = "WARM_IP_TARGET"
	EnvMinimumIPTarget        = "MINIMUM_IP_TARGET"
	EnvWarmPrefixTarget       = "WARM_PREFIX_TARGET"
	EnvMaxENI                 = "MAX_ENI"
	EnvEnablePodENI           = "ENABLE_POD_ENI"
	EnvEnableSubnetDiscovery  = "ENABLE_SUBNET_DISCOVERY"
)

// DefaultWarmENITarget is ipamd's WARM_ENI_TARGET when the variable is unset.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md#warm_eni_target
const DefaultWarmENITarget = 1

// Settings are the VPC CNI's allocation knobs, i.e. the aws-node DaemonSet's
// environment. A nil pointer means "unset", which is not always the same as
// zero (WARM_ENI_TARGET=0 is legal and differs from the default of 1).
//
// Semantics follow ipamd (see
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md and
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md):
//   - WarmENITarget nil means 1.
//   - WarmIPTarget / MinimumIPTarget: the "IP target" mode is active only when
//     at least one of them is set to a value > 0; ipamd treats 0 exactly like
//     unset (its warmIPTargetsDefined check is "!= 0"), so setting both to 0
//     falls back to WARM_ENI_TARGET / WARM_PREFIX_TARGET.
//   - WarmPrefixTarget nil means 0 (the README: "Setting to a non-positive
//     value is same as setting this to 0 or not setting the variable"). The
//     EKS add-on and Helm chart ship WARM_PREFIX_TARGET=1; see DefaultSettings.
//   - MaxENI nil, or a value < 1, means the instance type's limit (README:
//     "When MAX_ENI is unset or 0 (or lower), the setting is not used").
//   - SubnetDiscovery defaults to true in ipamd. It only chooses which of the
//     node's subnets secondary ENIs land in, so it does not change any count
//     in this model.
type Settings struct {
	// Mode is the address-assignment mode ("" means ModeSecondaryIP).
	Mode Mode
	// WarmENITarget is WARM_ENI_TARGET (nil: 1).
	WarmENITarget *int
	// WarmIPTarget is WARM_IP_TARGET (nil or 0: unset).
	WarmIPTarget *int
	// MinimumIPTarget is MINIMUM_IP_TARGET (nil or 0: unset).
	MinimumIPTarget *int
	// WarmPrefixTarget is WARM_PREFIX_TARGET (nil: 0).
	WarmPrefixTarget *int
	// MaxENI is MAX_ENI (nil or < 1: the instance limit).
	MaxENI *int
	// CustomNetworking is AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG.
	CustomNetworking bool
	// PodENI is ENABLE_POD_ENI (security groups for pods).
	PodENI bool
	// SubnetDiscovery is ENABLE_SUBNET_DISCOVERY (ipamd default true).
	SubnetDiscovery bool
}

// Ptr returns a pointer to v, for filling the optional fields of Settings
// (the integer variables of
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md).
func Ptr(v int) *int { return &v }

// DefaultSettings returns the settings that the Amazon VPC CNI EKS add-on and
// Helm chart install: secondary-IP mode, WARM_ENI_TARGET=1,
// WARM_PREFIX_TARGET=1, ENABLE_SUBNET_DISCOVERY=true, everything else off or
// unset.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/charts/aws-vpc-cni/values.yaml
// and https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md.
//
// Note that ParseEnv of an empty environment returns ipamd's built-in
// defaults instead, which differ only in WarmPrefixTarget (unset, i.e. 0);
// ParseEnv(DefaultSettings().Env()) equals DefaultSettings().
func DefaultSettings() Settings {
	return Settings{
		Mode:             ModeSecondaryIP,
		WarmENITarget:    Ptr(DefaultWarmENITarget),
		WarmPrefixTarget: Ptr(1),
		SubnetDiscovery:  true,
	}
}

// ParseEnv reads the VPC CNI settings from an aws-node environment (variable
// name to value). Variables that are absent or empty keep ipamd's built-in
// default; other variables in env are ignored. Values are trimmed of
// surrounding white space. Booleans use strconv.ParseBool as ipamd does.
//
// Errors (all reported together, joined) are returned for values ipamd would
// silently replace by its default: a non-boolean flag, a non-integer number,
// or a negative WARM_ENI_TARGET, WARM_IP_TARGET or MINIMUM_IP_TARGET. As the
// README documents, a negative WARM_PREFIX_TARGET is read as 0 and a MAX_ENI
// below 1 as unset.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md
func ParseEnv(env map[string]string) (Settings, error) {
	s := Settings{Mode: ModeSecondaryIP, SubnetDiscovery: true}
	var errs []error

	get := func(name string) (string, bool) {
		v, ok := env[name]
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	parseBool := func(name string, dst *bool) {
		v, ok := get(name)
		if !ok {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("cni: %s=%q: not a boolean (want true or false)", name, v))
			return
		}
		*dst = b
	}
	// parseInt stores the value in *dst. Negative values are rejected when
	// onNegative is nil, otherwise mapped through it.
	parseInt := func(name string, dst **int, onNegative func(int) *int) {
		v, ok := get(name)
		if !ok {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("cni: %s=%q: not an integer", name, v))
			return
		}
		if n < 0 && onNegative == nil {
			errs = append(errs, fmt.Errorf("cni: %s=%d: must not be negative", name, n))
			return
		}
		if n < 0 {
			*dst = onNegative(n)
			return
		}
		*dst = Ptr(n)
	}

	var pd bool
	parseBool(EnvCustomNetworkCfg, &s.CustomNetworking)
	parseBool(EnvEnablePrefixDelegation, &pd)
	parseBool(EnvEnablePodENI, &s.PodENI)
	parseBool(EnvEnableSubnetDiscovery, &s.SubnetDiscovery)
	if pd {
		s.Mode = ModePrefixDelegation
	}
	parseInt(EnvWarmENITarget, &s.WarmENITarget, nil)
	parseInt(EnvWarmIPTarget, &s.WarmIPTarget, nil)
	parseInt(EnvMinimumIPTarget, &s.MinimumIPTarget, nil)
	parseInt(EnvWarmPrefixTarget, &s.WarmPrefixTarget, func(int) *int { return Ptr(0) })
	parseInt(EnvMaxENI, &s.MaxENI, func(int) *int { return nil })
	if s.MaxENI != nil && *s.MaxENI == 0 {
		s.MaxENI = nil
	}
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	return s, nil
}

// Env renders s as aws-node environment variables, the inverse of ParseEnv:
// booleans and the mode are always written, unset (nil) numbers are omitted.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md
func (s Settings) Env() map[string]string {
	env := map[string]string{
		EnvCustomNetworkCfg:       strconv.FormatBool(s.CustomNetworking),
		EnvEnablePrefixDelegation: strconv.FormatBool(s.Mode == ModePrefixDelegation),
		EnvEnablePodENI:           strconv.FormatBool(s.PodENI),
		EnvEnableSubnetDiscovery:  strconv.FormatBool(s.SubnetDiscovery),
	}
	for name, p := range map[string]*int{
		EnvWarmENITarget:    s.WarmENITarget,
		EnvWarmIPTarget:     s.WarmIPTarget,
		EnvMinimumIPTarget:  s.MinimumIPTarget,
		EnvWarmPrefixTarget: s.WarmPrefixTarget,
		EnvMaxENI:           s.MaxENI,
	} {
		if p != nil {
			env[name] = strconv.Itoa(*p)
		}
	}
	return env
}

// Validate reports settings that ParseEnv would never produce: an unknown
// Mode or a negative WARM_ENI_TARGET, WARM_IP_TARGET, MINIMUM_IP_TARGET or
// WARM_PREFIX_TARGET. (A MaxENI below 1 is legal and means "unset".)
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md
func (s Settings) Validate() error {
	var errs []error
	switch s.Mode {
	case "", ModeSecondaryIP, ModePrefixDelegation:
	default:
		errs = append(errs, fmt.Errorf("cni: unknown mode %q (want %q or %q)", s.Mode, ModeSecondaryIP, ModePrefixDelegation))
	}
	for _, f := range []struct {
		name string
		p    *int
	}{
		{EnvWarmENITarget, s.WarmENITarget},
		{EnvWarmIPTarget, s.WarmIPTarget},
		{EnvMinimumIPTarget, s.MinimumIPTarget},
		{EnvWarmPrefixTarget, s.WarmPrefixTarget},
	} {
		if f.p != nil && *f.p < 0 {
			errs = append(errs, fmt.Errorf("cni: %s=%d: must not be negative", f.name, *f.p))
		}
	}
	return errors.Join(errs...)
}

// PrefixDelegation reports whether s selects prefix delegation
// (ENABLE_PREFIX_DELEGATION=true).
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
func (s Settings) PrefixDelegation() bool { return s.Mode == ModePrefixDelegation }

// IPTargetsDefined reports whether WARM_IP_TARGET or MINIMUM_IP_TARGET is set
// to a value > 0, in which case they override WARM_ENI_TARGET and
// WARM_PREFIX_TARGET. Like ipamd, a value of 0 counts as unset.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
// and https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
func (s Settings) IPTargetsDefined() bool {
	return val(s.WarmIPTarget, 0) > 0 || val(s.MinimumIPTarget, 0) > 0
}

// EffectiveWarmENITarget is WARM_ENI_TARGET with its default (1) applied.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md#warm_eni_target
func (s Settings) EffectiveWarmENITarget() int {
	return clampTarget(val(s.WarmENITarget, DefaultWarmENITarget))
}

// EffectiveWarmPrefixTarget is WARM_PREFIX_TARGET with its default (0, i.e.
// unset) applied.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md#warm_prefix_target-v190
func (s Settings) EffectiveWarmPrefixTarget() int { return clampTarget(val(s.WarmPrefixTarget, 0)) }

// ipTargets returns WARM_IP_TARGET and MINIMUM_IP_TARGET, unset as 0.
func (s Settings) ipTargets() (warm, minimum int) {
	return clampTarget(val(s.WarmIPTarget, 0)), clampTarget(val(s.MinimumIPTarget, 0))
}

// maxTarget bounds the warm/minimum targets in arithmetic. It is far above
// any node's address capacity, so clamping never changes a result, and it
// keeps sums like N+WARM_IP_TARGET from overflowing (even with 32-bit int).
const maxTarget = 1 << 30

func clampTarget(v int) int { return min(max(v, 0), maxTarget) }

func val(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
