package argocd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/sandbox/catalog"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/kubeapply"
)

// DefaultNamespace is where the sandbox runs Argo CD and keeps its
// cluster secrets, as an Argo CD install does.
const DefaultNamespace = "argocd"

// The roles the argocd binary plays in the sandbox (cmd/main.go of argo-cd
// picks one from the name it is run by).
const (
	RoleRepoServer     = "argocd-repo-server"
	RoleController     = "argocd-application-controller"
	RoleApplicationSet = "argocd-applicationset-controller"
)

// AWSEnv is what argocd-k8s-auth needs to sign EKS tokens the sandbox
// accepts: the emulator's endpoint, region and a credential of its
// scenario. aws-sdk-go v1, which argocd-k8s-auth uses, reads them from
// the environment.
type AWSEnv struct {
	Endpoint, Region, AccessKeyID, SecretAccessKey string
}

// Options configure Start.
type Options struct {
	// Binaries; nil means LocateBinaries.
	Binaries *Binaries
	// Dir holds the logs, redis's data, the catalog repository and the
	// repo server's working copies; recreated on start.
	Dir string
	// ManagementKubeconfig is a kubeconfig file for the management
	// cluster, which the Argo CD processes use; Management is the same
	// cluster for installing Argo CD's CRDs and configuration.
	ManagementKubeconfig string
	Management           *rest.Config
	// Namespace defaults to DefaultNamespace.
	Namespace string
	AWS       AWSEnv
	// Environments get one ApplicationSet each of the catalog's
	// (catalog.ApplicationSets), applied once Argo CD runs.
	Environments []string
	Logger       *slog.Logger
}

// Instance is a running Argo CD.
type Instance struct {
	opts    Options
	procs   []*proc
	repoURL string
	kube    kubernetes.Interface
	dyn     dynamic.Interface
}

