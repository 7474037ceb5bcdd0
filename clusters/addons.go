package clusters

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"golang.org/x/mod/semver"

	"github.com/eksbg/eksbg/internal/findings"
)

// addonVersions is what EKS offers of one addon for one Kubernetes version.
type addonVersions struct {
	versions []string
	def      string // the default version; "" when EKS marks none
}

// latest is the newest version by semantic versioning, as eksctl picks
// "latest" (EKS's versions are "v1.19.2-eksbuild.1": the build number is a
// pre-release part, compared numerically).
func (a addonVersions) latest() string {
	best := ""
	for _, v := range a.versions {
		if best == "" || semver.Compare(v, best) > 0 {
			best = v
		}
	}
	return best
}

// describeAddon lists the versions of addon name that run on Kubernetes
// version k8s.
func describeAddon(ctx context.Context, api eks.DescribeAddonVersionsAPIClient, name, k8s string) (addonVersions, error) {
	var out addonVersions
	p := eks.NewDescribeAddonVersionsPaginator(api, &eks.DescribeAddonVersionsInput{
		AddonName:         aws.String(name),
		KubernetesVersion: aws.String(k8s),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("describing versions of addon %s for Kubernetes %s: %w", name, k8s, err)
		}
		for _, a := range page.Addons {
			if aws.ToString(a.AddonName) != name {
				continue
			}
			for _, v := range a.AddonVersions {
				for _, c := range v.Compatibilities {
					if aws.ToString(c.ClusterVersion) != k8s {
						continue
					}
					out.versions = append(out.versions, aws.ToString(v.AddonVersion))
					if c.DefaultVersion && out.def == "" {
						out.def = aws.ToString(v.AddonVersion)
					}
				}
			}
		}
	}
	return out, nil
}

// editAddons resolves addon versions for the target: a pinned version that
// runs on the target stays; one that does not becomes the target's default
// version. Versions left to eksctl ("" for the default, "latest") stay as
// written, checked to exist.
func (d *deriver) editAddons(ctx context.Context) {
	if len(d.spec.Addons) == 0 {
		return
	}
	if d.opts.Addons == nil {
		d.find(findings.Warn, "addons", "addon versions were not checked against the target version", "run with access to the EKS API", "addons")
		return
	}
	for i, a := range d.spec.Addons {
		path := []step{"addons", i}
		vs, err := describeAddon(ctx, d.opts.Addons, a.Name, d.opts.Version)
		if err != nil {
			if d.err == nil {
				d.err = err
			}
			return
		}
		if len(vs.versions) == 0 {
			d.find(findings.Fail, "addons", fmt.Sprintf("addon %s has no version for Kubernetes %s", a.Name, d.opts.Version),
				"remove the addon from the config or install it another way", path...)
			continue
		}
		switch v := a.Version; {
		case v == "":
			if vs.def == "" {
				d.find(findings.Fail, "addons", fmt.Sprintf("addon %s names no version and EKS has no default version of it for Kubernetes %s", a.Name, d.opts.Version),
					fmt.Sprintf("pin one of %s", strings.Join(vs.versions, ", ")), path...)
				continue
			}
			d.find(findings.Info, "addons", fmt.Sprintf("addon %s: eksctl installs %s, the default for Kubernetes %s", a.Name, vs.def, d.opts.Version), "", path...)
		case strings.EqualFold(v, "latest"):
			d.find(findings.Info, "addons", fmt.Sprintf("addon %s: eksctl installs %s, the latest for Kubernetes %s", a.Name, vs.latest(), d.opts.Version), "", path...)
		case supports(vs.versions, v):
			d.find(findings.Info, "addons", fmt.Sprintf("addon %s %s runs on Kubernetes %s; kept", a.Name, v, d.opts.Version), "", append(path, "version")...)
		default:
			to := vs.def
			if to == "" {
				to = vs.latest()
			}
			d.set(path, "version", strNode(to), "name")
			d.find(findings.Warn, "addons", fmt.Sprintf("addon %s %s does not run on Kubernetes %s; green gets %s, the default for %s", a.Name, v, d.opts.Version, to, d.opts.Version),
				"check the addon's configurationValues against the new version's schema (aws eks describe-addon-configuration)", append(path, "version")...)
		}
	}
}

// supports reports whether version v, as eksctl matches it, is among
// versions: exactly, or as part of one (eksctl resolves "v1.19" to the
// newest version containing it; getLatestMatchingVersion in eksctl's
// pkg/actions/addon/addon.go).
func supports(versions []string, v string) bool {
	for _, have := range versions {
		if have == v || strings.Contains(have, v) {
			return true
		}
	}
	return false
}
