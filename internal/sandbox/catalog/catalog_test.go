package catalog_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/sandbox/catalog"
)

// TestManifestsParse: every YAML file of the catalog is one or more
// Kubernetes objects with apiVersion, kind and name.
func TestManifestsParse(t *testing.T) {
	err := fs.WalkDir(catalog.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || strings.HasPrefix(p, "applicationsets/") {
			return err
		}
		raw, err := fs.ReadFile(catalog.FS(), p)
		if err != nil {
			return err
		}
		var o struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		if err := yaml.Unmarshal(raw, &o); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: not a Kubernetes object: %+v", p, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLegacyAPIIsNotDeployed: the catalog carries an API Kubernetes 1.32
// removed, in a directory no ApplicationSet deploys.
func TestLegacyAPIIsNotDeployed(t *testing.T) {
	raw, err := fs.ReadFile(catalog.FS(), catalog.LegacyDir+"/flowschema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3") {
		t.Fatal("the legacy manifest does not use flowcontrol.apiserver.k8s.io/v1beta3")
	}
	docs, err := catalog.ApplicationSets([]string{"demo"}, "git://127.0.0.1:1/catalog.git")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if strings.Contains(string(d), catalog.LegacyDir) {
			t.Fatalf("an ApplicationSet deploys %s:\n%s", catalog.LegacyDir, d)
		}
	}
}

func TestApplicationSets(t *testing.T) {
	docs, err := catalog.ApplicationSets([]string{"demo", "shop"}, "git://127.0.0.1:9418/catalog.git")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d ApplicationSets, want one per environment", len(docs))
	}
	for i, env := range []string{"demo", "shop"} {
		var as struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				GoTemplate bool `yaml:"goTemplate"`
				Generators []struct {
					Clusters struct {
						Selector struct {
							MatchLabels map[string]string `yaml:"matchLabels"`
						} `yaml:"selector"`
					} `yaml:"clusters"`
				} `yaml:"generators"`
				Template struct {
					Spec struct {
						Source struct {
							RepoURL   string `yaml:"repoURL"`
							Path      string `yaml:"path"`
							Directory struct {
								Jsonnet struct {
									ExtVars []struct{ Name, Value string } `yaml:"extVars"`
								} `yaml:"jsonnet"`
							} `yaml:"directory"`
						} `yaml:"source"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(docs[i], &as); err != nil {
			t.Fatalf("%s: %v\n%s", env, err, docs[i])
		}
		src := as.Spec.Template.Spec.Source
		if as.Kind != "ApplicationSet" || as.Metadata.Name != "web-"+env || !as.Spec.GoTemplate || len(as.Spec.Generators) != 1 ||
			as.Spec.Generators[0].Clusters.Selector.MatchLabels[catalog.LabelEnvironment] != env ||
			src.RepoURL != "git://127.0.0.1:9418/catalog.git" || src.Path != "apps/web" || len(src.Directory.Jsonnet.ExtVars) != 2 {
			t.Errorf("%s: %+v", env, as)
		}
		for _, v := range src.Directory.Jsonnet.ExtVars {
			key := map[string]string{"singletons": catalog.LabelSingletons, "targetGroupARN": catalog.AnnotationTargetGroupARN}[v.Name]
			if key == "" || !strings.Contains(v.Value, `"`+key+`"`) {
				t.Errorf("%s: extVar %s = %q does not read %q", env, v.Name, v.Value, key)
			}
		}
	}
}

// TestWriteRepo: the bare repository holds every catalog file on main.
func TestWriteRepo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "catalog.git")
	if err := catalog.WriteRepo(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", dir, "ls-tree", "-r", "--name-only", "main").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	var want []string
	if err := fs.WalkDir(catalog.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			want = append(want, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("repository holds %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "git-daemon-export-ok")); err != nil {
		t.Fatal("the repository is not marked for git daemon")
	}
}
