package upgrade

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eksbg/eksbg/internal/gitops"
)

// argoCluster is a cluster as Argo CD must know it: its endpoint and CA
// from DescribeCluster, the environment's secret labels, its color and
// singletons state, and its target groups.
func (r *run) argoCluster(c *ekstypes.Cluster, color string, singletonsActive bool) (gitops.Cluster, error) {
	if c.CertificateAuthority == nil {
		return gitops.Cluster{}, fmt.Errorf("cluster %s has no certificate authority yet", aws.ToString(c.Name))
	}
	ca, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil {
		return gitops.Cluster{}, fmt.Errorf("decoding the CA of %s: %w", aws.ToString(c.Name), err)
	}
	labels := maps.Clone(r.o.Env.ArgoCD.ClusterSecretLabels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[gitops.LabelColor] = color
	labels[gitops.LabelSingletons] = gitops.SingletonsSuspended
	if singletonsActive {
		labels[gitops.LabelSingletons] = gitops.SingletonsActive
	}
	var tgs []string
	for i := range r.o.Env.Traffic.ListenerRules {
		tgs = append(tgs, r.o.Env.Traffic.ListenerRules[i].TargetGroup(color))
	}
	ann := map[string]string{gitops.AnnotationTargetGroupARNs: strings.Join(tgs, ",")}
	if len(tgs) == 1 {
		ann[gitops.AnnotationTargetGroupARN] = tgs[0]
	}
	return gitops.Cluster{Name: aws.ToString(c.Name), Server: aws.ToString(c.Endpoint), CAData: ca, Labels: labels, Annotations: ann}, nil
}

// endpoint returns a cluster's API server URL.
func (r *run) endpoint(ctx context.Context, name string) (string, error) {
	c, err := r.describe(ctx, name)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", fmt.Errorf("cluster %s does not exist", name)
	}
	return aws.ToString(c.Endpoint), nil
}

// register gives green to Argo CD with its singletons suspended and waits
// until every Application that targets it is Synced and Healthy.
func (r *run) register(ctx context.Context) error {
	if err := r.step(ctx, PhaseRegister, "cluster secret", func(ctx context.Context) (map[string]string, error) {
		c, err := r.describe(ctx, r.green)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("cluster %s does not exist", r.green)
		}
		ac, err := r.argoCluster(c, r.colors[1], false)
		if err != nil {
			return nil, err
		}
		m, err := r.management(ctx)
		if err != nil {
			return nil, err
		}
		if err := gitops.RegisterCluster(ctx, m.Core, r.gitNS, ac); err != nil {
			return nil, err
		}
		return map[string]string{"secret": r.gitNS + "/" + gitops.SecretName(r.green)}, nil
	}); err != nil {
		return err
	}
	return r.step(ctx, PhaseRegister, "wait for sync", func(ctx context.Context) (map[string]string, error) {
		n, err := r.waitSynced(ctx, PhaseRegister, r.green, true)
		return map[string]string{"applications": strconv.Itoa(n)}, err
	})
}

// waitSynced waits (watching) until the Applications targeting cluster
// are as many as blue's (when twins is set) and all Synced and Healthy.
func (r *run) waitSynced(ctx context.Context, ph Phase, cluster string, twins bool) (int, error) {
	m, err := r.management(ctx)
	if err != nil {
		return 0, err
	}
	server, err := r.endpoint(ctx, cluster)
	if err != nil {
		return 0, err
	}
	want := 0
	if twins {
		bs, err := r.endpoint(ctx, r.blue)
		if err != nil {
			return 0, err
		}
		blueApps, err := gitops.ListApplications(ctx, m.Dynamic, r.gitNS, bs)
		if err != nil {
			return 0, err
		}
		want = len(blueApps)
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.Timeouts.Sync)
	defer cancel()
	ready := 0
	apps, err := gitops.WaitApplications(wctx, m.Dynamic, r.gitNS, server, func(apps []gitops.Application) bool {
		ready = 0
		for _, a := range apps {
			if a.SyncedHealthy() {
				ready++
			}
		}
		total := max(want, len(apps))
		r.em.Emit(Event{Kind: Waiting, Phase: ph, Step: "applications Synced and Healthy on " + cluster, Done: ready, Total: total})
		return len(apps) >= want && ready == len(apps)
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			missing := ""
			if len(apps) < want {
				missing = fmt.Sprintf("%d of blue's %d Applications have no twin on %s yet; ", want-len(apps), want, cluster)
			}
			return ready, fmt.Errorf("argo CD has not synced %s after %s: %s%s", cluster, r.o.Timeouts.Sync, missing, gitops.NotReady(apps))
		}
		return ready, err
	}
	return len(apps), nil
}

