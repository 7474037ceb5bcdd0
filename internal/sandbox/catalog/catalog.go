// Package catalog is the sandbox's demo app catalog: a directory of plain
// YAML per app (repo/apps), turned into a git repository at `sandbox up`
// for Argo CD to deploy, and the ApplicationSets that deploy it to the
// clusters of each environment (repo/applicationsets).
//
// The web app (apps/web) is a Deployment, a Service, a PodDisruptionBudget,
// a CronJob and a TargetGroupBinding. Two values differ per cluster and
// come from the cluster's Argo CD cluster secret through the ApplicationSet
// template: the CronJob's spec.suspend (label eksbg.io/singletons) and the
// TargetGroupBinding's spec.targetGroupARN (annotation
// eksbg.io/target-group-arn). Argo CD's directory source cannot patch plain
// YAML, so apps/web/cluster.jsonnet reads those two files and overrides the
// two fields from jsonnet extVars; Argo CD evaluates jsonnet in process,
// with no kustomize or helm binary.
//
// apps/legacy holds one manifest of an API Kubernetes 1.32 removed (a
// flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema) for eksbg's removed-API
// check; no ApplicationSet deploys it, as the sandbox's 1.33 API servers
// would refuse it.
package catalog

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/eksbg/eksbg/internal/gitops"
)

//go:embed all:repo
var embedded embed.FS

// Labels and annotations of Argo CD cluster secrets that the catalog's
// ApplicationSets read.
const (
	// LabelEnvironment selects the clusters of an environment.
	LabelEnvironment = "env"
	// LabelColor, LabelSingletons and AnnotationTargetGroupARN are eksbg's
	// (package gitops says what they mean).
	LabelColor               = gitops.LabelColor
	LabelSingletons          = gitops.LabelSingletons
	AnnotationTargetGroupARN = gitops.AnnotationTargetGroupARN
)

// Names of what the catalog deploys, for tests and docs.
const (
	// WebApp is the app directory apps/web, and the name of its
	// Deployment, Service, PodDisruptionBudget and TargetGroupBinding.
	WebApp = "web"
	// WebNamespace is where the web app is deployed on each cluster.
	WebNamespace = "web"
	// CronJob is the name of the web app's singleton CronJob.
	CronJob = "report"
	// LegacyDir holds the manifest of a removed API.
	LegacyDir = "apps/legacy"
)

// FS is the catalog's files, as they are committed to the repository.
func FS() fs.FS {
	sub, err := fs.Sub(embedded, "repo")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// ApplicationName is the Application the web ApplicationSet generates for
// a cluster secret named cluster.
func ApplicationName(cluster string) string { return "web-" + cluster }

// TargetGroupName is the name of the target group of an environment's
// color: the sandbox scenario's convention.
func TargetGroupName(environment, color string) string {
	return environment + "-" + color + "-" + WebApp
}

// ApplicationSets renders the catalog's ApplicationSets for the given
// environments, each selecting the cluster secrets labelled
// env=<environment>, with sources in the repository at repoURL. It returns
// one YAML document per environment and ApplicationSet.
func ApplicationSets(environments []string, repoURL string) ([][]byte, error) {
	paths, err := fs.Glob(FS(), "applicationsets/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing the catalog's ApplicationSets: %w", err)
	}
	var out [][]byte
	for _, p := range paths {
		raw, err := fs.ReadFile(FS(), p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		// [[ ]] so that Argo CD's own {{ }} templates pass through.
		tmpl, err := template.New(p).Delims("[[", "]]").Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		for _, env := range environments {
			var b bytes.Buffer
			if err := tmpl.Execute(&b, map[string]string{"Environment": env, "RepoURL": repoURL}); err != nil {
				return nil, fmt.Errorf("rendering %s for environment %s: %w", p, env, err)
			}
			out = append(out, b.Bytes())
		}
	}
	return out, nil
}

// WriteRepo writes the catalog as a bare git repository at dir (created
// or replaced), with one commit on branch main holding every file, and
// marks it for export by git daemon. It runs the git CLI with a
// configuration of its own, so the user's git settings do not apply.
func WriteRepo(ctx context.Context, dir string) error {
	work, err := os.MkdirTemp(filepath.Dir(dir), ".catalog-work-")
	if err != nil {
		return fmt.Errorf("creating the catalog's work tree: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, FS()); err != nil {
		return fmt.Errorf("copying the catalog: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	steps := [][]string{
		{"-C", work, "init", "--quiet", "--initial-branch=main"},
		{"-C", work, "add", "--all"},
		{"-C", work, "commit", "--quiet", "--message=eksbg sandbox catalog"},
		{"clone", "--quiet", "--bare", work, dir},
	}
	for _, args := range steps {
		if err := git(ctx, work, args...); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "git-daemon-export-ok"), nil, 0o600); err != nil {
		return fmt.Errorf("exporting the catalog repository: %w", err)
	}
	return nil
}

// git runs the git CLI isolated from the user's and the system's
// configuration (HOME and GIT_CONFIG_NOSYSTEM), with a fixed identity.
func git(ctx context.Context, home string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=eksbg sandbox", "GIT_AUTHOR_EMAIL=sandbox@eksbg.invalid",
		"GIT_COMMITTER_NAME=eksbg sandbox", "GIT_COMMITTER_EMAIL=sandbox@eksbg.invalid"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
