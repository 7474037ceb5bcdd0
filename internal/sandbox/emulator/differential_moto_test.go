package emulator_test

// Helpers of TestDifferentialMoto (differential_test.go): starting moto's
// server, and the normalising field-by-field diff of two SDK answers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// lockedBuffer collects a child process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startMoto runs moto's server (the moto package of the machine's Python)
// on a free loopback port for the test's lifetime and returns an SDK
// configuration pointed at it. It fails the test, with moto's stderr, when
// the server does not come up.
func startMoto(t *testing.T, region string) aws.Config {
	t.Helper()
	sandboxtest.SkipShort(t, "moto_server")
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("finding a free port for moto: %v", err)
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		// moto 5 always answers as account 123456789012 (diffAccount): the
		// scenario uses the same account, so owner IDs and ARNs compare.
		cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
		stderr := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = stderr, stderr
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("starting moto_server: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			cancel()
			<-exited
		}
		if err := waitForMoto(url, exited); err != nil {
			stop()
			lastErr = fmt.Sprintf("%v\nmoto_server output:\n%s", err, stderr.String())
			if strings.Contains(stderr.String(), "Address already in use") {
				continue // lost the port to another process: try another
			}
			t.Fatalf("moto_server did not start: %s", lastErr)
		}
		t.Cleanup(stop)
		cfg, err := config.LoadDefaultConfig(context.Background(),
			config.WithRegion(region),
			config.WithBaseEndpoint(url),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
			config.WithRetryMaxAttempts(1),
		)
		if err != nil {
			t.Fatalf("SDK config for moto: %v", err)
		}
		return cfg
	}
	t.Fatalf("moto_server did not start: %s", lastErr)
	return aws.Config{}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listening on loopback: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitForMoto polls moto's own API until it answers, the process exits, or
// 30 seconds pass.
func waitForMoto(url string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("moto_server exited: %v", err)
		default:
		}
		resp, err := client.Get(url + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("moto_server did not answer within 30s")
}

// absent renders a field one side does not send.
const absent = "<absent>"

// difference is one field whose value differs between the two answers.
type difference struct {
	Path     string
	Emulator string
	Moto     string
}

func (d difference) String() string {
	return fmt.Sprintf("%s: emulator %s, moto %s", d.Path, d.Emulator, d.Moto)
}

// diffOptions says how one call's answers are compared.
type diffOptions struct {
	// Fields lists the dotted field paths compared (lists are transparent:
	// "Subnets.CidrBlock" is the CidrBlock of every subnet); a path selects
	// its whole subtree. Everything else is left out: fields only one of the
	// two implements, and fields AWS itself randomises.
	Fields []string
	// Strings rewrites every string of one side's answer after IDs are
	// replaced by names (side is "emulator" or "moto").
	Strings func(side, s string) string
}

// listKeys are the fields, most specific first, whose value identifies an
// element of a list, so lists compare element by element whatever their
// order; "Target.Id" is a nested field.
var listKeys = []string{"RuleArn", "ListenerArn", "TargetGroupArn", "LoadBalancerArn", "ResourceArn",
	"NetworkInterfaceId", "SubnetId", "VpcId", "InstanceType", "ZoneName", "Key", "Field", "Type",
	"PrivateIpAddress", "Ipv4Prefix", "CidrBlock", "Target.Id"}

// tree turns an SDK output into generic JSON with the SDK's bookkeeping,
// nulls, empty strings and empty collections removed: AWS omits an empty
// list as often as it sends one empty, and the SDK decodes an absent enum
// as "".
func tree(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshalling %T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", v, err)
	}
	return clean(out), nil
}

func clean(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "ResultMetadata")
		for k, val := range x {
			if c := clean(val); c == nil {
				delete(x, k)
			} else {
				x[k] = c
			}
		}
		if len(x) == 0 {
			return nil
		}
		return x
	case string:
		// The SDK decodes an absent enum as "": the two cannot be told apart.
		if x == "" {
			return nil
		}
		return x
	case []any:
		out := x[:0]
		for _, val := range x {
			if c := clean(val); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// mapStrings applies f to every string of a tree.
func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = mapStrings(val, f)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = mapStrings(val, f)
		}
		return x
	case string:
		return f(x)
	}
	return v
}

