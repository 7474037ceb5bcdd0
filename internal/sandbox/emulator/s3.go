package emulator

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// S3 speaks REST-XML (wire/restxml.go). The emulator serves general
// purpose, unversioned buckets and the object operations eksbg's s3 state
// backend needs, with S3's conditional requests: PutObject with
// If-None-Match: * (create only) and If-Match: <ETag> (compare and swap),
// GetObject and HeadObject with If-Match, If-None-Match, If-Modified-Since
// and If-Unmodified-Since, and DeleteObject with If-Match
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html).
// Each call runs under the world's lock, so a conditional write is atomic:
// of two racing writers exactly one wins and the other gets 412.

// Bucket is an S3 general purpose bucket (unversioned) and its objects.
type Bucket struct {
	Name      string             `json:"name"`
	CreatedAt time.Time          `json:"createdAt"`
	Objects   map[string]*Object `json:"objects,omitempty"`
}

// Object is an S3 object. A PutObject replaces the whole *Object, never
// changes one, so an answer may hold it after the world's lock is released.
type Object struct {
	Key  string `json:"key"`
	Body []byte `json:"body"`
	// ETag is the hex MD5 of the body in double quotes, as S3 sends it
	// for objects not uploaded in parts.
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"lastModified"`
	ContentType  string    `json:"contentType"`
	// Metadata is the user metadata (x-amz-meta-*), keys in lower case.
	Metadata map[string]string `json:"metadata,omitempty"`
	// SSE is the server-side encryption: AES256 (S3's default since
	// January 2023), aws:kms or aws:kms:dsse, with the KMS key.
	SSE         string `json:"sse"`
	SSEKMSKeyID string `json:"sseKmsKeyId,omitempty"`
	// ChecksumAlgorithm and Checksum are the full-object checksum S3 keeps.
	ChecksumAlgorithm string `json:"checksumAlgorithm"`
	Checksum          string `json:"checksum"`
}

// addScenarioBuckets creates a scenario's buckets, empty.
func (w *World) addScenarioBuckets(bs []scenario.Bucket, now time.Time) {
	for _, b := range bs {
		if w.Buckets == nil {
			w.Buckets = map[string]*Bucket{}
		}
		w.Buckets[b.Name] = &Bucket{Name: b.Name, CreatedAt: now, Objects: map[string]*Object{}}
	}
}

func (s *Server) registerS3() {
	s.register(wire.ServiceS3, "ListBuckets", s3ListBuckets)
	s.register(wire.ServiceS3, "CreateBucket", s3CreateBucket)
	s.register(wire.ServiceS3, "HeadBucket", s3HeadBucket)
	s.register(wire.ServiceS3, "DeleteBucket", s3DeleteBucket)
	s.register(wire.ServiceS3, "GetBucketLocation", s3GetBucketLocation)
	s.register(wire.ServiceS3, "ListObjectsV2", s3ListObjectsV2)
	s.register(wire.ServiceS3, "PutObject", s3PutObject)
	s.register(wire.ServiceS3, "GetObject", s3GetObject)
	s.register(wire.ServiceS3, "HeadObject", s3GetObject)
	s.register(wire.ServiceS3, "DeleteObject", s3DeleteObject)
}

// S3's errors (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).

func s3NotImplemented(req *wire.Request) *wire.APIError {
	return wire.Errorf(http.StatusNotImplemented, "NotImplemented",
		"A header you provided implies functionality that is not implemented (the sandbox serves %s %s with none of its query parameters).",
		req.HTTP.Method, req.HTTP.URL.Path)
}

func noSuchBucket(name string) *wire.APIError {
	return wire.Errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist").With("BucketName", name)
}

func noSuchKey(key string) *wire.APIError {
	return wire.Errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").With("Key", key)
}

func preconditionFailed(condition string) *wire.APIError {
	return wire.Errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold").
		With("Condition", condition)
}

func notImplementedHeader(header string) *wire.APIError {
	return wire.Errorf(http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented").
		With("Header", header)
}

func invalidArgument(name, value, format string, args ...any) *wire.APIError {
	return wire.BadRequest("InvalidArgument", format, args...).With("ArgumentName", name).With("ArgumentValue", value)
}

func (c *call) bucket() (*Bucket, *wire.APIError) {
	name := c.params["bucket"]
	b, ok := c.w.Buckets[name]
	if !ok {
		return nil, noSuchBucket(name)
	}
	if b.Objects == nil {
		b.Objects = map[string]*Object{}
	}
	return b, nil
}

// s3OwnerID is the account's canonical user ID (64 hex digits).
func (w *World) s3OwnerID() string { return stableID("s3-canonical-user", w.Account) }

type s3Owner struct {
	ID string `xml:"ID"`
}

// s3Answer is an answer whose data travels in headers, with an optional body.
type s3Answer struct {
	status int
	header http.Header
	body   []byte
}

// Respond implements wire.Responder. Content-Length is the whole body's
// (for HEAD, the object's, which is not sent).
func (a *s3Answer) Respond(w http.ResponseWriter, req *wire.Request) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	}
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	status := a.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if req.HTTP.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified {
		_, _ = w.Write(a.body)
	}
}

func s3ListBuckets(c *call) (any, *wire.APIError) {
	type bucketEntry struct {
		Name         string         `xml:"Name"`
		CreationDate wire.Timestamp `xml:"CreationDate"`
		BucketRegion string         `xml:"BucketRegion"`
	}
	type result struct {
		XMLName           xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner             s3Owner       `xml:"Owner"`
		Buckets           []bucketEntry `xml:"Buckets>Bucket"`
		ContinuationToken string        `xml:"ContinuationToken,omitempty"`
		Prefix            string        `xml:"Prefix,omitempty"`
	}
	q := c.req.HTTP.URL.Query()
	prefix := q.Get("prefix")
	var names []string
	for _, n := range sortedKeys(c.w.Buckets) {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	size := 0
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, invalidArgument("max-buckets", v, "Argument max-buckets must be an integer between 1 and 10000.")
		}
		size = n
	}
	start, end, next, aerr := wire.Page("ListBuckets", len(names), q.Get("continuation-token"), size, len(names))
	if aerr != nil {
		return nil, invalidArgument("continuation-token", q.Get("continuation-token"), "The continuation token provided is incorrect")
	}
	out := result{Owner: s3Owner{ID: c.w.s3OwnerID()}, ContinuationToken: next, Prefix: q.Get("prefix")}
	for _, n := range names[start:end] {
		out.Buckets = append(out.Buckets, bucketEntry{Name: n, CreationDate: wire.TS(c.w.Buckets[n].CreatedAt), BucketRegion: c.w.Region})
	}
	return out, nil
}

// s3CreateBucket follows S3's rules for the location constraint: none in
// us-east-1, the region's own elsewhere; and for a bucket that exists:
// 200 in us-east-1 (legacy), BucketAlreadyOwnedByYou elsewhere
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
func s3CreateBucket(c *call) (any, *wire.APIError) {
	name := c.params["bucket"]
	if err := scenario.ValidateBucketName(name); err != nil {
		return nil, wire.BadRequest("InvalidBucketName", "The specified bucket is not valid.").With("BucketName", name)
	}
	var in struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	if len(strings.TrimSpace(string(c.req.Body))) > 0 {
		if err := xml.Unmarshal(c.req.Body, &in); err != nil {
			return nil, wire.BadRequest("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := c.w.Region
	switch lc := in.LocationConstraint; {
	case region == "us-east-1" && lc != "":
		return nil, wire.BadRequest("InvalidLocationConstraint", "The specified location-constraint is not valid").With("LocationConstraint", lc)
	case region != "us-east-1" && lc == "":
		return nil, wire.BadRequest("IllegalLocationConstraintException",
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case region != "us-east-1" && lc != region:
		return nil, wire.BadRequest("IllegalLocationConstraintException",
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", lc)
	}
	if _, ok := c.w.Buckets[name]; ok {
		if region != "us-east-1" {
			return nil, wire.Errorf(http.StatusConflict, "BucketAlreadyOwnedByYou",
				"Your previous request to create the named bucket succeeded and you already own it.").With("BucketName", name)
		}
	} else {
		c.w.addScenarioBuckets([]scenario.Bucket{{Name: name}}, c.now)
		c.changed()
	}
	return &s3Answer{header: http.Header{"Location": {"/" + name}}}, nil
}

func s3HeadBucket(c *call) (any, *wire.APIError) {
	if _, aerr := c.bucket(); aerr != nil {
		return nil, aerr
	}
	return &s3Answer{header: http.Header{"X-Amz-Bucket-Region": {c.w.Region}, "X-Amz-Access-Point-Alias": {"false"}}}, nil
}

func s3DeleteBucket(c *call) (any, *wire.APIError) {
	b, aerr := c.bucket()
	if aerr != nil {
		return nil, aerr
	}
	if len(b.Objects) > 0 {
		return nil, wire.Errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty").With("BucketName", b.Name)
	}
	delete(c.w.Buckets, b.Name)
	c.changed()
	return &s3Answer{status: http.StatusNoContent}, nil
}

// s3GetBucketLocation answers an empty constraint for us-east-1, as S3 does.
func s3GetBucketLocation(c *call) (any, *wire.APIError) {
	if _, aerr := c.bucket(); aerr != nil {
		return nil, aerr
	}
	type result struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		Value   string   `xml:",chardata"`
	}
	if c.w.Region == "us-east-1" {
		return result{}, nil
	}
	return result{Value: c.w.Region}, nil
}

// etagMatches evaluates an If-Match or If-None-Match list against an ETag:
// "*" matches any, and entity tags compare without their quotes (S3
// accepts them with or without) and weak prefix.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || strings.Trim(t, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func s3PutObject(c *call) (any, *wire.APIError) {
	b, aerr := c.bucket()
	if aerr != nil {
		return nil, aerr
	}
	key := c.params["key"]
	if len(key) > 1024 {
		return nil, wire.BadRequest("KeyTooLongError", "Your key is too long")
	}
	h := c.req.HTTP.Header
	payload, aerr := readS3Payload(c.req, c.sig)
	if aerr != nil {
		return nil, aerr
	}
	alg, sum, aerr := objectChecksum(h, payload)
	if aerr != nil {
		return nil, aerr
	}
	sse, kmsKey := h.Get("x-amz-server-side-encryption"), h.Get("x-amz-server-side-encryption-aws-kms-key-id")
	switch sse {
	case "":
		sse = "AES256"
	case "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return nil, invalidArgument("x-amz-server-side-encryption", sse, "The encryption method specified is not supported")
	}
	switch {
	case kmsKey != "" && sse == "AES256":
		return nil, invalidArgument("x-amz-server-side-encryption-aws-kms-key-id", kmsKey,
			"Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
	case kmsKey == "" && sse != "AES256":
		kmsKey = c.w.arn("kms", "alias/aws/s3")
	}

	// The conditions, evaluated under the world's lock with the write:
	// If-Match on a missing key is 404 NoSuchKey (the user guide: "you
	// will receive a 404 Not Found response since the object key no
	// longer exists"); conditional writes take If-None-Match only as "*".
	cur := b.Objects[key]
	if im := h.Get("If-Match"); im != "" {
		if cur == nil {
			return nil, noSuchKey(key)
		}
		if !etagMatches(im, cur.ETag) {
			return nil, preconditionFailed("If-Match")
		}
	}
	if inm := h.Get("If-None-Match"); inm != "" {
		if strings.TrimSpace(inm) != "*" {
			return nil, notImplementedHeader("If-None-Match")
		}
		if cur != nil {
			return nil, preconditionFailed("If-None-Match")
		}
	}

	md := md5.Sum(payload.data)
	obj := &Object{Key: key, Body: payload.data, ETag: `"` + hex.EncodeToString(md[:]) + `"`, LastModified: c.now.UTC(),
		ContentType: h.Get("Content-Type"), SSE: sse, SSEKMSKeyID: kmsKey, ChecksumAlgorithm: alg, Checksum: sum}
	if obj.ContentType == "" {
		obj.ContentType = "binary/octet-stream"
	}
	for k, v := range h {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok {
			if obj.Metadata == nil {
				obj.Metadata = map[string]string{}
			}
			obj.Metadata[name] = strings.Join(v, ",")
		}
	}
	b.Objects[key] = obj
	c.changed()
	out := http.Header{"ETag": {obj.ETag}}
	obj.encryptionHeaders(out)
	// S3 returns the checksum it stored when the request carried one.
	if alg != "CRC64NVME" || h.Get(checksumHeader(alg)) != "" || payload.trailers.Get(checksumHeader(alg)) != "" {
		out.Set(checksumHeader(alg), sum)
		out.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	return &s3Answer{header: out}, nil
}

func (o *Object) encryptionHeaders(h http.Header) {
	h.Set("x-amz-server-side-encryption", o.SSE)
	if o.SSEKMSKeyID != "" {
		h.Set("x-amz-server-side-encryption-aws-kms-key-id", o.SSEKMSKeyID)
	}
}

// s3GetObject serves GetObject and HeadObject. Conditions follow RFC 7232
// as the GetObject reference describes them: If-Match (412) before
// If-Unmodified-Since, If-None-Match (304) before If-Modified-Since, and a
// true If-Match or If-None-Match overrides the date beside it. Dates
// compare at the second, the resolution of Last-Modified.
func s3GetObject(c *call) (any, *wire.APIError) {
	b, aerr := c.bucket()
	if aerr != nil {
		return nil, aerr
	}
	key := c.params["key"]
	o, ok := b.Objects[key]
	if !ok {
		return nil, noSuchKey(key)
	}
	h := c.req.HTTP.Header
	modified := o.LastModified.Truncate(time.Second)
	if im := h.Get("If-Match"); im != "" {
		if !etagMatches(im, o.ETag) {
			return nil, preconditionFailed("If-Match")
		}
	} else if ius := h.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
			return nil, preconditionFailed("If-Unmodified-Since")
		}
	}
	notModified := false
	if inm := h.Get("If-None-Match"); inm != "" {
		notModified = etagMatches(inm, o.ETag)
	} else if ims := h.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			notModified = true
		}
	}
	if notModified {
		return nil, &wire.APIError{Status: http.StatusNotModified, Code: "NotModified", Message: "Not Modified"}
	}
	out := http.Header{
		"ETag":          {o.ETag},
		"Last-Modified": {o.LastModified.UTC().Format(http.TimeFormat)},
		"Accept-Ranges": {"bytes"},
	}
	out.Set("Content-Type", o.ContentType)
	o.encryptionHeaders(out)
	for k, v := range o.Metadata {
		out.Set("x-amz-meta-"+k, v)
	}
	q := c.req.HTTP.URL.Query()
	for _, p := range []string{"Content-Type", "Content-Language", "Expires", "Cache-Control", "Content-Disposition", "Content-Encoding"} {
		if v := q.Get("response-" + strings.ToLower(p)); v != "" {
			out.Set(p, v)
		}
	}
	body := o.Body
	status := http.StatusOK
	if rg := h.Get("Range"); rg != "" {
		first, last, ok, aerr := parseRange(rg, len(o.Body))
		if aerr != nil {
			return nil, aerr.With("ActualObjectSize", len(o.Body)).With("RangeRequested", rg)
		}
		if ok {
			body, status = o.Body[first:last+1], http.StatusPartialContent
			out.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(o.Body)))
		}
	}
	if status == http.StatusOK && strings.EqualFold(h.Get("x-amz-checksum-mode"), "ENABLED") {
		out.Set(checksumHeader(o.ChecksumAlgorithm), o.Checksum)
		out.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	out.Set("Content-Length", strconv.Itoa(len(body)))
	return &s3Answer{status: status, header: out, body: body}, nil
}

// parseRange reads one "bytes=first-last" range (S3 serves one range per
// request and ignores a header it cannot parse). ok is false when the
// whole object is to be sent; an unsatisfiable range is 416 InvalidRange.
func parseRange(h string, size int) (first, last int, ok bool, aerr *wire.APIError) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	a, z, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, nil
	}
	unsatisfiable := wire.Errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	if a == "" { // the last z bytes
		n, err := strconv.Atoi(z)
		if err != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		return max(size-n, 0), size - 1, true, nil
	}
	f, err := strconv.Atoi(a)
	if err != nil || f < 0 {
		return 0, 0, false, nil
	}
	l := size - 1
	if z != "" {
		if l, err = strconv.Atoi(z); err != nil || l < f {
			return 0, 0, false, nil
		}
	}
	if f >= size {
		return 0, 0, false, unsatisfiable
	}
	return f, min(l, size-1), true, nil
}

// s3DeleteObject deletes with S3's conditional deletes
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html):
// If-Match with an ETag or "*" fails with 412 when the object differs and
// 404 NoSuchKey when it is gone; without it a missing key is a 204 too.
// The size and time conditions are for directory buckets only.
func s3DeleteObject(c *call) (any, *wire.APIError) {
	b, aerr := c.bucket()
	if aerr != nil {
		return nil, aerr
	}
	h := c.req.HTTP.Header
	for _, name := range []string{"x-amz-if-match-last-modified-time", "x-amz-if-match-size"} {
		if h.Get(name) != "" {
			return nil, notImplementedHeader(name)
		}
	}
	key := c.params["key"]
	o, ok := b.Objects[key]
	if im := h.Get("If-Match"); im != "" {
		if !ok {
			return nil, noSuchKey(key)
		}
		if !etagMatches(im, o.ETag) {
			return nil, preconditionFailed("If-Match")
		}
	}
	if ok {
		delete(b.Objects, key)
		c.changed()
	}
	return &s3Answer{status: http.StatusNoContent}, nil
}
