// Package iamactions derives, from eksbg's Go source, the IAM actions
// eksbg needs: one per AWS API operation the code can call. The iam
// Terraform module's policy is generated from the result
// (terraform/internal/iamgen) and a test keeps the two equal.
//
// An operation counts when a non-test Go file names, through an import of
// github.com/aws/aws-sdk-go-v2/service/<name>:
//
//   - its input type, <svc>.<Op>Input (a call, a consumer-side interface
//     declaring the method, or an input built for a paginator or waiter);
//   - its paginator, <svc>.New<Op>Paginator;
//   - a waiter, <svc>.New<Thing>Waiter, which polls the operation its SDK
//     source file (api_op_<Op>.go) belongs to;
//   - a presigned request, <presign client>.Presign<Op>.
//
// Operations are checked against the SDK's own source (each has an
// api_op_<Op>.go file), so a name that only looks like one is an error,
// not a silent extra permission.
package iamactions

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ServicePrefix maps an aws-sdk-go-v2 service package to its IAM action
// prefix (the service's signing name).
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
var servicePrefix = map[string]string{
	"ec2":                    "ec2",
	"eks":                    "eks",
	"elasticloadbalancingv2": "elasticloadbalancing",
	"cloudwatch":             "cloudwatch",
	"servicequotas":          "servicequotas",
	"sts":                    "sts",
	"s3":                     "s3",
}

// operationActions are the IAM actions of operations that do not need
// exactly <prefix>:<Op>. S3's actions are not its operations' names
// (https://docs.aws.amazon.com/AmazonS3/latest/API/using-with-s3-policy-actions.html),
// and GetObject and HeadObject of a key that does not exist answer 403
// instead of 404 NoSuchKey without s3:ListBucket on the bucket
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
// "Permissions"): eksbg tells "no journal yet" from "no access" by it.
var operationActions = map[string][]string{
	"s3:GetObject":     {"s3:GetObject", "s3:ListBucket"},
	"s3:HeadObject":    {"s3:GetObject", "s3:ListBucket"},
	"s3:HeadBucket":    {"s3:ListBucket"},
	"s3:ListObjects":   {"s3:ListBucket"},
	"s3:ListObjectsV2": {"s3:ListBucket"},
	"s3:ListBuckets":   {"s3:ListAllMyBuckets"},
	"s3:DeleteObjects": {"s3:DeleteObject"},
}

const sdkServicePath = "github.com/aws/aws-sdk-go-v2/service/"

// Use is one place where the code uses an operation.
type Use struct {
	// Action is the IAM action, e.g. "ec2:DescribeSubnets".
	Action string
	// Pos is file:line, relative to the scanned root.
	Pos string
}

// Options say what to scan.
type Options struct {
	// Root is the directory scanned, recursively.
	Root string
	// Exclude are directories, relative to Root with forward slashes,
	// left out with everything under them.
	Exclude []string
	// ModuleDir is where `go list` resolves the SDK packages: a directory
	// of the Go module that requires them. Defaults to Root.
	ModuleDir string
}

// ForEksbg are the options for eksbg's own module rooted at root. It
// leaves out internal/sandbox: the AWS API emulator, and the inventory of
// `eksbg sandbox status`, which only ever talks to the emulator.
func ForEksbg(root string) Options {
	return Options{Root: root, Exclude: []string{"internal/sandbox"}}
}

// FormatJSON renders actions as the iam module's actions.json: a JSON
// array, one action a line.
func FormatJSON(actions []string) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i, a := range actions {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %q", a)
	}
	if len(actions) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// Derive scans the Go files under o.Root and returns every use of an AWS
// API operation, sorted by action then position.
func Derive(ctx context.Context, o Options) ([]Use, error) {
	if o.ModuleDir == "" {
		o.ModuleDir = o.Root
	}
	refs, err := scan(o)
	if err != nil {
		return nil, err
	}
	var services []string
	for _, r := range refs {
		if !slices.Contains(services, r.service) {
			services = append(services, r.service)
		}
	}
	sdk, err := loadSDK(ctx, o.ModuleDir, services)
	if err != nil {
		return nil, err
	}
	var uses []Use
	var problems []string
	for _, r := range refs {
		s := sdk[r.service]
		prefix, ok := servicePrefix[r.service]
		if r.loose && (!ok || !s.ops[r.op]) {
			continue
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: service %s has no IAM prefix: add it to servicePrefix in terraform/internal/iamactions", r.pos, r.service))
			continue
		}
		op := r.op
		if r.waiter != "" {
			if op, ok = s.waiters[r.waiter]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s.New%sWaiter is not a waiter of the SDK's %s package", r.pos, r.service, r.waiter, r.service))
				continue
			}
		}
		if !s.ops[op] {
			problems = append(problems, fmt.Sprintf("%s: %s is not an operation of the SDK's %s package", r.pos, op, r.service))
			continue
		}
		action := prefix + ":" + op
		actions, ok := operationActions[action]
		if !ok {
			actions = []string{action}
		}
		for _, a := range actions {
			uses = append(uses, Use{Action: a, Pos: r.pos})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("deriving IAM actions:\n  %s", strings.Join(problems, "\n  "))
	}
	slices.SortFunc(uses, func(a, b Use) int {
		if c := strings.Compare(a.Action, b.Action); c != 0 {
			return c
		}
		return strings.Compare(a.Pos, b.Pos)
	})
	// A paginator and its input on one line are one use.
	return slices.Compact(uses), nil
}

