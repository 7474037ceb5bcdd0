package journal

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eksbg/eksbg/internal/awserr"
)

// S3API is the part of the S3 client the S3 backend calls, with the SDK's
// own signatures, so *s3.Client satisfies it.
type S3API interface {
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// NewS3Client builds the S3 client of the S3 backend from an environment's
// AWS configuration. When an endpoint is configured (AWS_ENDPOINT_URL or
// AWS_ENDPOINT_URL_S3: the sandbox's emulator, an S3-compatible store) it
// uses path-style addresses, http://host/<bucket>/<key>: the
// virtual-hosted-style name <bucket>.<host> resolves nowhere there.
func NewS3Client(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		// The SDK has resolved the configured endpoint into BaseEndpoint
		// before it applies these options.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	}}, optFns...)...)
}

// S3 keeps state in an S3 bucket, under <prefix>/<env>/: journal.json,
// lock.json and live.json. S3's conditional writes make it safe for
// operators on different machines
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html):
//
//   - the lock is created with If-None-Match: *, so of two eksbg racing for
//     it exactly one gets it and the other reads the holder;
//   - the lock is removed with If-Match: <the ETag read>, so only the lock
//     whose ID was checked can be removed;
//   - journal saves are compare-and-swap: If-Match: <the ETag of the version
//     read>, or If-None-Match: * for the first save.
//
// Every put asks for server-side encryption (SSE-S3 by default). The
// caller needs s3:GetObject, s3:PutObject and s3:DeleteObject on the
// prefix, and s3:ListBucket on the bucket (without it S3 answers 403, not
// 404, for a key that does not exist yet).
type S3 struct {
	Client S3API
	Bucket string
	// Prefix is the key prefix, without a trailing "/"; "" puts the
	// environments at the top of the bucket.
	Prefix string
	// SSE is the server-side encryption every put asks for: AES256
	// (SSE-S3, the default), aws:kms or aws:kms:dsse.
	SSE types.ServerSideEncryption
	// KMSKeyID is the KMS key for SSE aws:kms; "" is the account's
	// aws/s3 key.
	KMSKeyID string

	mu sync.Mutex
	// read maps an environment to the version of its journal this
	// backend last read or wrote and that object's ETag, the If-Match of
	// the next save.
	read map[string]journalETag
}

type journalETag struct {
	version int
	etag    string
}

var _ Backend = (*S3)(nil)

// maxStateObject bounds what is read back: a journal of years of upgrades
// is well under it.
const maxStateObject = 16 << 20

func (s *S3) key(env, name string) (string, error) {
	if !envNameRE.MatchString(env) {
		return "", fmt.Errorf("environment name %q cannot name a state key", env)
	}
	return path.Join(strings.Trim(s.Prefix, "/"), env, name), nil
}

func (s *S3) url(key string) string { return "s3://" + s.Bucket + "/" + key }

// get reads a JSON object and its ETag; (nil, "", nil) when there is none.
func getS3JSON[T any](ctx context.Context, s *S3, key string) (*T, string, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if isNoSuchKey(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", s.url(key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxStateObject))
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", s.url(key), err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", s.url(key), err)
	}
	return &v, aws.ToString(out.ETag), nil
}

// put writes v as JSON with the condition cond sets, and returns the new
// ETag.
func (s *S3) put(ctx context.Context, key string, v any, cond func(*s3.PutObjectInput)) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return s.putBytes(ctx, key, data, cond)
}

func (s *S3) putBytes(ctx context.Context, key string, data []byte, cond func(*s3.PutObjectInput)) (string, error) {
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(key),
		// A seekable body: over plain HTTP (the sandbox) the SDK must
		// rewind it after computing its checksum.
		Body:                 bytes.NewReader(data),
		ContentType:          aws.String("application/json"),
		ServerSideEncryption: s.SSE,
	}
	if in.ServerSideEncryption == "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	}
	if s.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.KMSKeyID)
	}
	if cond != nil {
		cond(in)
	}
	out, err := s.Client.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

func ifNoneMatchAny(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }

func ifMatch(etag string) func(*s3.PutObjectInput) {
	return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) }
}