// twinName is an Application's name with its cluster's name replaced:
// ApplicationSets name Applications after the cluster.
func twinName(app, from, to string) string { return strings.ReplaceAll(app, from, to) }

// parity checks that green runs what blue runs: the Applications, the
// workloads, the TargetGroupBindings and healthy targets.
func (r *run) parity(ctx context.Context) error {
	if err := r.step(ctx, PhaseParity, "applications", func(ctx context.Context) (map[string]string, error) {
		m, err := r.management(ctx)
		if err != nil {
			return nil, err
		}
		bs, err := r.endpoint(ctx, r.blue)
		if err != nil {
			return nil, err
		}
		gs, err := r.endpoint(ctx, r.green)
		if err != nil {
			return nil, err
		}
		blueApps, err := gitops.ListApplications(ctx, m.Dynamic, r.gitNS, bs)
		if err != nil {
			return nil, err
		}
		greenApps, err := gitops.ListApplications(ctx, m.Dynamic, r.gitNS, gs)
		if err != nil {
			return nil, err
		}
		have := map[string]gitops.Application{}
		for _, a := range greenApps {
			have[a.Name] = a
		}
		var missing []string
		for _, a := range blueApps {
			t, ok := have[twinName(a.Name, r.blue, r.green)]
			if !ok || !t.SyncedHealthy() {
				missing = append(missing, a.Name)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("blue's Applications %s have no Synced and Healthy twin on %s: check their ApplicationSets' cluster generators select the labels eksbg puts on green's secret", strings.Join(missing, ", "), r.green)
		}
		return map[string]string{"applications": strconv.Itoa(len(blueApps))}, nil
	}); err != nil {
		return err
	}
	if err := r.step(ctx, PhaseParity, "workloads available", func(ctx context.Context) (map[string]string, error) {
		g, err := r.clients(ctx, r.green)
		if err != nil {
			return nil, err
		}
		n := 0
		err = r.waitFor(ctx, PhaseParity, "Deployments and StatefulSets available on "+r.green, r.o.Timeouts.Parity, func(ctx context.Context) (bool, string, error) {
			var notReady []string
			ds, err := g.Core.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			for _, d := range ds.Items {
				if !deploymentAvailable(&d) {
					notReady = append(notReady, fmt.Sprintf("Deployment %s/%s (%d of %d available)", d.Namespace, d.Name, d.Status.AvailableReplicas, replicas(d.Spec.Replicas)))
				}
			}
			ss, err := g.Core.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			for _, s := range ss.Items {
				if s.Status.ObservedGeneration < s.Generation || s.Status.AvailableReplicas < replicas(s.Spec.Replicas) {
					notReady = append(notReady, fmt.Sprintf("StatefulSet %s/%s (%d of %d available)", s.Namespace, s.Name, s.Status.AvailableReplicas, replicas(s.Spec.Replicas)))
				}
			}
			n = len(ds.Items) + len(ss.Items)
			return len(notReady) == 0, "waiting for " + strings.Join(notReady, ", "), nil
		})
		return map[string]string{"workloads": strconv.Itoa(n)}, err
	}); err != nil {
		return err
	}
	return r.step(ctx, PhaseParity, "target groups", func(ctx context.Context) (map[string]string, error) {
		g, err := r.clients(ctx, r.green)
		if err != nil {
			return nil, err
		}
		tgbs, err := g.Dynamic.Resource(gitops.TargetGroupBindingGVR).Namespace("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing TargetGroupBindings on %s: %w", r.green, err)
		}
		bound := map[string]bool{}
		for _, t := range tgbs.Items {
			arn, _, _ := unstructured.NestedString(t.Object, "spec", "targetGroupARN")
			bound[arn] = true
		}
		for _, rule := range r.o.Env.Traffic.ListenerRules {
			if tg := rule.TargetGroup(r.colors[1]); !bound[tg] {
				return nil, fmt.Errorf("no TargetGroupBinding on %s binds %s (rule %s): green's pods would never receive traffic", r.green, tg, rule.ARN)
			}
		}
		err = r.waitFor(ctx, PhaseParity, "green targets healthy", r.o.Timeouts.Parity, func(ctx context.Context) (bool, string, error) {
			bad, err := r.shifter.HealthyTargets(ctx)
			if err != nil {
				return false, "", err
			}
			var s []string
			for _, b := range bad {
				s = append(s, b.String())
			}
			return len(bad) == 0, strings.Join(s, "; "), nil
		})
		return map[string]string{"targetGroupBindings": strconv.Itoa(len(tgbs.Items))}, err
	})
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	return d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas >= replicas(d.Spec.Replicas) &&
		d.Status.UpdatedReplicas >= replicas(d.Spec.Replicas)
}
