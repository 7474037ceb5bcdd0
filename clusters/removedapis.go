package clusters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/findings"
)

// RemovedAPI is a group/version of a kind that a Kubernetes release
// stopped serving.
type RemovedAPI struct {
	GroupVersion string // as in apiVersion: "extensions/v1beta1"
	Kind         string
	// RemovedIn is the first release that does not serve it, "1.N".
	RemovedIn string
	// Replacement is the apiVersion to use instead, and ReplacementSince
	// the release that first served it; Replacement is "" when the kind
	// has no successor (PodSecurityPolicy).
	Replacement, ReplacementSince string
	// Note says what else changes in the move, when it matters.
	Note string
}

// RemovedAPIsTable lists every API version Kubernetes has stopped serving,
// from the Deprecated API Migration Guide
// (https://kubernetes.io/docs/reference/using-api/deprecation-guide/):
// removals in 1.16, 1.22, 1.25, 1.26, 1.27, 1.29 and 1.32, the last the
// guide lists.
func RemovedAPIsTable() []RemovedAPI {
	return []RemovedAPI{
		// v1.32
		{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", "flowcontrol.apiserver.k8s.io/v1", "1.29", ""},
		{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "1.32", "flowcontrol.apiserver.k8s.io/v1", "1.29",
			"spec.limited.nominalConcurrencyShares defaults to 30 only when unset; an explicit 0 stays 0"},
		// v1.29
		{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", "1.29", "flowcontrol.apiserver.k8s.io/v1", "1.29", ""},
		{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", "1.29", "flowcontrol.apiserver.k8s.io/v1", "1.29",
			"spec.limited.assuredConcurrencyShares is renamed spec.limited.nominalConcurrencyShares"},
		// v1.27
		{"storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27", "storage.k8s.io/v1", "1.24", ""},
		// v1.26
		{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "1.26", "flowcontrol.apiserver.k8s.io/v1beta2", "1.23", ""},
		{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", "1.26", "flowcontrol.apiserver.k8s.io/v1beta2", "1.23", ""},
		{"autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26", "autoscaling/v2", "1.23",
			"targetAverageUtilization becomes target.averageUtilization with target.type: Utilization"},
		// v1.25
		{"batch/v1beta1", "CronJob", "1.25", "batch/v1", "1.21", ""},
		{"discovery.k8s.io/v1beta1", "EndpointSlice", "1.25", "discovery.k8s.io/v1", "1.21",
			"topology gives way to per-endpoint nodeName and zone"},
		{"events.k8s.io/v1beta1", "Event", "1.25", "events.k8s.io/v1", "1.19", ""},
		{"autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.25", "autoscaling/v2", "1.23",
			"targetAverageUtilization becomes target.averageUtilization with target.type: Utilization"},
		{"policy/v1beta1", "PodDisruptionBudget", "1.25", "policy/v1", "1.21",
			"an empty spec.selector ({}) selects every pod of the namespace in policy/v1, none in policy/v1beta1"},
		{"policy/v1beta1", "PodSecurityPolicy", "1.25", "", "",
			"PodSecurityPolicy has no successor: use Pod Security Admission or an admission webhook"},
		{"node.k8s.io/v1beta1", "RuntimeClass", "1.25", "node.k8s.io/v1", "1.20", ""},
		// v1.22
		{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", "1.22", "admissionregistration.k8s.io/v1", "1.16",
			"failurePolicy defaults to Fail, sideEffects and admissionReviewVersions are required"},
		{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", "1.22", "admissionregistration.k8s.io/v1", "1.16",
			"failurePolicy defaults to Fail, sideEffects and admissionReviewVersions are required"},
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "1.22", "apiextensions.k8s.io/v1", "1.16",
			"spec.versions[*].schema.openAPIV3Schema is required and must be structural"},
		{"apiregistration.k8s.io/v1beta1", "APIService", "1.22", "apiregistration.k8s.io/v1", "1.10", ""},
		{"authentication.k8s.io/v1beta1", "TokenReview", "1.22", "authentication.k8s.io/v1", "1.6", ""},
		{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", "spec.group is renamed spec.groups"},
		{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", "spec.group is renamed spec.groups"},
		{"authorization.k8s.io/v1beta1", "SubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", "spec.group is renamed spec.groups"},
		{"authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", "1.22", "authorization.k8s.io/v1", "1.6", ""},
		{"certificates.k8s.io/v1beta1", "CertificateSigningRequest", "1.22", "certificates.k8s.io/v1", "1.19", "spec.signerName and spec.usages are required"},
		{"coordination.k8s.io/v1beta1", "Lease", "1.22", "coordination.k8s.io/v1", "1.14", ""},
		{"extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1", "1.19",
			"backends become service.name and service.port, and every path needs a pathType"},
		{"networking.k8s.io/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1", "1.19",
			"backends become service.name and service.port, and every path needs a pathType"},
		{"networking.k8s.io/v1beta1", "IngressClass", "1.22", "networking.k8s.io/v1", "1.19", ""},
		{"rbac.authorization.k8s.io/v1beta1", "ClusterRole", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
		{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
		{"rbac.authorization.k8s.io/v1beta1", "Role", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
		{"rbac.authorization.k8s.io/v1beta1", "RoleBinding", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
		{"scheduling.k8s.io/v1beta1", "PriorityClass", "1.22", "scheduling.k8s.io/v1", "1.14", ""},
		{"storage.k8s.io/v1beta1", "CSIDriver", "1.22", "storage.k8s.io/v1", "1.19", ""},
		{"storage.k8s.io/v1beta1", "CSINode", "1.22", "storage.k8s.io/v1", "1.17", ""},
		{"storage.k8s.io/v1beta1", "StorageClass", "1.22", "storage.k8s.io/v1", "1.6", ""},
		{"storage.k8s.io/v1beta1", "VolumeAttachment", "1.22", "storage.k8s.io/v1", "1.13", ""},
		// v1.16
		{"extensions/v1beta1", "NetworkPolicy", "1.16", "networking.k8s.io/v1", "1.8", ""},
		{"extensions/v1beta1", "DaemonSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta2", "DaemonSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"extensions/v1beta1", "Deployment", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta1", "Deployment", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta2", "Deployment", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta1", "StatefulSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta2", "StatefulSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"extensions/v1beta1", "ReplicaSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta1", "ReplicaSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"apps/v1beta2", "ReplicaSet", "1.16", "apps/v1", "1.9", "spec.selector is required"},
		{"extensions/v1beta1", "PodSecurityPolicy", "1.16", "policy/v1beta1", "1.10", "policy/v1beta1 PodSecurityPolicy is itself gone from 1.25"},
	}
}

// Object is a Kubernetes object to check, as a manifest or the API
// server gives it.
type Object struct {
	APIVersion, Kind, Name, Namespace string
	// Source says where the object comes from: the Argo CD Application and
	// the file (with ":line") it was rendered from, or a live cluster.
	Source findings.Where
}

// String formats the object as "apiVersion Kind namespace/name".
func (o Object) String() string {
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + name
	}
	return strings.TrimSpace(o.APIVersion + " " + o.Kind + " " + name)
}

// RemovedAPIs checks objects against RemovedAPIsTable for a move from
// Kubernetes version from to version to ("1.N"). An object whose API
// version a release in (from, to] stopped serving is a Fail: it will not
// apply to green. One that blue's own version already does not serve is a
// Warn: it cannot be running on blue, and will not apply to green either.
func RemovedAPIs(from, to string, objs []Object) ([]findings.Finding, error) {
	fromMinor, err := minorOf(from)
	if err != nil {
		return nil, fmt.Errorf("checking removed APIs: from: %w", err)
	}
	toMinor, err := minorOf(to)
	if err != nil {
		return nil, fmt.Errorf("checking removed APIs: to: %w", err)
	}
	type key struct{ gv, kind string }
	table := map[key]RemovedAPI{}
	for _, r := range RemovedAPIsTable() {
		table[key{r.GroupVersion, r.Kind}] = r
	}
	var out []findings.Finding
	for _, o := range objs {
		r, ok := table[key{o.APIVersion, o.Kind}]
		if !ok {
			continue
		}
		removed, err := minorOf(r.RemovedIn)
		if err != nil {
			return nil, fmt.Errorf("checking removed APIs: table: %w", err)
		}
		if removed > toMinor {
			continue
		}
		f := findings.Finding{Severity: findings.Fail, Check: "removed-api", Where: o.Source}
		f.Where.Object = o.String()
		if removed <= fromMinor {
			f.Severity = findings.Warn
			f.What = fmt.Sprintf("%s %s has not been served since Kubernetes %s, so it cannot be running on blue (%s) and will not apply to green either", r.GroupVersion, r.Kind, r.RemovedIn, from)
		} else {
			f.What = fmt.Sprintf("Kubernetes %s stopped serving %s %s; green runs %s", r.RemovedIn, r.GroupVersion, r.Kind, to)
		}
		switch {
		case r.Replacement == "":
			f.Fix = r.Note
		default:
			f.Fix = fmt.Sprintf("use %s, served since %s", r.Replacement, r.ReplacementSince)
			if r.Note != "" {
				f.Fix += "; " + r.Note
			}
		}
		out = append(out, f)
	}
	findings.Sort(out)
	return out, nil
}

// ObjectsFromYAML reads the Kubernetes objects of a multi-document YAML
// manifest (as `helm template` or `kustomize build` print them), expanding
// v1 List documents. Each object's Source is src with File set to
// "file:line". Documents without apiVersion and kind are skipped.
func ObjectsFromYAML(file string, data []byte, src findings.Where) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Object
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading manifests in %s: %w", file, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		out = appendObjects(out, file, doc.Content[0], src)
	}
}

// appendObjects adds the object at n, or the items of a List.
func appendObjects(out []Object, file string, n *yaml.Node, src findings.Where) []Object {
	if n.Kind != yaml.MappingNode {
		return out
	}
	apiVersion, kind := scalarAt(n, "apiVersion"), scalarAt(n, "kind")
	if apiVersion == "" || kind == "" {
		return out
	}
	if apiVersion == "v1" && kind == "List" {
		if items := lookup(n, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				out = appendObjects(out, file, it, src)
			}
		}
		return out
	}
	o := Object{APIVersion: apiVersion, Kind: kind, Name: scalarAt(n, "metadata", "name"), Namespace: scalarAt(n, "metadata", "namespace"), Source: src}
	o.Source.File = fmt.Sprintf("%s:%d", file, n.Line)
	return append(out, o)
}