// Lock implements Backend.
func (s *S3) Lock(ctx context.Context, env string, info LockInfo) (*LockInfo, error) {
	k, err := s.key(env, "lock.json")
	if err != nil {
		return nil, err
	}
	if info.ID == "" {
		info.ID = NewLockID()
	}
	// A lock released between our refused put and our read of the holder
	// is free again: try again, a few times (each try is two requests).
	for range 3 {
		_, err := s.put(ctx, k, info, ifNoneMatchAny)
		if err == nil {
			return &info, nil
		}
		// 409 ConditionalRequestConflict: another write of the key was in
		// flight; S3 says to retry, and the holder, if any, is read below.
		if !isPreconditionFailed(err) && !isConditionalConflict(err) {
			return nil, fmt.Errorf("taking the lock of %s: %w", env, err)
		}
		holder, _, rerr := getS3JSON[LockInfo](ctx, s, k)
		switch {
		case rerr != nil:
			return nil, fmt.Errorf("environment %s is locked and its lock %s cannot be read (%v): check it, then remove it by hand", env, s.url(k), rerr)
		case holder != nil && holder.ID == info.ID:
			// Our own put: it succeeded, its answer was lost, and the
			// SDK's retry found the lock taken.
			return &info, nil
		case holder != nil:
			return nil, &LockedError{Env: env, Holder: *holder}
		}
	}
	return nil, fmt.Errorf("taking the lock of %s: it was taken and released repeatedly while eksbg tried to take it: try again", env)
}

// Unlock implements Backend.
func (s *S3) Unlock(ctx context.Context, env, id string) error {
	return s.removeLock(ctx, env, id, "releasing")
}

// ForceUnlock implements Backend.
func (s *S3) ForceUnlock(ctx context.Context, env, id string) error {
	return s.removeLock(ctx, env, id, "force-unlocking")
}

// removeLock reads the lock, checks its ID, and deletes exactly the object
// it read (If-Match its ETag): a lock taken anew since is left alone.
func (s *S3) removeLock(ctx context.Context, env, id, what string) error {
	k, err := s.key(env, "lock.json")
	if err != nil {
		return err
	}
	holder, etag, err := getS3JSON[LockInfo](ctx, s, k)
	if err != nil {
		return fmt.Errorf("%s the lock of %s: %w", what, env, err)
	}
	if err := checkLockID(holder, env, id, what); err != nil {
		return err
	}
	_, err = s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(k), IfMatch: aws.String(etag)})
	switch {
	case isNoSuchKey(err):
		// Gone: removed by a retry of this very delete whose first answer
		// was lost, or by someone else meanwhile. Either way it is free.
		return nil
	case isPreconditionFailed(err):
		return fmt.Errorf("%s the lock of %s: it changed while eksbg was removing it: see who holds it now", what, env)
	case err != nil:
		return fmt.Errorf("%s the lock of %s: %w", what, env, err)
	}
	return nil
}

// LockHolder implements Backend.
func (s *S3) LockHolder(ctx context.Context, env string) (*LockInfo, error) {
	k, err := s.key(env, "lock.json")
	if err != nil {
		return nil, err
	}
	h, _, err := getS3JSON[LockInfo](ctx, s, k)
	return h, err
}

// Journal implements Backend. It remembers the ETag of the version it
// read, for SaveJournal's compare-and-swap.
func (s *S3) Journal(ctx context.Context, env string) (*Journal, error) {
	k, err := s.key(env, "journal.json")
	if err != nil {
		return nil, err
	}
	j, etag, err := getS3JSON[Journal](ctx, s, k)
	if err != nil || j == nil {
		return nil, err
	}
	s.remember(env, j.Version, etag)
	return j, nil
}

func (s *S3) remember(env string, version int, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read == nil {
		s.read = map[string]journalETag{}
	}
	s.read[env] = journalETag{version, etag}
}

func (s *S3) remembered(env string, version int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.read[env]; ok && r.version == version {
		return r.etag
	}
	return ""
}

