package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ClusterConfig describes the control plane of one sandbox cluster.
type ClusterConfig struct {
	// Name is the EKS cluster's name.
	Name string
	// EtcdPrefix is where the API server keeps its objects in the shared
	// etcd (default /clusters/<name>). A cluster created again under the
	// same name needs a new prefix, or it would find the old one's objects.
	EtcdPrefix string
	// ServiceCIDR is the service IPv4 range (EKS's default 172.20.0.0/16).
	ServiceCIDR string
	// Issuer is the service-account token issuer: the cluster's OIDC
	// issuer URL, as on EKS.
	Issuer string
	// AdvertiseIP is the address in the kubernetes Service's endpoints: on
	// EKS, a control-plane ENI's address in the cluster's VPC. The API
	// server itself listens on 127.0.0.1 only. Default 127.0.0.1.
	AdvertiseIP string
	// TokenWebhookURL, when set, is where the API server sends bearer
	// tokens to be checked (TokenReview v1), as EKS's API servers send them
	// to aws-iam-authenticator; client certificates work either way.
	TokenWebhookURL string
	// TokenWebhookCA is the PEM CA bundle that verifies an https webhook.
	TokenWebhookCA []byte
	// TokenWebhookCacheTTL is how long the API server caches a webhook's
	// answer (default 10s: short, so an expired EKS token is refused soon
	// after it expires).
	TokenWebhookCacheTTL time.Duration
	// Logger receives the control plane's own messages; default discards.
	Logger *slog.Logger
}

// ControlPlane is one cluster's running API server, controller manager,
// scheduler and kwok controller.
type ControlPlane struct {
	name     string
	dir      string
	endpoint string
	caPEM    []byte
	admin    *rest.Config
	client   kubernetes.Interface
	logger   *slog.Logger

	mu    sync.Mutex // guards procs
	procs []*process // the API server first

	ipam   *podIPAM
	cancel context.CancelFunc // stops the in-process controllers
	bg     sync.WaitGroup
}

// identities of the control plane's clients. The controller manager and
// scheduler get the users that Kubernetes' RBAC bootstrap policy binds
// (system:kube-controller-manager, system:kube-scheduler); kwok plays every
// kubelet at once, which the Node authorizer would not let one identity
// do, so it and the sandbox itself are system:masters.
var (
	adminIdentity = certSpec{CommonName: "eksbg:sandbox-admin", Organization: []string{"system:masters"}, Client: true}
	cmIdentity    = certSpec{CommonName: "system:kube-controller-manager", Client: true}
	schedIdentity = certSpec{CommonName: "system:kube-scheduler", Client: true}
	kwokIdentity  = certSpec{CommonName: "eksbg:kwok-controller", Organization: []string{"system:masters"}, Client: true}
)

// startAttempts bounds the retries when a just-picked free port was taken
// by someone else before the API server bound it.
const startAttempts = 3

