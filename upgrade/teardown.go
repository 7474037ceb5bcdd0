package upgrade

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eksbg/eksbg/internal/atomicfile"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// teardown removes blue once approved: out of Argo CD, its
// TargetGroupBindings and load balancers, the cluster, and then proves
// nothing of it is left.
func (r *run) teardown(ctx context.Context) error {
	if !r.o.Approve && r.o.Env.Teardown != config.TeardownAuto {
		return &AwaitingApproval{Blue: r.blue, Command: fmt.Sprintf("eksbg upgrade --env %s --to %s --approve (or 'eksbg rollback --env %s' to go back)", r.o.Env.Name, r.o.To, r.o.Env.Name)}
	}
	if err := r.step(ctx, PhaseTeardown, "drain", func(ctx context.Context) (map[string]string, error) {
		delay, err := r.deregistrationDelay(ctx)
		if err != nil {
			return nil, err
		}
		e, ok := r.j.Last(string(PhaseShift), stepName(100))
		if !ok {
			return nil, fmt.Errorf("the journal does not say when traffic reached 100%% green")
		}
		wait := e.At.Add(delay).Sub(r.clock.Now())
		if wait > 0 {
			r.em.Emit(Event{Kind: Waiting, Phase: PhaseTeardown, Step: "drain", Message: fmt.Sprintf("blue's weight has been 0 for less than the deregistration delay %s: waiting %s", delay, wait.Round(time.Second))})
			if err := r.sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		// Blue's weight must still be 0 (nobody shifted by hand since).
		if err := r.allOnNext(ctx, "drain"); err != nil {
			return nil, err
		}
		return map[string]string{"deregistrationDelay": delay.String()}, nil
	}); err != nil {
		return err
	}
	// Argo CD lets go of blue first: otherwise its self-heal would put back
	// the TargetGroupBindings eksbg deletes next.
	if err := r.step(ctx, PhaseTeardown, "remove from Argo CD", func(ctx context.Context) (map[string]string, error) {
		if err := r.allOnNext(ctx, "remove from Argo CD"); err != nil {
			return nil, err
		}
		return nil, r.unregister(ctx, PhaseTeardown, r.blue)
	}); err != nil {
		return err
	}
	if c, err := r.describe(ctx, r.blue); err != nil {
		return err
	} else if c != nil {
		if err := r.step(ctx, PhaseTeardown, "delete target group bindings", func(ctx context.Context) (map[string]string, error) {
			if err := r.allOnNext(ctx, "delete target group bindings"); err != nil {
				return nil, err
			}
			return r.deleteBindings(ctx)
		}); err != nil {
			return err
		}
		if err := r.step(ctx, PhaseTeardown, "delete load balancers", func(ctx context.Context) (map[string]string, error) {
			if err := r.allOnNext(ctx, "delete load balancers"); err != nil {
				return nil, err
			}
			return r.deleteLoadBalancers(ctx)
		}); err != nil {
			return err
		}
	}
	if err := r.step(ctx, PhaseTeardown, "eksctl delete cluster", func(ctx context.Context) (map[string]string, error) {
		if err := r.allOnNext(ctx, "eksctl delete cluster"); err != nil {
			return nil, err
		}
		return nil, r.deleteCluster(ctx, PhaseTeardown, r.blue)
	}); err != nil {
		return err
	}
	return r.step(ctx, PhaseTeardown, "verify nothing is left", func(ctx context.Context) (map[string]string, error) {
		left, err := r.leftovers(ctx, r.blue, r.colors[0])
		if err != nil {
			return nil, err
		}
		if len(left) > 0 {
			return nil, fmt.Errorf("%s is deleted but left behind: %s", r.blue, strings.Join(left, "; "))
		}
		return nil, nil
	})
}

// allOnNext reads the weights back right before a destructive step of the
// teardown and refuses it unless every rule sends all traffic to the new
// colour: a manual shift (or a hand on the console) since the drain must
// not leave traffic on a cluster that is about to lose its targets.
func (r *run) allOnNext(ctx context.Context, step string) error {
	if err := r.shifter.VerifyWeights(ctx, 100); err != nil {
		return fmt.Errorf("refusing to %s: traffic is not all on %s, so %s stays (move it with 'eksbg shift --env %s --weight 100' and rerun 'eksbg upgrade --env %s --to %s --approve', or go back with 'eksbg rollback --env %s'): %w",
			step, r.green, r.blue, r.o.Env.Name, r.o.Env.Name, r.o.To, r.o.Env.Name, err)
	}
	return nil
}

// unregister removes a cluster's secret and waits until Argo CD has
// deleted its Applications (none stuck on a finalizer).
func (r *run) unregister(ctx context.Context, ph Phase, cluster string) error {
	m, err := r.management(ctx)
	if err != nil {
		return err
	}
	server := ""
	if c, err := r.describe(ctx, cluster); err != nil {
		return err
	} else if c != nil {
		server = aws.ToString(c.Endpoint)
	}
	if err := gitops.UnregisterCluster(ctx, m.Core, r.gitNS, cluster); err != nil {
		return err
	}
	if server == "" {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Sync)
	defer cancel()
	apps, err := gitops.WaitApplications(wctx, m.Dynamic, r.gitNS, server, func(apps []gitops.Application) bool {
		r.em.Emit(Event{Kind: Waiting, Phase: ph, Step: "Applications of " + cluster + " deleted", Done: 0, Total: len(apps)})
		return len(apps) == 0
	})
	if err != nil {
		var names []string
		for _, a := range apps {
			names = append(names, fmt.Sprintf("%s (finalizers %v)", a.Name, a.Finalizers))
		}
		return fmt.Errorf("applications of %s are still in Argo CD: %s: %w", cluster, strings.Join(names, ", "), err)
	}
	return nil
}

func (r *run) deregistrationDelay(ctx context.Context) (time.Duration, error) {
	var d time.Duration
	for _, rule := range r.o.Env.Traffic.ListenerRules {
		tg := rule.TargetGroup(r.colors[0])
		out, err := r.cl.ELB.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return 0, fmt.Errorf("reading the attributes of %s: %w", tg, err)
		}
		for _, a := range out.Attributes {
			if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
				if s, err := strconv.Atoi(aws.ToString(a.Value)); err == nil {
					d = max(d, time.Duration(s)*time.Second)
				}
			}
		}
	}
	return d, nil
}