// project keeps the fields paths name.
func project(v any, paths [][]string) any {
	for _, p := range paths {
		if len(p) == 0 {
			return v
		}
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			var sub [][]string
			for _, p := range paths {
				if p[0] == k {
					sub = append(sub, p[1:])
				}
			}
			if len(sub) > 0 {
				if c := project(val, sub); c != nil {
					out[k] = c
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, val := range x {
			if c := project(val, paths); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil // a scalar where the path goes deeper
}

// idTable maps each side's IDs and ARNs to the names of the resources both
// sides created, so answers compare although IDs differ.
type idTable struct {
	emulator, moto map[string]string // real ID or ARN -> ⟨name⟩
	// exact holds values replaced only where they are a whole string
	// (addresses: 10.0.0.1 is part of 10.0.0.10).
	exactEmulator, exactMoto map[string]string
}

func newIDTable() *idTable {
	return &idTable{emulator: map[string]string{}, moto: map[string]string{},
		exactEmulator: map[string]string{}, exactMoto: map[string]string{}}
}

// addExact records values replaced only where a whole string equals them.
func (t *idTable) addExact(name, emuValue, motoValue string) {
	if emuValue != "" {
		t.exactEmulator[emuValue] = "⟨" + name + "⟩"
	}
	if motoValue != "" {
		t.exactMoto[motoValue] = "⟨" + name + "⟩"
	}
}

// lookup returns one side's ID of a named resource.
func (t *idTable) lookup(side, name string) (string, bool) {
	m, exact := t.emulator, t.exactEmulator
	if side == "moto" {
		m, exact = t.moto, t.exactMoto
	}
	for _, mm := range []map[string]string{m, exact} {
		for k, v := range mm {
			if v == "⟨"+name+"⟩" {
				return k, true
			}
		}
	}
	return "", false
}

// add records that name is emuID in the emulator and motoID in moto; an
// empty ID (the resource is missing on that side) is skipped.
func (t *idTable) add(name, emuID, motoID string) {
	if emuID != "" {
		t.emulator[emuID] = "⟨" + name + "⟩"
	}
	if motoID != "" {
		t.moto[motoID] = "⟨" + name + "⟩"
	}
}

// replacer replaces one side's IDs and ARNs, longest first, wherever they
// occur (an ARN holds an ID; a message quotes one).
func (t *idTable) replacer(side string) *strings.Replacer {
	m := t.emulator
	if side == "moto" {
		m = t.moto
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return len(keys[i]) > len(keys[j]) || len(keys[i]) == len(keys[j]) && keys[i] < keys[j]
	})
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k, m[k])
	}
	return strings.NewReplacer(pairs...)
}

// normalise turns one side's SDK output into the tree that is compared.
func normalise(side string, out any, ids *idTable, o diffOptions) (any, error) {
	v, err := tree(out)
	if err != nil {
		return nil, err
	}
	r := ids.replacer(side)
	exact := ids.exactEmulator
	if side == "moto" {
		exact = ids.exactMoto
	}
	v = mapStrings(v, func(s string) string {
		if name, ok := exact[s]; ok {
			s = name
		}
		s = r.Replace(s)
		if o.Strings != nil {
			s = o.Strings(side, s)
		}
		return s
	})
	if len(o.Fields) > 0 {
		paths := make([][]string, len(o.Fields))
		for i, f := range o.Fields {
			paths[i] = strings.Split(f, ".")
		}
		v = project(v, paths)
	}
	return v, nil
}

// compareOutputs normalises both answers and returns their differences.
func compareOutputs(emu, moto any, ids *idTable, o diffOptions) ([]difference, error) {
	a, err := normalise("emulator", emu, ids, o)
	if err != nil {
		return nil, err
	}
	b, err := normalise("moto", moto, ids, o)
	if err != nil {
		return nil, err
	}
	var out []difference
	diffTrees("", a, b, &out)
	return out, nil
}

func render(v any) string {
	if v == nil {
		return absent
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// diffTrees walks both trees and records every leaf (or whole subtree
// present on one side only) that differs. Lists are matched element by
// element through listKeys.
func diffTrees(path string, a, b any, out *[]difference) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedStrings(keys) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffTrees(p, am[k], bm[k], out)
		}
		return
	}
	al, aIsList := a.([]any)
	bl, bIsList := b.([]any)
	if aIsList && bIsList && scalars(al) && scalars(bl) {
		// A list of strings or numbers is a set: compared whole, sorted.
		sa, sb := sortedRendered(al), sortedRendered(bl)
		if sa != sb {
			*out = append(*out, difference{Path: path, Emulator: sa, Moto: sb})
		}
		return
	}
	if aIsList && bIsList {
		ai, bi := indexList(al), indexList(bl)
		keys := map[string]bool{}
		for k := range ai {
			keys[k] = true
		}
		for k := range bi {
			keys[k] = true
		}
		for _, k := range sortedStrings(keys) {
			diffTrees(path+"["+k+"]", ai[k], bi[k], out)
		}
		return
	}
	if ra, rb := render(a), render(b); ra != rb {
		*out = append(*out, difference{Path: path, Emulator: ra, Moto: rb})
	}
}