// StartControlPlane writes the cluster's certificates and configuration
// under dir (emptied first) and starts its API server against etcd; once
// the API server is ready it starts the controller manager, the scheduler
// and kwok, and returns. Stop ends them all.
func StartControlPlane(ctx context.Context, bins Binaries, etcd *Etcd, dir string, cfg ClusterConfig) (*ControlPlane, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AdvertiseIP == "" {
		cfg.AdvertiseIP = "127.0.0.1"
	}
	if cfg.EtcdPrefix == "" {
		cfg.EtcdPrefix = "/clusters/" + cfg.Name
	}
	if cfg.TokenWebhookCacheTTL == 0 {
		cfg.TokenWebhookCacheTTL = 10 * time.Second
	}
	svcIP, err := firstServiceIP(cfg.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("emptying %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	now := time.Now()
	ca, err := newCA(now)
	if err != nil {
		return nil, err
	}
	if err := ca.write(filepath.Join(dir, "ca")); err != nil {
		return nil, err
	}
	if err := newServiceAccountKey(filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")); err != nil {
		return nil, err
	}
	serving, err := ca.issue(certSpec{CommonName: "kube-apiserver", Server: true,
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPs:      []net.IP{net.ParseIP("127.0.0.1"), net.IP(svcIP.AsSlice())}}, now)
	if err != nil {
		return nil, err
	}
	if err := serving.write(filepath.Join(dir, "apiserver")); err != nil {
		return nil, err
	}
	clients := map[string]*keyPair{}
	for file, id := range map[string]certSpec{"admin": adminIdentity, "controller-manager": cmIdentity, "scheduler": schedIdentity, "kwok": kwokIdentity} {
		kp, err := ca.issue(id, now)
		if err != nil {
			return nil, err
		}
		clients[file] = kp
	}
	if err := writeKwokConfig(filepath.Join(dir, "kwok.yaml")); err != nil {
		return nil, err
	}
	if cfg.TokenWebhookURL != "" {
		if err := writeWebhookConfig(filepath.Join(dir, "authn-webhook.kubeconfig"), cfg.TokenWebhookURL, cfg.TokenWebhookCA); err != nil {
			return nil, err
		}
	}

	var lastErr error
	for range startAttempts {
		cp, err := startOnce(ctx, bins, etcd, dir, cfg, ca, clients)
		if err == nil {
			return cp, nil
		}
		lastErr = err
		var exited *earlyExitError
		if !errors.As(err, &exited) {
			break
		}
		cfg.Logger.Warn("kube-apiserver exited while starting; retrying on another port", "cluster", cfg.Name, "error", err)
	}
	return nil, fmt.Errorf("starting the control plane of %s: %w", cfg.Name, lastErr)
}

// earlyExitError is the API server ending before it was ready, e.g.
// because its port was taken.
type earlyExitError struct{ err error }

func (e *earlyExitError) Error() string { return e.err.Error() }
func (e *earlyExitError) Unwrap() error { return e.err }

func startOnce(ctx context.Context, bins Binaries, etcd *Etcd, dir string, cfg ClusterConfig, ca *keyPair, clients map[string]*keyPair) (*ControlPlane, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	endpoint := "https://127.0.0.1:" + strconv.Itoa(ports[0])
	for name, kp := range clients {
		if err := writeKubeconfig(filepath.Join(dir, name+".kubeconfig"), cfg.Name, endpoint, ca.CertPEM, kp); err != nil {
			return nil, err
		}
	}
	path := func(f string) string { return filepath.Join(dir, f) }
	// Flags: https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/
	args := []string{
		"--etcd-servers=" + etcd.URL,
		"--etcd-prefix=" + cfg.EtcdPrefix,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ports[0]),
		"--advertise-address=" + cfg.AdvertiseIP,
		"--tls-cert-file=" + path("apiserver.crt"), "--tls-private-key-file=" + path("apiserver.key"),
		"--client-ca-file=" + path("ca.crt"),
		"--service-account-key-file=" + path("sa.pub"),
		"--service-account-signing-key-file=" + path("sa.key"),
		"--service-account-issuer=" + cfg.Issuer,
		"--service-cluster-ip-range=" + cfg.ServiceCIDR,
		// EKS authorizes with Node and RBAC, and adds NodeRestriction to the
		// default admission plugins
		// (https://docs.aws.amazon.com/eks/latest/userguide/platform-versions.html).
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--profiling=false",
	}
	if cfg.TokenWebhookURL != "" {
		args = append(args,
			"--authentication-token-webhook-config-file="+path("authn-webhook.kubeconfig"),
			"--authentication-token-webhook-version=v1",
			"--authentication-token-webhook-cache-ttl="+cfg.TokenWebhookCacheTTL.String())
	}
	api, err := startProcess(ctx, "kube-apiserver", bins.APIServer, args, dir, path("kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{name: cfg.Name, dir: dir, endpoint: endpoint, caPEM: ca.CertPEM, logger: cfg.Logger, procs: []*process{api}}
	// No client-wide Timeout: it would cut the pod IP assigner's watches.
	cp.admin = &rest.Config{Host: endpoint, QPS: 100, Burst: 200,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM, CertData: clients["admin"].CertPEM, KeyData: clients["admin"].KeyPEM}}
	client, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		cp.abort(ctx)
		return nil, fmt.Errorf("building the admin client: %w", err)
	}
	cp.client = client
	if err := cp.waitReady(ctx); err != nil {
		cp.abort(ctx)
		return nil, err
	}
	// The controller manager gives up if the API server is not healthy
	// within 10 s of its start (WaitForAPIServer in
	// cmd/kube-controller-manager/app/controllermanager.go), so the
	// controllers start once the API server is ready.
	cmArgs := []string{
		"--kubeconfig=" + path("controller-manager.kubeconfig"),
		// Every controller but node IPAM: pod addresses come from the VPC
		// CNI model, not from per-node pod CIDRs. The node lifecycle
		// controller stays: it lifts the not-ready taint off kwok's nodes.
		"--controllers=*,-nodeipam",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + path("sa.key"),
		"--root-ca-file=" + path("ca.crt"),
		"--cluster-signing-cert-file=" + path("ca.crt"), "--cluster-signing-key-file=" + path("ca.key"),
		"--cluster-name=" + cfg.Name,
		"--leader-elect=false", "--secure-port=0", "--profiling=false",
	}
	schedArgs := []string{"--kubeconfig=" + path("scheduler.kubeconfig"), "--leader-elect=false", "--secure-port=0", "--profiling=false"}
	kwokArgs := []string{
		"--kubeconfig=" + path("kwok.kubeconfig"), "--config=" + path("kwok.yaml"),
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=" + kwokNodeAnnotationValue,
		// Heartbeats through node leases, as kubelets send them (kwokctl's
		// default); the heartbeat-with-lease stage refreshes the conditions.
		"--node-lease-duration-seconds=40",
		// kwok logs every lease renewal at INFO.
		"--v=WARN",
	}
	for _, c := range []struct {
		name, bin string
		args      []string
	}{
		{"kube-controller-manager", bins.ControllerManager, cmArgs},
		{"kube-scheduler", bins.Scheduler, schedArgs},
		{"kwok", bins.Kwok, kwokArgs},
	} {
		p, err := startProcess(ctx, c.name, c.bin, c.args, dir, path(c.name+".log"))
		if err != nil {
			cp.abort(ctx)
			return nil, err
		}
		cp.mu.Lock()
		cp.procs = append(cp.procs, p)
		cp.mu.Unlock()
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cp.cancel = cancel
	cp.ipam = newPodIPAM(cp.client, cfg.Logger.With("cluster", cfg.Name))
	cp.bg.Add(1)
	go func() {
		defer cp.bg.Done()
		cp.ipam.run(bgCtx)
	}()
	return cp, nil
}

// waitReady polls the API server's /readyz until it answers ok.
func (cp *ControlPlane) waitReady(ctx context.Context) error {
	api := cp.procs[0]
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if api.exited() {
			return false, &earlyExitError{api.exitError()}
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		body, err := cp.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		return err == nil && string(body) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for kube-apiserver of %s to be ready: %w", cp.name, err)
	}
	return nil
}

// firstServiceIP is the kubernetes Service's address: the first of the range.
func firstServiceIP(cidr string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return netip.Addr{}, fmt.Errorf("service CIDR %q is not an IPv4 prefix", cidr)
	}
	return p.Masked().Addr().Next(), nil
}

// writeKubeconfig writes a kubeconfig that reaches the API server with a
// client certificate.
func writeKubeconfig(path, cluster, server string, caPEM []byte, kp *keyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[kp.cert.Subject.CommonName] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: kp.cert.Subject.CommonName}
	cfg.CurrentContext = cluster
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// writeWebhookConfig writes the token webhook's configuration: a
// kubeconfig whose cluster is the webhook
// (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication).
func writeWebhookConfig(path, url string, caPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["authn"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["authn"] = &clientcmdapi.Context{Cluster: "authn", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "authn"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing the token webhook config: %w", err)
	}
	return os.Chmod(path, 0o600)
}

// Name is the cluster's name.
func (cp *ControlPlane) Name() string { return cp.name }

// Endpoint is the API server's URL (https://127.0.0.1:<port>).
func (cp *ControlPlane) Endpoint() string { return cp.endpoint }

// CAPEM is the cluster CA's certificate, PEM-encoded.
func (cp *ControlPlane) CAPEM() []byte { return cp.caPEM }

// RESTConfig returns a copy of the sandbox's own client configuration: a
// client certificate in system:masters. eksbg itself reaches the cluster
// with EKS tokens instead.
func (cp *ControlPlane) RESTConfig() *rest.Config { return rest.CopyConfig(cp.admin) }

// Client is a clientset with the sandbox's admin identity.
func (cp *ControlPlane) Client() kubernetes.Interface { return cp.client }

// AdminKubeconfig is the path of a kubeconfig holding the admin identity.
func (cp *ControlPlane) AdminKubeconfig() string { return filepath.Join(cp.dir, "admin.kubeconfig") }

// Dir is where the control plane keeps its certificates, configuration
// and logs (<component>.log).
func (cp *ControlPlane) Dir() string { return cp.dir }

// PIDs maps each running component to its process id.
func (cp *ControlPlane) PIDs() map[string]int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	out := map[string]int{}
	for _, p := range cp.procs {
		if !p.exited() {
			out[p.name] = p.pid()
		}
	}
	return out
}

// Exited lists the components that ended on their own, with why.
func (cp *ControlPlane) Exited() []error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out []error
	for _, p := range cp.procs {
		if p.exited() {
			out = append(out, p.exitError())
		}
	}
	return out
}

// Stop stops the in-process controllers, then kwok, the scheduler and the
// controller manager together, then the API server, each by its process
// id, and waits for them.
func (cp *ControlPlane) Stop(ctx context.Context) error {
	if cp.cancel != nil {
		cp.cancel()
	}
	cp.bg.Wait()
	return cp.stopAll(ctx)
}

// abort stops what a failed start left running, waiting for it whatever
// the state of the start's context.
func (cp *ControlPlane) abort(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+5*time.Second)
	defer cancel()
	if cp.cancel != nil {
		cp.cancel()
	}
	cp.bg.Wait()
	_ = cp.stopAll(sctx)
}

func (cp *ControlPlane) stopAll(ctx context.Context) error {
	cp.mu.Lock()
	procs := cp.procs
	cp.mu.Unlock()
	if len(procs) == 0 {
		return nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, p := range procs[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := procs[0].stop(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
