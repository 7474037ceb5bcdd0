package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/wait"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// waitFor polls check (wait.Poll) every PollInterval until it reports
// done, ctx ends or timeout passes on the run's clock; each new progress
// message becomes a Waiting event. The error after a timeout carries
// check's last message, which says what is missing.
func (r *run) waitFor(ctx context.Context, ph Phase, what string, timeout time.Duration, check wait.Check) error {
	return wait.Poll(ctx, r.clock, what, r.o.PollInterval, timeout, check, func(msg string) {
		r.em.Emit(Event{Kind: Waiting, Phase: ph, Step: what, Message: msg})
	})
}

// sleep waits d on the run's clock, unless ctx ends first.
func (r *run) sleep(ctx context.Context, d time.Duration) error { return r.clock.Sleep(ctx, d) }

// preflight: capacity, quotas and compatibility, through MakePlan. A
// blocking finding stops the upgrade unless its check is forced; the
// journal then ends (nothing was created) so that a rerun starts afresh.
func (r *run) preflight(ctx context.Context) error {
	return r.step(ctx, PhasePreflight, "checks", func(ctx context.Context) (map[string]string, error) {
		// The plan's Kubernetes clients go through the run's (counted) ones.
		rest := func(ctx context.Context, cluster string) (*rest.Config, error) {
			c, err := r.clients(ctx, cluster)
			if err != nil {
				return nil, err
			}
			return c.REST, nil
		}
		p, err := r.o.Preflight(ctx, preflight.Options{Env: r.o.Env, ProjectDir: r.o.ProjectDir, To: r.o.To, AWS: r.o.AWS, Backend: r.o.Backend,
			Terraform: r.o.Terraform, Schema: r.o.Schema, REST: rest, ArgoCD: r.o.Management, Capacity: r.o.Capacity})
		if err != nil {
			// Nothing exists yet: close the journal, so that no upgrade is
			// left open that only a rollback (which writes weights and
			// needs Argo CD) could end. A rerun starts afresh.
			if eerr := r.end(ctx, "failed at preflight: "+err.Error()); eerr != nil {
				return nil, errors.Join(err, eerr)
			}
			return nil, err
		}
		var blocking []findings.Finding
		for _, f := range p.Findings {
			if f.Severity == findings.Warn {
				r.em.Emit(Event{Kind: Warning, Phase: PhasePreflight, Message: fmt.Sprintf("[%s] %s", f.Check, f.What)})
			}
			if f.Severity != findings.Fail {
				continue
			}
			if reason, ok := r.o.Force[f.Check]; ok {
				r.j.Forced = append(r.j.Forced, journal.Override{Check: f.Check, Reason: reason, Who: r.o.Who, At: r.clock.Now().UTC()})
				r.em.Emit(Event{Kind: Warning, Phase: PhasePreflight, Message: fmt.Sprintf("forced past [%s] %s: %s", f.Check, f.What, reason)})
				continue
			}
			blocking = append(blocking, f)
		}
		if len(blocking) > 0 {
			err := &RefusedError{Findings: blocking}
			r.j.Entries = append(r.j.Entries, journal.Entry{Phase: string(PhasePreflight), Step: "checks", State: journal.Failed, At: r.clock.Now().UTC(), Message: err.Error()})
			if eerr := r.end(ctx, "refused at preflight"); eerr != nil {
				return nil, eerr
			}
			return nil, err
		}
		r.j.From.Version = p.Blue.Version
		return map[string]string{"config": p.GreenConfig, "findings": strconv.Itoa(len(p.Findings))}, nil
	})
}

// render saves green's eksctl config with the journal.
func (r *run) render(ctx context.Context) error {
	return r.step(ctx, PhaseRender, "green config", func(ctx context.Context) (map[string]string, error) {
		e, ok := r.j.Last(string(PhasePreflight), "checks")
		if !ok || e.Data["config"] == "" {
			return nil, errors.New("the journal has no green config from the preflight")
		}
		if _, err := clusters.Parse(r.green+".yaml", []byte(e.Data["config"])); err != nil {
			return nil, fmt.Errorf("green's config in the journal: %w", err)
		}
		return map[string]string{"config": e.Data["config"]}, nil
	})
}

// greenConfig returns green's config from the journal, and a file holding
// it for eksctl.
func (r *run) greenConfig() (*clusters.Config, string, error) {
	e, ok := r.j.Last(string(PhaseRender), "green config")
	if !ok || e.Data["config"] == "" {
		return nil, "", errors.New("the journal has no rendered green config")
	}
	cfg, err := clusters.Parse(r.green+".yaml", []byte(e.Data["config"]))
	if err != nil {
		return nil, "", err
	}
	dir := r.o.WorkDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "eksbg-"+r.j.ID)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	p := filepath.Join(dir, r.green+".yaml")
	if err := os.WriteFile(p, cfg.Bytes(), 0o600); err != nil {
		return nil, "", fmt.Errorf("writing green's config for eksctl: %w", err)
	}
	return cfg, p, nil
}