// indexList keys a list's elements by their identifying field (or their
// own value); elements sharing a key are told apart by #n in the order of
// their encodings.
func indexList(l []any) map[string]any {
	groups := map[string][]any{}
	for _, e := range l {
		k := elementKey(e)
		groups[k] = append(groups[k], e)
	}
	out := map[string]any{}
	for k, g := range groups {
		if len(g) == 1 {
			out[k] = g[0]
			continue
		}
		sort.SliceStable(g, func(i, j int) bool { return render(g[i]) < render(g[j]) })
		for i, e := range g {
			out[k+"#"+strconv.Itoa(i)] = e
		}
	}
	return out
}

func elementKey(e any) string {
	m, ok := e.(map[string]any)
	if !ok {
		if s, ok := e.(string); ok {
			return s
		}
		return render(e)
	}
	for _, k := range listKeys {
		var v any = m
		for _, part := range strings.Split(k, ".") {
			mm, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = mm[part]
		}
		if s, ok := v.(string); ok {
			return s
		}
	}
	return render(e)
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// apiErrorTree is the comparable part of a failed call: the HTTP status and
// the error's code and message.
func apiErrorTree(err error) map[string]any {
	if err == nil {
		return map[string]any{"Error": "<none: the call succeeded>"}
	}
	out := map[string]any{}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out["Code"], out["Message"] = ae.ErrorCode(), ae.ErrorMessage()
	} else {
		out["Error"] = err.Error()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		out["HTTPStatus"] = strconv.Itoa(re.HTTPStatusCode())
	}
	return out
}

// knownDifference is a difference between the emulator and moto that AWS's
// documentation settles (in the emulator's favour: where it backs moto the
// emulator is fixed instead).
type knownDifference struct {
	// Call is the subtest and Path the field; in both, * matches any run
	// of characters.
	Call, Path string
	// Emulator and Moto are the two values as the diff renders them (* as in Path).
	Emulator, Moto string
	// Backed is the side AWS's documentation backs; Doc is that documentation.
	Backed, Doc string
	// Why says what AWS documents.
	Why string
}

func (k knownDifference) matches(call string, d difference) bool {
	return globMatch(k.Call, call) && globMatch(k.Path, d.Path) && globMatch(k.Emulator, d.Emulator) && globMatch(k.Moto, d.Moto)
}

// globMatch matches s against a pattern whose only wildcard is *.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	re := make([]string, len(parts))
	for i, p := range parts {
		re[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(re, ".*") + "$").MatchString(s)
}

func scalars(l []any) bool {
	for _, e := range l {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func sortedRendered(l []any) string {
	c := append([]any{}, l...)
	sort.SliceStable(c, func(i, j int) bool { return render(c[i]) < render(c[j]) })
	return render(c)
}