// deleteBindings deletes blue's TargetGroupBindings and waits until blue's
// target groups have no targets left.
func (r *run) deleteBindings(ctx context.Context) (map[string]string, error) {
	b, err := r.clients(ctx, r.blue)
	if err != nil {
		return nil, err
	}
	res := b.Dynamic.Resource(gitops.TargetGroupBindingGVR)
	list, err := res.Namespace("").List(ctx, metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("listing TargetGroupBindings on %s: %w", r.blue, err)
	}
	n := 0
	if list != nil {
		for _, t := range list.Items {
			err := res.Namespace(t.GetNamespace()).Delete(ctx, t.GetName(), metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("deleting TargetGroupBinding %s/%s: %w", t.GetNamespace(), t.GetName(), err)
			}
			n++
		}
	}
	err = r.waitFor(ctx, PhaseTeardown, "blue's targets deregistered", r.o.Timeouts.Teardown, func(ctx context.Context) (bool, string, error) {
		left, err := r.registeredTargets(ctx, r.colors[0])
		if err != nil {
			return false, "", err
		}
		return len(left) == 0, "still registered: " + strings.Join(left, ", "), nil
	})
	return map[string]string{"deleted": strconv.Itoa(n)}, err
}

func (r *run) registeredTargets(ctx context.Context, color string) ([]string, error) {
	var left []string
	seen := map[string]bool{}
	for _, rule := range r.o.Env.Traffic.ListenerRules {
		tg := rule.TargetGroup(color)
		if seen[tg] {
			continue
		}
		seen[tg] = true
		out, err := r.cl.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, fmt.Errorf("describing the targets of %s: %w", tg, err)
		}
		for _, d := range out.TargetHealthDescriptions {
			state := ""
			if d.TargetHealth != nil {
				state = string(d.TargetHealth.State)
			}
			left = append(left, fmt.Sprintf("%s:%d (%s) in %s", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port), state, tg))
		}
	}
	return left, nil
}

// deleteLoadBalancers deletes blue's LoadBalancer Services and Ingresses
// and waits until they are gone: the AWS Load Balancer Controller keeps
// its finalizer on them until their load balancers are deleted.
func (r *run) deleteLoadBalancers(ctx context.Context) (map[string]string, error) {
	b, err := r.clients(ctx, r.blue)
	if err != nil {
		return nil, err
	}
	svcs, err := b.Core.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services on %s: %w", r.blue, err)
	}
	var names []string
	for _, s := range svcs.Items {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		if err := b.Core.CoreV1().Services(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("deleting Service %s/%s: %w", s.Namespace, s.Name, err)
		}
		names = append(names, "Service "+s.Namespace+"/"+s.Name)
	}
	ings, err := b.Core.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Ingresses on %s: %w", r.blue, err)
	}
	for _, i := range ings.Items {
		if err := b.Core.NetworkingV1().Ingresses(i.Namespace).Delete(ctx, i.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("deleting Ingress %s/%s: %w", i.Namespace, i.Name, err)
		}
		names = append(names, "Ingress "+i.Namespace+"/"+i.Name)
	}
	err = r.waitFor(ctx, PhaseTeardown, "blue's load balancers gone", r.o.Timeouts.Teardown, func(ctx context.Context) (bool, string, error) {
		var left []string
		svcs, err := b.Core.CoreV1().Services("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		for _, s := range svcs.Items {
			if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
				left = append(left, "Service "+s.Namespace+"/"+s.Name)
			}
		}
		ings, err := b.Core.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		for _, i := range ings.Items {
			left = append(left, "Ingress "+i.Namespace+"/"+i.Name)
		}
		return len(left) == 0, "waiting for " + strings.Join(left, ", "), nil
	})
	return map[string]string{"deleted": strings.Join(names, ",")}, err
}