// Start runs redis, git daemon serving the catalog, installs Argo CD's
// CRDs and configuration on the management cluster, starts the repo
// server, the application controller and the ApplicationSet controller,
// waits until they serve, and applies the catalog's ApplicationSets.
// On failure it stops what it started.
func Start(ctx context.Context, o Options) (_ *Instance, err error) {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	bins := o.Binaries
	if bins == nil {
		b, err := LocateBinaries()
		if err != nil {
			return nil, err
		}
		bins = &b
	}
	if err := os.RemoveAll(o.Dir); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", o.Dir, err)
	}
	for _, d := range []string{"logs", "redis", "git", "tmp", "home"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("creating Argo CD's directories: %w", err)
		}
	}
	kc, err := kubernetes.NewForConfig(o.Management)
	if err != nil {
		return nil, fmt.Errorf("building a client for the management cluster: %w", err)
	}
	app, err := kubeapply.New(o.Management, "eksbg-sandbox")
	if err != nil {
		return nil, err
	}
	inst := &Instance{opts: o, kube: kc, dyn: app.Dynamic()}
	defer func() {
		if err != nil {
			inst.Close()
		}
	}()

	if err := catalog.WriteRepo(ctx, filepath.Join(o.Dir, "git", "catalog.git")); err != nil {
		return nil, err
	}
	ports, err := kube.FreePorts(8)
	if err != nil {
		return nil, err
	}
	redisPort, gitPort, repoPort, repoMetrics, ctrlMetrics, asMetrics, asProbe, asWebhook :=
		ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7]
	loop := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	inst.repoURL = "git://" + loop(gitPort) + "/catalog.git"

	start := func(name, path string, argv, extraEnv []string) error {
		env := []string{"HOME=" + filepath.Join(o.Dir, "home"), "TMPDIR=" + filepath.Join(o.Dir, "tmp"),
			"PATH=" + bins.BinDir + string(os.PathListSeparator) + os.Getenv("PATH")}
		p, err := spawn(ctx, name, path, argv, append(env, extraEnv...), o.Dir, filepath.Join(o.Dir, "logs", name+".log"))
		if err != nil {
			return err
		}
		inst.procs = append(inst.procs, p)
		return nil
	}
	// redis: Argo CD's cache; nothing is kept on disk.
	if err := start("redis-server", bins.RedisServer, []string{"redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(redisPort),
		"--save", "", "--appendonly", "no", "--dir", filepath.Join(o.Dir, "redis")}, nil); err != nil {
		return nil, err
	}
	if err := start("git-daemon", bins.GitDaemon, []string{bins.GitDaemon, "--reuseaddr", "--listen=127.0.0.1", "--port=" + strconv.Itoa(gitPort),
		"--base-path=" + filepath.Join(o.Dir, "git"), "--informative-errors", filepath.Join(o.Dir, "git")},
		// git daemon serves each connection with a child it runs as
		// argv[0] (hence the full path) and git's exec path.
		[]string{"GIT_CONFIG_NOSYSTEM=1", "GIT_EXEC_PATH=" + filepath.Dir(bins.GitDaemon)}); err != nil {
		return nil, err
	}
	if err := inst.install(ctx, app, bins); err != nil {
		return nil, err
	}
	if err := inst.waitTCP(ctx, loop(redisPort), loop(gitPort)); err != nil {
		return nil, err
	}

	kubeconfigEnv := "KUBECONFIG=" + o.ManagementKubeconfig
	// Only these names reach argocd-k8s-auth, which the controllers run
	// for awsAuthConfig clusters: aws-sdk-go v1 reads them.
	awsEnv := []string{
		"AWS_ACCESS_KEY_ID=" + o.AWS.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + o.AWS.SecretAccessKey,
		"AWS_REGION=" + o.AWS.Region, "AWS_DEFAULT_REGION=" + o.AWS.Region,
		"AWS_ENDPOINT_URL=" + o.AWS.Endpoint, "AWS_STS_REGIONAL_ENDPOINTS=regional", "AWS_EC2_METADATA_DISABLED=true",
	}
	if err := start(RoleRepoServer, bins.Argocd, []string{RoleRepoServer, "--disable-tls", "--address", "127.0.0.1",
		"--port", strconv.Itoa(repoPort), "--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(repoMetrics),
		"--redis", loop(redisPort), "--loglevel", "info"},
		[]string{"ARGOCD_GPG_ENABLED=false", kubeconfigEnv, "ARGOCD_REPO_SERVER_NAMESPACE=" + o.Namespace}); err != nil {
		return nil, err
	}
	if err := start(RoleController, bins.Argocd, []string{RoleController, "--kubeconfig", o.ManagementKubeconfig,
		"--namespace", o.Namespace, "--redis", loop(redisPort), "--repo-server", loop(repoPort), "--repo-server-plaintext",
		"--metrics-port", strconv.Itoa(ctrlMetrics), "--loglevel", "info"},
		append([]string{kubeconfigEnv}, awsEnv...)); err != nil {
		return nil, err
	}
	if err := start(RoleApplicationSet, bins.Argocd, []string{RoleApplicationSet, "--namespace", o.Namespace,
		"--argocd-repo-server", loop(repoPort), "--repo-server-plaintext",
		"--metrics-addr", loop(asMetrics), "--probe-addr", loop(asProbe), "--webhook-addr", loop(asWebhook), "--loglevel", "info"},
		append([]string{kubeconfigEnv}, awsEnv...)); err != nil {
		return nil, err
	}
	if err := inst.waitTCP(ctx, loop(repoPort)); err != nil {
		return nil, err
	}
	if err := inst.waitHTTP(ctx, "http://"+loop(asMetrics)+"/metrics", "http://"+loop(ctrlMetrics)+"/metrics"); err != nil {
		return nil, err
	}
	if err := inst.applyApplicationSets(ctx, app); err != nil {
		return nil, err
	}
	return inst, nil
}

// install applies Argo CD's CRDs, its namespace and the configuration its
// processes read: argocd-cm, argocd-rbac-cm, argocd-secret (with
// server.secretkey) and the default AppProject.
func (inst *Instance) install(ctx context.Context, a *kubeapply.Applier, bins *Binaries) error {
	var objs []*unstructured.Unstructured
	for _, f := range []string{"application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"} {
		data, err := os.ReadFile(filepath.Join(bins.CRDDir, f))
		if err != nil {
			return fmt.Errorf("reading Argo CD's CRDs: %w", err)
		}
		o, err := kubeapply.Decode(data)
		if err != nil {
			return err
		}
		objs = append(objs, o...)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	ns := inst.opts.Namespace
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: %[1]s
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: %[1]s
  labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}
data: {}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: %[1]s
  labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}
