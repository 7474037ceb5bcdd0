package emulator_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// s3Scenario has one bucket, in a region other than us-east-1 so
// CreateBucket needs its location constraint.
const s3Scenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: eu-west-1
vpcs: []
buckets:
  - name: eksbg-state
`

const s3Bucket = "eksbg-state"

func startS3(t *testing.T, opts ...sandboxtest.Option) (*sandboxtest.Env, *s3.Client) {
	t.Helper()
	env := sandboxtest.StartYAML(t, s3Scenario, opts...)
	return env, s3.NewFromConfig(env.AWS, func(o *s3.Options) { o.UsePathStyle = true })
}

func quotedMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func put(t *testing.T, c *s3.Client, key, body string, opt func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	if opt != nil {
		opt(in)
	}
	return c.PutObject(t.Context(), in)
}

func mustPut(t *testing.T, c *s3.Client, key, body string) string {
	t.Helper()
	out, err := put(t, c, key, body, nil)
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return aws.ToString(out.ETag)
}

func readBody(t *testing.T, out *s3.GetObjectOutput) string {
	t.Helper()
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestS3ConditionalRequests checks each conditional header of the object
// operations against the code and status S3 answers with.
func TestS3ConditionalRequests(t *testing.T) {
	_, c := startS3(t)
	ctx := t.Context()
	first := mustPut(t, c, "env/lock.json", "v1")
	if first != quotedMD5("v1") {
		t.Fatalf("ETag %s, want the quoted MD5 %s", first, quotedMD5("v1"))
	}
	second := mustPut(t, c, "env/journal.json", "j1")
	old := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)

	for _, tt := range []struct {
		name   string
		call   func() error
		code   string // "" for success
		status int
	}{
		{"create-only on an existing key", func() error {
			_, err := put(t, c, "env/lock.json", "v2", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
			return err
		}, "PreconditionFailed", 412},
		{"create-only on a new key", func() error {
			_, err := put(t, c, "env/new.json", "n", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
			return err
		}, "", 200},
		{"If-None-Match with an ETag on a write", func() error {
			_, err := put(t, c, "env/other.json", "n", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String(first) })
			return err
		}, "NotImplemented", 501},
		{"compare and swap with a stale ETag", func() error {
			_, err := put(t, c, "env/journal.json", "j2", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(quotedMD5("j0")) })
			return err
		}, "PreconditionFailed", 412},
		{"compare and swap on a missing key", func() error {
			_, err := put(t, c, "env/missing.json", "x", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(first) })
			return err
		}, "NoSuchKey", 404},
		{"GetObject If-Match differs", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatch: aws.String(second)})
			return err
		}, "PreconditionFailed", 412},
		{"GetObject If-None-Match matches", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfNoneMatch: aws.String(first)})
			return err
		}, "NotModified", 304},
		{"GetObject If-None-Match differs", func() error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfNoneMatch: aws.String(second)})
			if err == nil && readBody(t, out) != "v1" {
				return errors.New("wrong body")
			}
			return err
		}, "", 200},
		{"GetObject not modified since a future time", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfModifiedSince: aws.Time(future)})
			return err
		}, "NotModified", 304},
		{"GetObject unmodified since an hour ago", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfUnmodifiedSince: aws.Time(old)})
			return err
		}, "PreconditionFailed", 412},
		{"GetObject If-Match true overrides If-Unmodified-Since", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatch: aws.String(first), IfUnmodifiedSince: aws.Time(old)})
			return err
		}, "", 200},
		{"GetObject of a missing key", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/missing.json")})
			var nsk *types.NoSuchKey
			if err != nil && !errors.As(err, &nsk) {
				return fmt.Errorf("not the SDK's NoSuchKey: %w", err)
			}
			return err
		}, "NoSuchKey", 404},
		{"HeadObject If-Match differs", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatch: aws.String(second)})
			return err
		}, "PreconditionFailed", 412},
		{"HeadObject If-None-Match matches", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfNoneMatch: aws.String(`"x", ` + first)})
			return err
		}, "NotModified", 304},
		{"HeadObject of a missing key", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/missing.json")})
			return err
		}, "NotFound", 404},
		{"DeleteObject If-Match differs", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatch: aws.String(second)})
			return err
		}, "PreconditionFailed", 412},
		{"DeleteObject If-Match on a missing key", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/missing.json"), IfMatch: aws.String("*")})
			return err
		}, "NoSuchKey", 404},
		{"DeleteObject of a missing key, unconditional", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/missing.json")})
			return err
		}, "", 204},
		{"DeleteObject If-Match-Size (directory buckets only)", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatchSize: aws.Int64(2)})
			return err
		}, "NotImplemented", 501},
		{"PutObject to a missing bucket", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		}, "NoSuchBucket", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			eksAPIError(t, err, tt.code, tt.status)
		})
	}

	// A successful swap returns the new ETag; the old one no longer works.
	out, err := put(t, c, "env/journal.json", "j2", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(second) })
	if err != nil || aws.ToString(out.ETag) != quotedMD5("j2") {
		t.Fatalf("swap: %v, %v", out, err)
	}
	if _, err := put(t, c, "env/journal.json", "j3", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(second) }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("second swap from the same ETag: %v", err)
	}
	// A conditional delete with the right ETag deletes.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json"), IfMatch: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/lock.json")}); errorCode(err) != "NotFound" {
		t.Fatalf("after the conditional delete: %v", err)
	}
}

// TestS3Objects: what PutObject stores and GetObject and HeadObject return.
func TestS3Objects(t *testing.T) {
	env, c := startS3(t)
	ctx := t.Context()
	body := `{"version":1}`
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("a/b c.json"), Body: strings.NewReader(body),
		ContentType: aws.String("application/json"), Metadata: map[string]string{"Owner": "alice"},
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	if put.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3" ||
		aws.ToString(put.ChecksumSHA256) == "" {
		t.Errorf("PutObject output: SSE %q key %q checksum %q", put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId), aws.ToString(put.ChecksumSHA256))
	}
	// The SDK validates the checksum the emulator returns (SHA256 here).
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("a/b c.json"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, got); b != body || aws.ToString(got.ContentType) != "application/json" || aws.ToInt64(got.ContentLength) != int64(len(body)) ||
		got.Metadata["owner"] != "alice" || aws.ToString(got.ETag) != quotedMD5(body) || got.LastModified == nil || aws.ToString(got.ChecksumSHA256) != aws.ToString(put.ChecksumSHA256) {
		t.Errorf("GetObject: body %q type %q length %d metadata %v etag %s", b, aws.ToString(got.ContentType), aws.ToInt64(got.ContentLength), got.Metadata, aws.ToString(got.ETag))
	}
	// Without a checksum the SDK sends CRC32 (WhenSupported); S3 keeps it.
	mustPut(t, c, "plain", "hello")
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("plain"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 5 || head.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToString(head.ChecksumCRC32) == "" ||
		aws.ToString(head.ContentType) != "application/octet-stream" {
		t.Errorf("HeadObject: length %d SSE %q crc32 %q type %q", aws.ToInt64(head.ContentLength), head.ServerSideEncryption, aws.ToString(head.ChecksumCRC32), aws.ToString(head.ContentType))
	}
	// Ranges.
	// S3 returns no checksum for part of an object (nor does the emulator): the SDK would log that.
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("plain"), Range: aws.String("bytes=1-3")},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, rg); b != "ell" || aws.ToString(rg.ContentRange) != "bytes 1-3/5" {
		t.Errorf("range: %q %q", b, aws.ToString(rg.ContentRange))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("plain"), Range: aws.String("bytes=9-")})
	eksAPIError(t, err, "InvalidRange", 416)
	// A corrupted body is refused: Content-MD5 that does not match.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("bad"), Body: strings.NewReader("x"),
		ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	eksAPIError(t, err, "BadDigest", 400)

	// The world keeps the objects: a restart from saved state serves them.
	var n int
	env.Server.View(func(w *emulator.World) { n = len(w.Buckets[s3Bucket].Objects) })
	if n != 2 {
		t.Errorf("%d objects in the world, want 2", n)
	}
}

func TestS3Persistence(t *testing.T) {
	state := filepath.Join(t.TempDir(), "world.json")
	_, c := startS3(t, sandboxtest.WithState(state))
	etag := mustPut(t, c, "env/journal.json", "saved")
	_, c2 := startS3(t, sandboxtest.WithState(state))
	out, err := c2.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/journal.json")})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, out); b != "saved" || aws.ToString(out.ETag) != etag {
		t.Fatalf("after restart: %q %s", b, aws.ToString(out.ETag))
	}
	if st, err := os.Stat(state); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", st, err)
	}
}

func TestS3Buckets(t *testing.T) {
	env, c := startS3(t)
	ctx := t.Context()
	eu := &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("second.bucket"), CreateBucketConfiguration: eu}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("second.bucket"), CreateBucketConfiguration: eu})
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Errorf("creating it again: %v", err)
	}
	eksAPIError(t, err, "BucketAlreadyOwnedByYou", 409)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("third")})
	eksAPIError(t, err, "IllegalLocationConstraintException", 400)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("third"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}})
	eksAPIError(t, err, "IllegalLocationConstraintException", 400)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name"), CreateBucketConfiguration: eu})
	eksAPIError(t, err, "InvalidBucketName", 400)

	hb, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s3Bucket)})
	if err != nil || aws.ToString(hb.BucketRegion) != "eu-west-1" {
		t.Fatalf("HeadBucket: %+v %v", hb, err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	eksAPIError(t, err, "NotFound", 404)
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(s3Bucket)})
	if err != nil || loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Fatalf("GetBucketLocation: %+v %v", loc, err)
	}

	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name)+"@"+aws.ToString(b.BucketRegion))
	}
	if strings.Join(names, ",") != "eksbg-state@eu-west-1,second.bucket@eu-west-1" || len(aws.ToString(list.Owner.ID)) != 64 {
		t.Errorf("ListBuckets: %v, owner %q", names, aws.ToString(list.Owner.ID))
	}

	mustPut(t, c, "k", "v")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s3Bucket)})
	eksAPIError(t, err, "BucketNotEmpty", 409)
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("second.bucket")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("second.bucket")})
	eksAPIError(t, err, "NoSuchBucket", 404)
	// Operations the emulator does not serve say so, as S3 does for what it lacks.
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s3Bucket)})
	eksAPIError(t, err, "NotImplemented", 501)

	// Calls are counted per operation in the call log.
	calls := map[string]int{}
	for _, st := range env.Server.Stats() {
		if st.Service == "s3" {
			calls[st.Operation] = st.Calls
		}
	}
	if calls["CreateBucket"] != 5 || calls["DeleteBucket"] != 3 || calls["HeadBucket"] != 2 {
		t.Errorf("call log: %v", calls)
	}

	// In us-east-1, S3 answers 200 to creating a bucket you own (legacy),
	// and refuses a location constraint.
	demo := sandboxtest.StartScenario(t, "demo")
	dc := s3.NewFromConfig(demo.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	for range 2 {
		if _, err := dc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("demo-state")}); err != nil {
			t.Fatalf("us-east-1 CreateBucket: %v", err)
		}
	}
	_, err = dc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("other"), CreateBucketConfiguration: eu})
	eksAPIError(t, err, "InvalidLocationConstraint", 400)
}

func TestS3ListObjectsV2(t *testing.T) {
	_, c := startS3(t)
	ctx := t.Context()
	keys := []string{"prod/journal.json", "prod/live.json", "prod/lock.json", "prod/old/1.json", "prod/old/2.json", "staging/journal.json", "top.json"}
	for _, k := range keys {
		mustPut(t, c, k, k)
	}
	list := func(in s3.ListObjectsV2Input) (got []string, pages int) {
		t.Helper()
		in.Bucket = aws.String(s3Bucket)
		p := s3.NewListObjectsV2Paginator(c, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if n := len(out.Contents) + len(out.CommonPrefixes); int(aws.ToInt32(out.KeyCount)) != n {
				t.Errorf("KeyCount %d, %d entries", aws.ToInt32(out.KeyCount), n)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
				if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || aws.ToString(o.ETag) != quotedMD5(aws.ToString(o.Key)) || o.StorageClass != types.ObjectStorageClassStandard {
					t.Errorf("entry %+v", o)
				}
			}
			for _, cp := range out.CommonPrefixes {
				got = append(got, aws.ToString(cp.Prefix))
			}
		}
		return got, pages
	}
	for _, tt := range []struct {
		name  string
		in    s3.ListObjectsV2Input
		want  []string
		pages int
	}{
		{"all", s3.ListObjectsV2Input{}, keys, 1},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("prod/")}, keys[:5], 1},
		{"pages of 2", s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, keys, 4},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, []string{"top.json", "prod/", "staging/"}, 1},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("prod/"), Delimiter: aws.String("/")},
			[]string{"prod/journal.json", "prod/live.json", "prod/lock.json", "prod/old/"}, 1},
		// A common prefix counts once against max-keys, and the next page
		// starts after everything under it.
		{"prefixes across pages", s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}, []string{"prod/", "staging/", "top.json"}, 3},
		{"start after", s3.ListObjectsV2Input{StartAfter: aws.String("prod/old/1.json")}, keys[4:], 1},
		{"nothing", s3.ListObjectsV2Input{Prefix: aws.String("none/")}, nil, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := list(tt.in)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || pages != tt.pages {
				t.Errorf("got %v in %d pages, want %v in %d", got, pages, tt.want, tt.pages)
			}
		})
	}
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket), ContinuationToken: aws.String("not-a-token")})
	eksAPIError(t, err, "InvalidArgument", 400)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	eksAPIError(t, err, "NoSuchBucket", 404)
}

// TestS3ConditionalRace: of many writers racing one conditional write,
// exactly one wins and every other gets 412.
func TestS3ConditionalRace(t *testing.T) {
	_, c := startS3(t)
	etag := mustPut(t, c, "env/journal.json", "v1")
	for _, tt := range []struct {
		name string
		opt  func(i int) func(*s3.PutObjectInput)
		key  string
	}{
		{"create only", func(int) func(*s3.PutObjectInput) {
			return func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
		}, "env/lock.json"},
		{"compare and swap", func(int) func(*s3.PutObjectInput) {
			return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) }
		}, "env/journal.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 16
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, errs[i] = put(t, c, tt.key, fmt.Sprintf("writer %d", i), tt.opt(i))
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errorCode(err) != "PreconditionFailed":
					t.Errorf("unexpected error: %v", err)
				}
			}
			if won != 1 {
				t.Fatalf("%d of %d writers won", won, n)
			}
		})
	}
}

// TestS3Faults: injected throttling is S3's 503 SlowDown, which the SDK's
// standard retryer retries; injected faults are 500 InternalError.
func TestS3Faults(t *testing.T) {
	env, _ := startS3(t, sandboxtest.WithRand(rand.New(rand.NewPCG(3, 4))))
	putFaults(t, env.URL, `[{"service":"s3","operation":"PutObject","throttleRate":1},{"service":"s3","operation":"GetObject","errorRate":1}]`)
	once := s3.NewFromConfig(env.AWS, func(o *s3.Options) { o.UsePathStyle = true; o.RetryMaxAttempts = 1 })
	_, err := put(t, once, "k", "v", nil)
	eksAPIError(t, err, "SlowDown", 503)
	_, err = once.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("k")})
	eksAPIError(t, err, "InternalError", 500)

	putFaults(t, env.URL, `[{"service":"s3","operation":"*","throttleRate":0.3}]`)
	env.Server.ResetStats()
	c := s3.NewFromConfig(env.AWS, func(o *s3.Options) {
		o.UsePathStyle = true
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 10 * time.Millisecond
		})
	})
	for i := range 50 {
		if _, err := put(t, c, fmt.Sprintf("k%d", i), "v", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
			t.Fatalf("put %d despite retries: %v", i, err)
		}
	}
	for _, st := range env.Server.Stats() {
		if st.Operation == "PutObject" && (st.Calls != 50+st.Throttled || st.Throttled == 0) {
			t.Errorf("PutObject: %d calls, %d throttled: want 50 plus the throttled, some", st.Calls, st.Throttled)
		}
	}
}

// TestS3TrailingChecksums: over TLS the SDK sends PutObject bodies
// aws-chunked with the checksum in a trailer; the emulator decodes them.
// Virtual-hosted-style addresses (<bucket>.localhost) work too.
func TestS3TrailingChecksumsAndVirtualHosts(t *testing.T) {
	sc, err := scenario.Parse("s3.yaml", []byte(s3Scenario))
	if err != nil {
		t.Fatal(err)
	}
	s, err := emulator.New(emulator.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var encodings, hosts []string
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Method == http.MethodPut {
			encodings = append(encodings, r.Header.Get("Content-Encoding"))
		}
		hosts = append(hosts, r.Host)
		mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	defer hs.Close()
	// Every host name reaches the test server: <bucket>.localhost needs no DNS.
	tr := hs.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // the name in httptest's certificate
	addr := hs.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	_, port, _ := net.SplitHostPort(addr)
	// A bare configuration: LoadDefaultConfig would apply the machine's
	// AWS_CA_BUNDLE, which does not know the test server's certificate.
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("https://localhost:" + port), HTTPClient: &http.Client{Transport: tr},
		Credentials: credentials.NewStaticCredentialsProvider(emulator.DefaultCredential.AccessKeyID, emulator.DefaultCredential.SecretAccessKey, "")}
	c := s3.NewFromConfig(cfg) // UsePathStyle false: virtual-hosted-style
	body := strings.Repeat("state ", 5000)
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/journal.json"),
		Body: strings.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("env/journal.json"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, out); got != body || aws.ToString(out.ChecksumCRC32C) == "" {
		t.Fatalf("read back %d bytes (want %d), CRC32C %q", len(got), len(body), aws.ToString(out.ChecksumCRC32C))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(encodings) != 1 || !strings.Contains(encodings[0], "aws-chunked") {
		t.Errorf("PutObject Content-Encoding %q: the SDK did not send aws-chunked, the test tests nothing", encodings)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, s3Bucket+".localhost:") {
			t.Errorf("host %q is not virtual-hosted-style", h)
		}
	}
}

// TestCRC64NVME checks the emulator's CRC-64/NVME against the check value
// of the CRC catalogue ("123456789" -> 0xae8b14860a799888) through S3's
// own encoding: the SDK validates what GetObject returns with it.
func TestCRC64NVME(t *testing.T) {
	if got := crc64.Checksum([]byte("123456789"), crc64.MakeTable(0x9a6c9329ac4bc9b5)); got != 0xae8b14860a799888 {
		t.Fatalf("CRC-64/NVME check value %#x", got)
	}
	_, c := startS3(t)
	if _, err := put(t, c, "k", "123456789", func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme }); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, out) != "123456789" || aws.ToString(out.ChecksumCRC64NVME) != "rosUhgp5mIg=" {
		t.Fatalf("CRC64NVME %q", aws.ToString(out.ChecksumCRC64NVME))
	}
}

// TestS3AWSCLI drives the conditional writes with the AWS CLI v1 (botocore
// 1.43 knows --if-none-match and --if-match) and the basics with the CLI
// v2 of Debian (2.9, which predates conditional writes).
func TestS3AWSCLI(t *testing.T) {
	env, c := startS3(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "lock.json")
	if err := os.WriteFile(file, []byte(`{"id":"a"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	v1 := func(args ...string) ([]byte, string, error) {
		return env.RunCLI(t, "python3", append([]string{"-m", "awscli", "s3api"}, args...)...)
	}
	obj := []string{"--bucket", s3Bucket, "--key", "prod/lock.json"}
	out, stderr, err := v1(append([]string{"put-object", "--body", file, "--if-none-match", "*"}, obj...)...)
	if err != nil {
		t.Fatalf("v1 put-object --if-none-match: %v %s", err, stderr)
	}
	var put struct{ ETag string }
	if err := json.Unmarshal(out, &put); err != nil || put.ETag != quotedMD5(`{"id":"a"}`) {
		t.Fatalf("put-object output %s: %v", out, err)
	}
	_, stderr, err = v1(append([]string{"put-object", "--body", file, "--if-none-match", "*"}, obj...)...)
	if err == nil || !strings.Contains(stderr, "PreconditionFailed") {
		t.Fatalf("second create-only put: %v %s", err, stderr)
	}
	_, stderr, err = v1(append([]string{"put-object", "--body", file, "--if-match", quotedMD5("other")}, obj...)...)
	if err == nil || !strings.Contains(stderr, "PreconditionFailed") {
		t.Fatalf("put-object with a stale --if-match: %v %s", err, stderr)
	}
	if _, stderr, err = v1(append([]string{"put-object", "--body", file, "--if-match", put.ETag}, obj...)...); err != nil {
		t.Fatalf("put-object --if-match: %v %s", err, stderr)
	}
	_, stderr, err = v1(append([]string{"delete-object", "--if-match", quotedMD5("other")}, obj...)...)
	if err == nil || !strings.Contains(stderr, "PreconditionFailed") {
		t.Fatalf("delete-object with a stale --if-match: %v %s", err, stderr)
	}
	_, stderr, err = v1(append([]string{"get-object", "--if-none-match", put.ETag}, append(obj, filepath.Join(dir, "out"))...)...)
	if err == nil || !strings.Contains(stderr, "304") {
		t.Fatalf("get-object --if-none-match of the current ETag: %v %s", err, stderr)
	}
	if _, stderr, err = v1(append([]string{"delete-object", "--if-match", put.ETag}, obj...)...); err != nil {
		t.Fatalf("delete-object --if-match: %v %s", err, stderr)
	}
	// botocore asks for URL-encoded listings and decodes them.
	mustPut(t, c, "prod/a b+c.json", "x")
	out, stderr, err = v1("list-objects-v2", "--bucket", s3Bucket, "--prefix", "prod/")
	if err != nil {
		t.Fatalf("list-objects-v2: %v %s", err, stderr)
	}
	var listed struct{ Contents []struct{ Key string } }
	if err := json.Unmarshal(out, &listed); err != nil || len(listed.Contents) != 1 || listed.Contents[0].Key != "prod/a b+c.json" {
		t.Fatalf("list-objects-v2: %s (%v)", out, err)
	}

	// The CLI v2 of Debian: s3api and the high-level s3 commands.
	v2 := func(args ...string) ([]byte, string, error) { return env.RunCLI(t, sandboxtest.CLIv2, args...) }
	if _, stderr, err := v2("s3api", "put-object", "--bucket", s3Bucket, "--key", "v2/file.json", "--body", file); err != nil {
		t.Fatalf("v2 put-object: %v %s", err, stderr)
	}
	if _, stderr, err := v2("s3", "cp", "s3://"+s3Bucket+"/v2/file.json", filepath.Join(dir, "copy.json")); err != nil {
		t.Fatalf("v2 s3 cp: %v %s", err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "copy.json")); err != nil || string(b) != `{"id":"a"}` {
		t.Fatalf("copied %q, %v", b, err)
	}
	out, stderr, err = v2("s3", "ls", "s3://"+s3Bucket+"/", "--recursive")
	if err != nil || !bytes.Contains(out, []byte("v2/file.json")) || !bytes.Contains(out, []byte("prod/a b+c.json")) {
		t.Fatalf("v2 s3 ls: %v %s %s", err, out, stderr)
	}
	if _, stderr, err := v2("s3api", "head-object", "--bucket", s3Bucket, "--key", "v2/missing"); err == nil || !strings.Contains(stderr, "404") {
		t.Fatalf("v2 head-object of a missing key: %v %s", err, stderr)
	}
}
