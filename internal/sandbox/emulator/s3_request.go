package emulator

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// This file reads S3 requests: which operation, bucket and key a request
// names (path-style or virtual-hosted-style), the aws-chunked bodies SDKs
// send with trailing checksums, and the integrity headers S3 checks.

// s3Route names the S3 operation of a request, with its bucket and key as
// parameters. An empty name is a request the emulator does not serve
// (another operation, or a subresource such as ?acl or ?tagging).
func s3Route(r *http.Request) (string, map[string]string) {
	bucket, key, ok := s3Address(r)
	params := map[string]string{"bucket": bucket, "key": key}
	if !ok {
		return "", params
	}
	q := r.URL.Query()
	allowed := func(keys ...string) bool {
		for k := range q {
			// x-id names the operation for SDKs; X-Amz-* are a presigned
			// URL's signature and the headers hoisted into it.
			if k != "x-id" && !slices.Contains(keys, k) && !strings.HasPrefix(strings.ToLower(k), "x-amz-") {
				return false
			}
		}
		return true
	}
	switch {
	case bucket == "":
		if r.Method == http.MethodGet && allowed("max-buckets", "continuation-token", "prefix", "bucket-region") {
			return "ListBuckets", params
		}
	case key == "":
		switch r.Method {
		case http.MethodPut:
			if allowed() {
				return "CreateBucket", params
			}
		case http.MethodHead:
			if allowed() {
				return "HeadBucket", params
			}
		case http.MethodDelete:
			if allowed() {
				return "DeleteBucket", params
			}
		case http.MethodGet:
			switch {
			case q.Get("list-type") == "2" && allowed("list-type", "prefix", "delimiter", "continuation-token", "max-keys",
				"start-after", "encoding-type", "fetch-owner"):
				return "ListObjectsV2", params
			case q.Has("location") && allowed("location"):
				return "GetBucketLocation", params
			}
		}
	default:
		switch r.Method {
		case http.MethodPut:
			if allowed() && r.Header.Get("x-amz-copy-source") == "" {
				return "PutObject", params
			}
		case http.MethodGet, http.MethodHead:
			if allowed("response-content-type", "response-content-language", "response-expires", "response-cache-control",
				"response-content-disposition", "response-content-encoding") {
				if r.Method == http.MethodHead {
					return "HeadObject", params
				}
				return "GetObject", params
			}
		case http.MethodDelete:
			if allowed() {
				return "DeleteObject", params
			}
		}
	}
	return "", params
}

// s3Address splits a request into bucket and key. Virtual-hosted-style
// requests name the bucket in the host (<bucket>.localhost, or
// <bucket>.s3.<region>.amazonaws.com as AWS spells it); every other host,
// an IP address in particular, means path-style: /<bucket>/<key>
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
func s3Address(r *http.Request) (bucket, key string, ok bool) {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if b := virtualHostBucket(r.Host); b != "" {
		k, err := url.PathUnescape(path)
		return b, k, err == nil
	}
	rawBucket, rawKey, _ := strings.Cut(path, "/")
	b, err := url.PathUnescape(rawBucket)
	if err != nil {
		return "", "", false
	}
	k, err := url.PathUnescape(rawKey)
	return b, k, err == nil
}

func virtualHostBucket(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if b, ok := strings.CutSuffix(host, ".localhost"); ok {
		return b
	}
	if i := strings.Index(host, ".s3."); i > 0 {
		return host[:i]
	}
	return ""
}

// s3Payload is the object bytes of a PutObject, with the trailers of an
// aws-chunked body.
type s3Payload struct {
	data     []byte
	trailers http.Header
}

