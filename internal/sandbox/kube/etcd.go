package kube

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Etcd is the one etcd that every sandbox control plane stores its objects
// in, each under its own key prefix (kube-apiserver --etcd-prefix).
type Etcd struct {
	// URL is the client URL, on loopback.
	URL  string
	proc *process
}

// StartEtcd starts etcd with its data in dir/data (emptied first: the
// sandbox's clusters start afresh) and waits until it is healthy.
func StartEtcd(ctx context.Context, bins Binaries, dir string) (*Etcd, error) {
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return nil, fmt.Errorf("emptying the etcd data directory: %w", err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("creating the etcd data directory: %w", err)
	}
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	// Flags of etcd 3.4 (Debian's etcd-server):
	// https://etcd.io/docs/v3.4/op-guide/configuration/
	args := []string{
		"--name=sandbox", "--data-dir=" + data,
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=sandbox=" + peer, "--initial-cluster-state=new",
		"--logger=zap", "--log-outputs=stderr", "--log-level=warn",
		// Fewer raft entries kept in memory between snapshots than the
		// default 100000: the sandbox writes little and runs on laptops.
		"--snapshot-count=10000",
	}
	p, err := startProcess(ctx, "etcd", bins.Etcd, args, dir, filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	e := &Etcd{URL: client, proc: p}
	if err := e.waitHealthy(ctx); err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace+time.Second)
		defer cancel()
		_ = p.stop(sctx)
		return nil, err
	}
	return e, nil
}

// waitHealthy polls etcd's /health until it answers {"health":"true"}.
func (e *Etcd) waitHealthy(ctx context.Context) error {
	hc := &http.Client{Timeout: time.Second}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if e.proc.exited() {
			return false, e.proc.exitError()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/health", nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil // not listening yet
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for etcd to be healthy: %w", err)
	}
	return nil
}

// DeletePrefix deletes every key under prefix: what a deleted cluster's
// API server stored. It uses etcd's JSON gateway
// (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/), which takes
// keys in base64.
func (e *Etcd) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("refusing to delete every key of etcd")
	}
	end := []byte(prefix)
	end[len(end)-1]++ // the range [prefix, end) holds exactly the keys with the prefix
	body, err := json.Marshal(map[string]string{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/v3/kv/deleterange", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("deleting %s from etcd: %w", prefix, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("deleting %s from etcd: %s: %s", prefix, resp.Status, msg)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// PID is etcd's process id.
func (e *Etcd) PID() int { return e.proc.pid() }

// Stop stops etcd and waits for it to exit.
func (e *Etcd) Stop(ctx context.Context) error { return e.proc.stop(ctx) }

// FreePorts picks n distinct free TCP ports on loopback. The ports are
// released before the caller binds them, so another process may take one
// in between; starting a control plane retries on a fresh set if a
// process exits early.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
