package emulator_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestS3DifferentialConditional runs one sequence of conditional S3
// requests against the emulator and against moto (python3 -m moto.server)
// and compares each answer: the HTTP status and error code, the ETag of
// every write, and what a listing returns.
func TestS3DifferentialConditional(t *testing.T) {
	_, emu := startS3(t)
	motoCfg := startMoto(t, "eu-west-1")
	// moto returns no checksums: the SDK would log that it validates none.
	moto := s3.NewFromConfig(motoCfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	if _, err := moto.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(s3Bucket),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatalf("moto CreateBucket: %v", err)
	}
	emuLog, motoLog := conditionalSequence(t, emu), conditionalSequence(t, moto)
	for i := range max(len(emuLog), len(motoLog)) {
		var e, m string
		if i < len(emuLog) {
			e = emuLog[i]
		}
		if i < len(motoLog) {
			m = motoLog[i]
		}
		if e != m {
			t.Errorf("step %d:\n  emulator: %s\n  moto:     %s", i, e, m)
		}
	}
	t.Logf("%d answers compared:\n%s", len(emuLog), strings.Join(emuLog, "\n"))
}

// conditionalSequence makes the calls and records each answer as a line.
func conditionalSequence(t *testing.T, c *s3.Client) []string {
	ctx := t.Context()
	var log []string
	answer := func(what string, etag *string, err error) {
		status, code := 200, ""
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		if err != nil {
			code = errorCode(err)
			if code == "" {
				code = err.Error()
			}
		}
		log = append(log, fmt.Sprintf("%s: %d %s %s", what, status, code, aws.ToString(etag)))
	}
	obj := func(key string) (*string, *string) { return aws.String(s3Bucket), aws.String(key) }
	put := func(what, key, body string, opt func(*s3.PutObjectInput)) string {
		b, k := obj(key)
		in := &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader(body)}
		if opt != nil {
			opt(in)
		}
		out, err := c.PutObject(ctx, in)
		var etag *string
		if err == nil {
			etag = out.ETag
		}
		answer(what, etag, err)
		return aws.ToString(etag)
	}
	ifNone := func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
	ifMatch := func(etag string) func(*s3.PutObjectInput) {
		return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) }
	}
	v1 := put("create lock", "prod/lock.json", `{"id":"a"}`, ifNone)
	put("create lock again", "prod/lock.json", `{"id":"b"}`, ifNone)
	put("swap with a stale ETag", "prod/lock.json", `{"id":"b"}`, ifMatch(quotedMD5("stale")))
	put("swap a missing key", "prod/missing.json", `{}`, ifMatch(v1))
	v2 := put("swap", "prod/lock.json", `{"id":"b"}`, ifMatch(v1))
	put("swap from the old ETag", "prod/lock.json", `{"id":"c"}`, ifMatch(v1))

	b, k := obj("prod/lock.json")
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, IfMatch: aws.String(v1)})
	answer("get If-Match old", nil, err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, IfNoneMatch: aws.String(v2)})
	answer("get If-None-Match current", nil, err)
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, IfMatch: aws.String(v2)})
	if err == nil {
		answer("get If-Match current", got.ETag, err)
		got.Body.Close()
	} else {
		answer("get If-Match current", nil, err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("prod/missing.json")})
	answer("head missing", nil, err)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k, IfMatch: aws.String(v1)})
	answer("head If-Match old", nil, err)

	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, IfMatch: aws.String(v1)})
	answer("delete If-Match old", nil, err)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("prod/missing.json"), IfMatch: aws.String(v2)})
	answer("delete missing If-Match", nil, err)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, IfMatch: aws.String(v2)})
	answer("delete If-Match current", nil, err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k})
	answer("get deleted", nil, err)

	for _, key := range []string{"prod/journal.json", "prod/live.json", "prod/old/1.json", "staging/journal.json", "top.json"} {
		put("put "+key, key, key, nil)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Delimiter: aws.String("/"), Prefix: aws.String("prod/"), MaxKeys: aws.Int32(2)})
	if err != nil {
		answer("list", nil, err)
		return log
	}
	var entries []string
	for _, o := range list.Contents {
		entries = append(entries, aws.ToString(o.Key)+" "+aws.ToString(o.ETag))
	}
	for _, p := range list.CommonPrefixes {
		entries = append(entries, aws.ToString(p.Prefix)+"/")
	}
	log = append(log, fmt.Sprintf("list: %v truncated=%v keys=%d", entries, aws.ToBool(list.IsTruncated), aws.ToInt32(list.KeyCount)))
	return log
}