// SaveJournal implements Backend: a put with If-Match the ETag of version
// j.Version (If-None-Match: * for version 0), so that S3 itself refuses the
// second of two writers that read the same version.
func (s *S3) SaveJournal(ctx context.Context, env string, j *Journal) error {
	k, err := s.key(env, "journal.json")
	if err != nil {
		return err
	}
	cond := ifNoneMatchAny
	if j.Version != 0 {
		etag := s.remembered(env, j.Version)
		if etag == "" {
			// Read elsewhere (another backend value, another process):
			// the stored object's ETag is the right one only if it is
			// still that version.
			cur, curETag, err := getS3JSON[Journal](ctx, s, k)
			if err != nil {
				return fmt.Errorf("saving the journal of %s: %w", env, err)
			}
			if cur == nil || cur.Version != j.Version {
				stored := 0
				if cur != nil {
					stored = cur.Version
				}
				return fmt.Errorf("saving the journal of %s (version %d, stored %d): %w", env, j.Version, stored, ErrConflict)
			}
			etag = curETag
		}
		cond = ifMatch(etag)
	}
	next := *j
	next.Version++
	data, err := json.MarshalIndent(&next, "", "  ")
	if err != nil {
		return err
	}
	etag, err := s.putBytes(ctx, k, data, cond)
	switch {
	// 412: changed since read; 404 NoSuchKey: deleted since read; 409: a
	// concurrent write of the key. All three mean another writer, unless
	// the stored journal is byte for byte ours: a put that succeeded, whose
	// answer was lost, retried by the SDK against its own write.
	case isPreconditionFailed(err) || isNoSuchKey(err) || isConditionalConflict(err):
		if _, curETag, rerr := getS3JSON[Journal](ctx, s, k); rerr == nil && curETag == quotedMD5(data) {
			etag, err = curETag, nil
			break
		}
		return fmt.Errorf("saving the journal of %s (version %d): %w", env, j.Version, ErrConflict)
	case err != nil:
		return fmt.Errorf("saving the journal of %s: %w", env, err)
	}
	j.Version = next.Version
	s.remember(env, j.Version, etag)
	return nil
}

// quotedMD5 is the ETag S3 gives an object uploaded in one part.
func quotedMD5(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Live implements Backend.
func (s *S3) Live(ctx context.Context, env string) (*Live, error) {
	k, err := s.key(env, "live.json")
	if err != nil {
		return nil, err
	}
	lv, _, err := getS3JSON[Live](ctx, s, k)
	return lv, err
}

// SaveLive implements Backend.
func (s *S3) SaveLive(ctx context.Context, env string, lv *Live) error {
	k, err := s.key(env, "live.json")
	if err != nil {
		return err
	}
	if _, err := s.put(ctx, k, lv, nil); err != nil {
		return fmt.Errorf("saving the live color of %s: %w", env, err)
	}
	return nil
}

// S3's answers, classified by error code, or by HTTP status where S3
// sends no body (HEAD) or the SDK has no code.

func s3Status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNoSuchKey(err error) bool {
	// *types.NoSuchKey's code is NoSuchKey too. Not awserr.IsNotFound: a
	// missing bucket is a misconfiguration, not an empty journal.
	return awserr.IsCode(err, "NoSuchKey")
}

func isPreconditionFailed(err error) bool {
	return err != nil && (awserr.IsCode(err, "PreconditionFailed") || s3Status(err) == http.StatusPreconditionFailed)
}

func isConditionalConflict(err error) bool {
	return err != nil && (awserr.IsCode(err, "ConditionalRequestConflict") || s3Status(err) == http.StatusConflict)
}

// Renew implements Backend: a PutObject conditional on the ETag of the
// lock it read and checked, so that a renewal never overwrites a lock
// another holder took meanwhile.
func (s *S3) Renew(ctx context.Context, env string, info LockInfo) error {
	k, err := s.key(env, "lock.json")
	if err != nil {
		return err
	}
	holder, etag, err := getS3JSON[LockInfo](ctx, s, k)
	if err != nil {
		return fmt.Errorf("renewing the lock of %s: %w", env, err)
	}
	if holder == nil || holder.ID != info.ID {
		return &LockLostError{Env: env, ID: info.ID, Holder: holder}
	}
	_, err = s.put(ctx, k, info, ifMatch(etag))
	switch {
	case isPreconditionFailed(err) || isConditionalConflict(err):
		now, _, _ := getS3JSON[LockInfo](ctx, s, k)
		if now != nil && now.ID == info.ID {
			return nil // our own write, retried by the SDK after a lost answer
		}
		return &LockLostError{Env: env, ID: info.ID, Holder: now}
	case err != nil:
		return fmt.Errorf("renewing the lock of %s: %w", env, err)
	}
	return nil
}