// readS3Payload decodes a PutObject body and checks what S3 checks of it:
// the chunk and trailer signatures of a signed aws-chunked body,
// x-amz-decoded-content-length and Content-MD5. (A hex x-amz-content-sha256
// was checked with the request's signature, sigv4.go.)
func readS3Payload(req *wire.Request, sig *sigv4) (s3Payload, *wire.APIError) {
	h := req.HTTP.Header
	p := s3Payload{data: req.Body, trailers: http.Header{}}
	sha := h.Get("x-amz-content-sha256")
	if strings.Contains(h.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(sha, "STREAMING-") {
		body, err := decodeAWSChunked(req.Body)
		if err != nil {
			return p, wire.BadRequest("IncompleteBody", "The request body is not valid aws-chunked encoding: %v", err)
		}
		if sig != nil && (sha == streamingSigned || sha == streamingSignedTrailer) {
			if err := sig.verifyChunks(body, sha == streamingSignedTrailer); err != nil {
				return p, wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "%s", msgS3SignatureMismatch).With("Detail", err.Error())
			}
		}
		p.data, p.trailers = body.data(), body.trailers
		if n := h.Get("x-amz-decoded-content-length"); n != "" && n != strconv.Itoa(len(p.data)) {
			return p, wire.BadRequest("IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
		}
	}
	if md := h.Get("Content-MD5"); md != "" {
		want, err := base64.StdEncoding.DecodeString(md)
		if err != nil || len(want) != md5.Size {
			return p, wire.BadRequest("InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if sum := md5.Sum(p.data); !bytes.Equal(sum[:], want) {
			return p, wire.BadRequest("BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	return p, nil
}

// awsChunked is a decoded aws-chunked body: its chunks (the last one
// empty) with their signatures, and its trailers.
type awsChunked struct {
	chunks   []awsChunk
	trailers http.Header
	// trailerLines are the trailers as sent, "name:value", but for the
	// trailer signature.
	trailerLines     []string
	trailerSignature string
}

type awsChunk struct {
	data      []byte
	signature string
}

func (b *awsChunked) data() []byte {
	out := []byte{}
	for _, c := range b.chunks {
		out = append(out, c.data...)
	}
	return out
}

// decodeAWSChunked decodes the aws-chunked content encoding: chunks of
// "<hex size>[;chunk-signature=...]\r\n<data>\r\n", a last chunk of size 0,
// then trailer lines "name:value" and an empty line
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
func decodeAWSChunked(body []byte) (*awsChunked, error) {
	r := bufio.NewReader(bytes.NewReader(body))
	out := &awsChunked{trailers: http.Header{}}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, errors.New("truncated chunk header")
		}
		sizeHex, ext, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 || size > int64(len(body)) {
			return nil, fmt.Errorf("bad chunk size %q", sizeHex)
		}
		c := awsChunk{data: make([]byte, size)}
		if v, ok := strings.CutPrefix(ext, "chunk-signature="); ok {
			c.signature = v
		}
		if _, err := io.ReadFull(r, c.data); err != nil {
			return nil, errors.New("truncated chunk")
		}
		out.chunks = append(out.chunks, c)
		if size == 0 {
			break
		}
		if crlf, err := r.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return nil, errors.New("chunk not followed by CRLF")
		}
	}
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad trailer %q", line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if strings.EqualFold(name, "x-amz-trailer-signature") {
			out.trailerSignature = value
		} else {
			out.trailers.Add(name, value)
			out.trailerLines = append(out.trailerLines, strings.ToLower(name)+":"+value)
		}
		if err != nil {
			break
		}
	}
	return out, nil
}

// emptySHA256 is the hex SHA-256 of nothing.
var emptySHA256 = hexSHA256(nil)

// verifyChunks checks the signature chain of a signed aws-chunked body:
// each chunk's signature covers the previous one (the request's, for the
// first) and the chunk's hash; the trailer's covers the last chunk's and
// the trailers
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
func (v *sigv4) verifyChunks(body *awsChunked, trailer bool) error {
	prev := v.signature
	for i, c := range body.chunks {
		want := hex.EncodeToString(hmacSHA256(v.key, "AWS4-HMAC-SHA256-PAYLOAD\n"+v.amzDate+"\n"+v.scope()+"\n"+
			prev+"\n"+emptySHA256+"\n"+hexSHA256(c.data)))
		if !hmac.Equal([]byte(want), []byte(c.signature)) {
			return fmt.Errorf("the signature of chunk %d (%d bytes) does not match", i, len(c.data))
		}
		prev = want
	}
	if !trailer {
		return nil
	}
	// The trailers are canonicalised as headers are: lower-case names, in
	// order.
	lines := slices.Clone(body.trailerLines)
	slices.Sort(lines)
	canon := ""
	for _, l := range lines {
		canon += l + "\n"
	}
	want := hex.EncodeToString(hmacSHA256(v.key, "AWS4-HMAC-SHA256-TRAILER\n"+v.amzDate+"\n"+v.scope()+"\n"+prev+"\n"+hexSHA256([]byte(canon))))
	if !hmac.Equal([]byte(want), []byte(body.trailerSignature)) {
		return errors.New("the trailer signature does not match")
	}
	return nil
}

// s3ChecksumAlgorithms are the additional checksums S3 keeps
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html),
// each sent and returned base64 of its big-endian bytes in
// x-amz-checksum-<name>.
var s3ChecksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// crc64NVME is CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), the
// checksum S3 computes for objects uploaded without one.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

func s3Checksum(alg string, data []byte) string {
	var sum []byte
	switch alg {
	case "CRC32":
		sum = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	case "CRC32C":
		sum = binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	case "CRC64NVME":
		sum = binary.BigEndian.AppendUint64(nil, crc64.Checksum(data, crc64NVME))
	case "SHA1":
		s := sha1.Sum(data)
		sum = s[:]
	case "SHA256":
		s := sha256.Sum256(data)
		sum = s[:]
	}
	return base64.StdEncoding.EncodeToString(sum)
}

func checksumHeader(alg string) string { return "x-amz-checksum-" + strings.ToLower(alg) }

// objectChecksum checks the checksum a PutObject carries (in a header or
// an aws-chunked trailer) and returns the one to keep: the client's, or
// CRC64NVME when it sent none, as S3 does since December 2024.
func objectChecksum(h http.Header, p s3Payload) (alg, value string, aerr *wire.APIError) {
	for _, a := range s3ChecksumAlgorithms {
		v := h.Get(checksumHeader(a))
		if v == "" {
			v = p.trailers.Get(checksumHeader(a))
		}
		if v == "" {
			continue
		}
		if alg != "" {
			return "", "", wire.BadRequest("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		if got := s3Checksum(a, p.data); got != v {
			return "", "", wire.BadRequest("BadDigest", "The %s you specified did not match the calculated checksum.", a)
		}
		alg, value = a, v
	}
	if alg == "" {
		alg = "CRC64NVME"
		value = s3Checksum(alg, p.data)
	}
	return alg, value, nil
}