// describe returns a cluster, or nil when it does not exist.
func (r *run) describe(ctx context.Context, name string) (*ekstypes.Cluster, error) {
	out, err := r.cl.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	var nf *ekstypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing cluster %s: %w", name, err)
	}
	return out.Cluster, nil
}

// createGreen creates green with eksctl unless it exists, finishes a
// creation a crash interrupted, and waits for it to be whole.
func (r *run) createGreen(ctx context.Context) error {
	cfg, path, err := r.greenConfig()
	if err != nil {
		return err
	}
	spec, err := cfg.Spec()
	if err != nil {
		return err
	}
	region := r.o.Env.AWS.Region
	if err := r.step(ctx, PhaseCreate, "eksctl create cluster", func(ctx context.Context) (map[string]string, error) {
		c, err := r.describe(ctx, r.green)
		if err != nil {
			return nil, err
		}
		switch {
		case c == nil:
			r.em.Emit(Event{Kind: Info, Phase: PhaseCreate, Message: "eksctl create cluster -f " + path})
			cctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Create)
			defer cancel()
			if err := r.o.Provisioner.CreateCluster(cctx, path); err != nil {
				return nil, fmt.Errorf("creating %s: %w", r.green, err)
			}
			return nil, nil
		case c.Status == ekstypes.ClusterStatusDeleting || c.Status == ekstypes.ClusterStatusFailed:
			return nil, fmt.Errorf("cluster %s exists and is %s: wait for it to go (or delete it with 'eksctl delete cluster --name %s --region %s --wait'), then rerun", r.green, c.Status, r.green, r.o.Env.AWS.Region)
		}
		if err := r.adoptable(ctx, c, spec); err != nil {
			return nil, err
		}
		// It exists (a crash interrupted eksctl): finish what eksctl did not.
		r.em.Emit(Event{Kind: Info, Phase: PhaseCreate, Message: fmt.Sprintf("%s exists (%s): waiting for it, then creating missing node groups", r.green, c.Status)})
		w := eks.NewClusterActiveWaiter(r.cl.EKS, func(o *eks.ClusterActiveWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.PollInterval, 4*r.o.PollInterval })
		if err := w.Wait(ctx, &eks.DescribeClusterInput{Name: aws.String(r.green)}, r.o.Timeouts.Create); err != nil {
			return nil, fmt.Errorf("waiting for %s to be ACTIVE: %w", r.green, err)
		}
		have, err := r.nodegroups(ctx, r.green)
		if err != nil {
			return nil, err
		}
		for _, ng := range managed(spec) {
			if !have[ng.Name] {
				cctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Create)
				defer cancel()
				// An eksctl a killed run left going may be creating them too:
				// wait for that first, and judge a failure by what exists.
				if err := r.waitNodegroupsSettled(cctx, r.green); err != nil {
					return nil, err
				}
				if err := r.o.Provisioner.CreateNodegroups(cctx, path); err != nil {
					have, lerr := r.nodegroups(cctx, r.green)
					if lerr != nil {
						return nil, err
					}
					for _, ng := range managed(spec) {
						if !have[ng.Name] {
							return nil, fmt.Errorf("creating the node groups of %s: %w", r.green, err)
						}
					}
					r.em.Emit(Event{Kind: Warning, Phase: PhaseCreate, Message: fmt.Sprintf("eksctl failed (%v), but every node group of %s exists: going on", err, r.green)})
				}
				break
			}
		}
		return nil, nil
	}); err != nil {
		return err
	}
	_ = region
	if err := r.step(ctx, PhaseCreate, "wait for node groups and add-ons", func(ctx context.Context) (map[string]string, error) {
		ngw := eks.NewNodegroupActiveWaiter(r.cl.EKS, func(o *eks.NodegroupActiveWaiterOptions) {
			o.MinDelay, o.MaxDelay = r.o.PollInterval, 4*r.o.PollInterval
		})
		for _, ng := range managed(spec) {
			if err := ngw.Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(r.green), NodegroupName: aws.String(ng.Name)}, r.o.Timeouts.Create); err != nil {
				return nil, fmt.Errorf("waiting for node group %s of %s: %w", ng.Name, r.green, err)
			}
		}
		addons, err := r.addons(ctx, r.green)
		if err != nil {
			return nil, err
		}
		aw := eks.NewAddonActiveWaiter(r.cl.EKS, func(o *eks.AddonActiveWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.PollInterval, 4*r.o.PollInterval })
		for _, a := range addons {
			if err := aw.Wait(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(r.green), AddonName: aws.String(a)}, r.o.Timeouts.Create); err != nil {
				return nil, fmt.Errorf("waiting for add-on %s of %s: %w", a, r.green, err)
			}
		}
		return map[string]string{"addons": strings.Join(addons, ",")}, nil
	}); err != nil {
		return err
	}
	if err := r.step(ctx, PhaseCreate, "wait for nodes", func(ctx context.Context) (map[string]string, error) {
		want := 0
		for _, ng := range managed(spec) {
			d, err := r.cl.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(r.green), NodegroupName: aws.String(ng.Name)})
			if err != nil {
				return nil, fmt.Errorf("describing node group %s: %w", ng.Name, err)
			}
			if sc := d.Nodegroup.ScalingConfig; sc != nil {
				want += int(aws.ToInt32(sc.DesiredSize))
			}
		}
		kc, err := r.clients(ctx, r.green)
		if err != nil {
			return nil, err
		}
		ready := 0
		err = r.waitFor(ctx, PhaseCreate, "nodes Ready", r.o.Timeouts.Nodes, func(ctx context.Context) (bool, string, error) {
			nodes, err := kc.Core.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			ready = 0
			for _, n := range nodes.Items {
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			r.em.Emit(Event{Kind: Waiting, Phase: PhaseCreate, Step: "nodes Ready", Done: ready, Total: want})
			return ready >= want, fmt.Sprintf("%d of %d nodes Ready", ready, want), nil
		})
		return map[string]string{"nodes": strconv.Itoa(ready)}, err
	}); err != nil {
		return err
	}
	return r.step(ctx, PhaseCreate, "capacity with real ENIs", func(ctx context.Context) (map[string]string, error) {
		// Green now holds its addresses. What is left must let it grow to
		// maxSize while blue still runs: check that headroom.
		extra := map[string]int{}
		for _, ng := range managed(spec) {
			if ng.MaxSize != nil && ng.DesiredCapacity != nil && *ng.MaxSize > *ng.DesiredCapacity {
				extra[ng.Name] = *ng.MaxSize - *ng.DesiredCapacity
			}
		}
		fs, err := r.scaleUpCheck(ctx, cfg, extra)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			r.em.Emit(Event{Kind: Warning, Phase: PhaseCreate, Message: fmt.Sprintf("green cannot grow to maxSize: [%s] %s", f.Check, f.What)})
		}
		return map[string]string{"headroomFindings": strconv.Itoa(len(fs))}, nil
	})
}