// Actions returns the distinct actions of uses, sorted.
func Actions(uses []Use) []string {
	var a []string
	for _, u := range uses {
		if len(a) == 0 || a[len(a)-1] != u.Action {
			a = append(a, u.Action)
		}
	}
	return a
}

// ref is an operation named in the source, not yet checked against the SDK.
type ref struct {
	service string
	op      string
	waiter  string // set for New<waiter>Waiter: op comes from the SDK
	// loose refs come from a Presign<Op> method on any receiver in a file
	// importing the service: dropped, not an error, if the SDK has no Op.
	loose bool
	pos   string
}

var (
	inputRe     = regexp.MustCompile(`^([A-Z]\w*)Input$`)
	paginatorRe = regexp.MustCompile(`^New([A-Z]\w*)Paginator$`)
	waiterRe    = regexp.MustCompile(`^New([A-Z]\w*)Waiter$`)
	presignRe   = regexp.MustCompile(`^Presign([A-Z]\w*)$`)
)

func scan(o Options) ([]ref, error) {
	var refs []ref
	fset := token.NewFileSet()
	err := filepath.WalkDir(o.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(o.Root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if path != o.Root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if slices.Contains(o.Exclude, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// Files this platform's build would leave out (//go:build ignore
		// generators, other OSes) are not eksbg.
		if ok, err := build.Default.MatchFile(filepath.Dir(path), d.Name()); err != nil || !ok {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		refs = append(refs, fileRefs(fset, f, rel)...)
		return nil
	})
	return refs, err
}

// fileRefs finds the operations one file names.
func fileRefs(fset *token.FileSet, f *ast.File, rel string) []ref {
	services := map[string]string{} // local import name -> service
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		svc, ok := strings.CutPrefix(p, sdkServicePath)
		if !ok || strings.Contains(svc, "/") {
			continue
		}
		name := svc
		if imp.Name != nil {
			name = imp.Name.Name
		}
		services[name] = svc
	}
	if len(services) == 0 {
		return nil
	}
	var refs []ref
	pos := func(n ast.Node) string {
		return fmt.Sprintf("%s:%d", rel, fset.Position(n.Pos()).Line)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		name := sel.Sel.Name
		if id, ok := sel.X.(*ast.Ident); ok {
			if svc, ok := services[id.Name]; ok {
				if m := inputRe.FindStringSubmatch(name); m != nil {
					refs = append(refs, ref{service: svc, op: m[1], pos: pos(sel)})
				} else if m := paginatorRe.FindStringSubmatch(name); m != nil {
					refs = append(refs, ref{service: svc, op: m[1], pos: pos(sel)})
				} else if m := waiterRe.FindStringSubmatch(name); m != nil {
					refs = append(refs, ref{service: svc, waiter: m[1], pos: pos(sel)})
				}
				return true
			}
		}
		if m := presignRe.FindStringSubmatch(name); m != nil {
			for _, svc := range services {
				refs = append(refs, ref{service: svc, op: m[1], loose: true, pos: pos(sel)})
			}
		}
		return true
	})
	return refs
}

// sdkService is what the SDK's source says about one service package.
type sdkService struct {
	ops     map[string]bool
	waiters map[string]string // waiter name (ClusterActive) -> operation
}

var waiterDeclRe = regexp.MustCompile(`(?m)^func New([A-Z]\w*)Waiter\(`)

// loadSDK reads the SDK's service packages from the module cache: each
// operation has a file api_op_<Op>.go, which also declares the waiters
// polling that operation.
func loadSDK(ctx context.Context, moduleDir string, services []string) (map[string]sdkService, error) {
	out := map[string]sdkService{}
	if len(services) == 0 {
		return out, nil
	}
	args := []string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}"}
	for _, s := range services {
		args = append(args, sdkServicePath+s)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	list, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating the AWS SDK packages: go list: %w: %s", err, stderr.String())
	}
	for line := range strings.Lines(string(list)) {
		importPath, dir, _ := strings.Cut(strings.TrimSpace(line), "\t")
		files, err := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
		if err != nil {
			return nil, err
		}
		s := sdkService{ops: map[string]bool{}, waiters: map[string]string{}}
		for _, file := range files {
			op := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "api_op_"), ".go")
			s.ops[op] = true
			src, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			for _, m := range waiterDeclRe.FindAllSubmatch(src, -1) {
				s.waiters[string(m[1])] = op
			}
		}
		out[strings.TrimPrefix(importPath, sdkServicePath)] = s
	}
	return out, nil
}