type: Opaque
data:
  server.secretkey: %[2]s
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: %[1]s
spec:
  sourceRepos: ["*"]
  destinations: [{server: "*", namespace: "*"}]
  clusterResourceWhitelist: [{group: "*", kind: "*"}]
`, ns, base64.StdEncoding.EncodeToString(key))
	o, err := kubeapply.Decode([]byte(cfg))
	if err != nil {
		return err
	}
	if err := a.Apply(ctx, append(objs, o...)...); err != nil {
		return fmt.Errorf("installing Argo CD on the management cluster: %w", err)
	}
	return nil
}

func (inst *Instance) applyApplicationSets(ctx context.Context, a *kubeapply.Applier) error {
	docs, err := catalog.ApplicationSets(inst.opts.Environments, inst.repoURL)
	if err != nil {
		return err
	}
	var objs []*unstructured.Unstructured
	for _, d := range docs {
		o, err := kubeapply.Decode(d)
		if err != nil {
			return err
		}
		for _, x := range o {
			x.SetNamespace(inst.opts.Namespace)
		}
		objs = append(objs, o...)
	}
	if err := a.Apply(ctx, objs...); err != nil {
		return fmt.Errorf("applying the catalog's ApplicationSets: %w", err)
	}
	return nil
}

// startupTimeout bounds each wait for a process to serve.
const startupTimeout = 2 * time.Minute

// waitTCP waits until each address accepts connections, failing early
// when a process exits.
func (inst *Instance) waitTCP(ctx context.Context, addrs ...string) error {
	for _, addr := range addrs {
		if err := inst.poll(ctx, "connecting to "+addr, func(ctx context.Context) (bool, error) {
			c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
			if err != nil {
				return false, nil
			}
			_ = c.Close()
			return true, nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// waitHTTP waits until each URL answers 200.
func (inst *Instance) waitHTTP(ctx context.Context, urls ...string) error {
	for _, u := range urls {
		if err := inst.poll(ctx, "waiting for "+u, func(ctx context.Context) (bool, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return false, err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false, nil
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// poll runs check until it is done, a process has exited (with the end of
// its log in the error) or startupTimeout passes.
func (inst *Instance) poll(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, startupTimeout, true, func(ctx context.Context) (bool, error) {
		if err := inst.exited(); err != nil {
			return false, err
		}
		return check(ctx)
	})
	if err != nil {
		var logs []string
		for _, p := range inst.procs {
			logs = append(logs, fmt.Sprintf("--- the end of %s ---\n%s", p.log, lastLines(p.log, 8)))
		}
		return fmt.Errorf("starting Argo CD: %s: %w\n%s", what, err, strings.Join(logs, "\n"))
	}
	return nil
}

// exited describes the processes that have exited, nil if none has.
func (inst *Instance) exited() error {
	var errs []error
	for _, p := range inst.procs {
		if !p.running() {
			errs = append(errs, fmt.Errorf("%s exited; the end of %s:\n%s", p.name, p.log, lastLines(p.log, 15)))
		}
	}
	return errors.Join(errs...)
}

// Exited reports the processes that exited since Start, with their logs'
// ends; nil while all run.
func (inst *Instance) Exited() error { return inst.exited() }

// RepoURL is the catalog repository's URL (git://127.0.0.1:<port>/catalog.git).
func (inst *Instance) RepoURL() string { return inst.repoURL }

// Namespace is Argo CD's namespace on the management cluster.
func (inst *Instance) Namespace() string { return inst.opts.Namespace }

// Kube is a client of the management cluster.
func (inst *Instance) Kube() kubernetes.Interface { return inst.kube }

// Dynamic is a dynamic client of the management cluster (Applications).
func (inst *Instance) Dynamic() dynamic.Interface { return inst.dyn }

// LogDir holds one log file per process.
func (inst *Instance) LogDir() string { return filepath.Join(inst.opts.Dir, "logs") }

// PIDs are the process ids of redis, git daemon and the three Argo CD roles.
func (inst *Instance) PIDs() []int {
	out := make([]int, 0, len(inst.procs))
	for _, p := range inst.procs {
		out = append(out, p.pid())
	}
	return out
}

// Close stops every process, the Argo CD roles first.
func (inst *Instance) Close() {
	for i := len(inst.procs) - 1; i >= 0; i-- {
		inst.procs[i].halt()
	}
	inst.procs = nil
}

// lastLines is the end of a log file.
func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