// adoptable refuses to take over an existing green that is not the one
// this upgrade renders: another Kubernetes version (a green a rollback
// kept from an earlier upgrade), or node groups the config does not have.
// Adopting it would shift traffic to a cluster nobody planned.
func (r *run) adoptable(ctx context.Context, c *ekstypes.Cluster, spec *clusters.Spec) error {
	fix := fmt.Sprintf("delete it with 'eksctl delete cluster --name %s --region %s --wait' and rerun this upgrade, or end this upgrade with 'eksbg rollback --env %s' and keep it",
		r.green, r.o.Env.AWS.Region, r.o.Env.Name)
	if have := aws.ToString(c.Version); spec.Version != "" && have != spec.Version {
		return fmt.Errorf("cluster %s already exists at Kubernetes %s, but this upgrade builds it at %s: it is not the green this upgrade rendered; %s",
			r.green, have, spec.Version, fix)
	}
	have, err := r.nodegroups(ctx, r.green)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, ng := range managed(spec) {
		want[ng.Name] = true
	}
	var extra []string
	for ng := range have {
		if !want[ng] {
			extra = append(extra, ng)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("cluster %s already exists with node groups %s that green's config does not have: it is not the green this upgrade rendered; %s",
			r.green, strings.Join(extra, ", "), fix)
	}
	return nil
}

func (r *run) nodegroups(ctx context.Context, cluster string) (map[string]bool, error) {
	out := map[string]bool{}
	p := eks.NewListNodegroupsPaginator(r.cl.EKS, &eks.ListNodegroupsInput{ClusterName: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing node groups of %s: %w", cluster, err)
		}
		for _, n := range page.Nodegroups {
			out[n] = true
		}
	}
	return out, nil
}

func (r *run) addons(ctx context.Context, cluster string) ([]string, error) {
	var out []string
	p := eks.NewListAddonsPaginator(r.cl.EKS, &eks.ListAddonsInput{ClusterName: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing add-ons of %s: %w", cluster, err)
		}
		out = append(out, page.Addons...)
	}
	return out, nil
}

// scaleUpCheck runs the capacity model on extra nodes per node group of
// green (those it would add), and returns its FAIL findings.
func (r *run) scaleUpCheck(ctx context.Context, green *clusters.Config, extra map[string]int) ([]findings.Finding, error) {
	if len(extra) == 0 {
		return nil, nil
	}
	if r.o.Capacity == nil {
		r.em.Emit(Event{Kind: Warning, Message: "no capacity check configured: not checking the subnets before scaling green"})
		return nil, nil
	}
	scaled, err := preflight.ScaledConfig(green, extra)
	if err != nil {
		return nil, err
	}
	_, fs, err := r.o.Capacity(ctx, scaled)
	if err != nil {
		return nil, fmt.Errorf("checking capacity: %w", err)
	}
	var out []findings.Finding
	for _, f := range fs {
		if f.Severity == findings.Fail {
			out = append(out, f)
		}
	}
	return out, nil
}

// managed returns the config's managed node groups: the EKS node groups
// eksbg waits for and sizes (self-managed groups are Auto Scaling groups
// eksctl owns).
func managed(s *clusters.Spec) []clusters.NodeGroup {
	var out []clusters.NodeGroup
	for _, ng := range s.NodeGroups {
		if ng.Managed {
			out = append(out, ng)
		}
	}
	return out
}