// leftovers lists what a deleted cluster left behind: ENIs the VPC CNI or
// EKS tagged for it, targets in its color's target groups, its Argo CD
// cluster secret.
func (r *run) leftovers(ctx context.Context, cluster, color string) ([]string, error) {
	var left []string
	p := ec2.NewDescribeNetworkInterfacesPaginator(r.cl.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:cluster.k8s.amazonaws.com/name"), Values: []string{cluster}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing ENIs of %s: %w", cluster, err)
		}
		for _, e := range page.NetworkInterfaces {
			left = append(left, "ENI "+aws.ToString(e.NetworkInterfaceId))
		}
	}
	targets, err := r.registeredTargets(ctx, color)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		left = append(left, "target "+t)
	}
	m, err := r.management(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := m.Core.CoreV1().Secrets(r.gitNS).Get(ctx, gitops.SecretName(cluster), metav1.GetOptions{}); err == nil {
		left = append(left, "Argo CD cluster secret "+r.gitNS+"/"+gitops.SecretName(cluster))
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	sort.Strings(left)
	return left, nil
}

// done records green as live, writes its config over the environment's
// eksctl config (the next upgrade starts from it) and closes the journal.
func (r *run) done(ctx context.Context) error {
	cfg, _, err := r.greenConfig()
	if err != nil {
		return err
	}
	path := resolve(r.o.ProjectDir, r.o.Env.Cluster.EksctlConfig)
	if err := atomicfile.WriteKeepingMode(path, cfg.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing green's config to %s: %w", path, err)
	}
	if err := r.o.Backend.SaveLive(context.WithoutCancel(ctx), r.o.Env.Name, &journal.Live{Color: r.colors[1], Cluster: r.green,
		Version: r.o.To, Since: r.clock.Now().UTC(), Upgrade: r.j.ID}); err != nil {
		return err
	}
	r.em.Emit(Event{Kind: Info, Phase: PhaseDone, Message: fmt.Sprintf("%s is live at %s; %s now describes it: commit it", r.green, r.o.To, r.o.Env.Cluster.EksctlConfig)})
	r.j.Entries = append(r.j.Entries, journal.Entry{Phase: string(PhaseDone), State: journal.Done, At: r.clock.Now().UTC()})
	return r.end(ctx, outcomeCompleted)
}

// deleteCluster deletes a cluster with eksctl and waits until it is gone.
// A deletion already under way (an earlier run was killed while eksctl
// worked, and eksctl went on) is waited for rather than started again,
// and an eksctl failure is judged by what EKS then says: a cluster that is
// deleting or gone is what was asked for.
func (r *run) deleteCluster(ctx context.Context, ph Phase, name string) error {
	dctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Teardown)
	defer cancel()
	c, err := r.describe(dctx, name)
	if err != nil || c == nil {
		return err
	}
	if c.Status != ekstypes.ClusterStatusDeleting {
		if err := r.waitNodegroupsSettled(dctx, name); err != nil {
			return err
		}
		if err := r.o.Provisioner.DeleteCluster(dctx, name, r.o.Env.AWS.Region); err != nil {
			c, derr := r.describe(dctx, name)
			if derr != nil || (c != nil && c.Status != ekstypes.ClusterStatusDeleting) {
				return fmt.Errorf("deleting %s: %w", name, err)
			}
			r.em.Emit(Event{Kind: Warning, Phase: ph, Message: fmt.Sprintf("eksctl failed (%v), but %s is being deleted or gone: waiting for it", err, name)})
		}
	}
	r.em.Emit(Event{Kind: Waiting, Phase: ph, Step: "cluster deleted", Message: "waiting for " + name + " to be deleted"})
	w := eks.NewClusterDeletedWaiter(r.cl.EKS, func(o *eks.ClusterDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = r.o.PollInterval, 4*r.o.PollInterval
	})
	if err := w.Wait(dctx, &eks.DescribeClusterInput{Name: aws.String(name)}, r.o.Timeouts.Teardown); err != nil {
		return fmt.Errorf("waiting for %s to be deleted: %w", name, err)
	}
	return nil
}

// waitNodegroupsSettled waits until none of a cluster's node groups is
// being created or deleted, so that eksctl does not trip over an
// operation a killed run left going.
func (r *run) waitNodegroupsSettled(ctx context.Context, cluster string) error {
	return r.waitFor(ctx, PhaseTeardown, "node groups of "+cluster+" settled", r.o.Timeouts.Teardown, func(ctx context.Context) (bool, string, error) {
		ngs, err := r.nodegroups(ctx, cluster)
		if err != nil {
			return false, "", err
		}
		var busy []string
		for ng := range ngs {
			d, err := r.cl.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(ng)})
			var nf *ekstypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				continue
			}
			if err != nil {
				return false, "", err
			}
			if st := d.Nodegroup.Status; st == ekstypes.NodegroupStatusDeleting || st == ekstypes.NodegroupStatusCreating {
				busy = append(busy, fmt.Sprintf("%s (%s)", ng, st))
			}
		}
		sort.Strings(busy)
		return len(busy) == 0, "waiting for node groups " + strings.Join(busy, ", "), nil
	})
}
