package emulator

import (
	"bufio"
	"bytes"
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
			if k != "x-id" && !slices.Contains(keys, k) {
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

// readS3Payload decodes a PutObject body and checks the integrity headers
// S3 checks: Content-MD5, a hex x-amz-content-sha256 and
// x-amz-decoded-content-length.
func readS3Payload(req *wire.Request) (s3Payload, *wire.APIError) {
	h := req.HTTP.Header
	p := s3Payload{data: req.Body, trailers: http.Header{}}
	sha := h.Get("x-amz-content-sha256")
	if strings.Contains(h.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(sha, "STREAMING-") {
		data, trailers, err := decodeAWSChunked(req.Body)
		if err != nil {
			return p, wire.BadRequest("IncompleteBody", "The request body is not valid aws-chunked encoding: %v", err)
		}
		p.data, p.trailers = data, trailers
		if n := h.Get("x-amz-decoded-content-length"); n != "" && n != strconv.Itoa(len(data)) {
			return p, wire.BadRequest("IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
		}
	} else if len(sha) == 64 {
		if sum := sha256.Sum256(p.data); hex.EncodeToString(sum[:]) != strings.ToLower(sha) {
			return p, wire.BadRequest("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
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

// decodeAWSChunked decodes the aws-chunked content encoding: chunks of
// "<hex size>[;chunk-signature=...]\r\n<data>\r\n", a last chunk of size 0,
// then trailer lines "name:value" and an empty line
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
// Chunk and trailer signatures are not verified, as no signature is.
func decodeAWSChunked(body []byte) ([]byte, http.Header, error) {
	r := bufio.NewReader(bytes.NewReader(body))
	var data []byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, errors.New("truncated chunk header")
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 || size > int64(len(body)) {
			return nil, nil, fmt.Errorf("bad chunk size %q", sizeHex)
		}
		if size == 0 {
			break
		}
		chunk := make([]byte, size)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, nil, errors.New("truncated chunk")
		}
		data = append(data, chunk...)
		if crlf, err := r.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return nil, nil, errors.New("chunk not followed by CRLF")
		}
	}
	trailers := http.Header{}
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, fmt.Errorf("bad trailer %q", line)
		}
		trailers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		if err != nil {
			break
		}
	}
	if data == nil {
		data = []byte{}
	}
	return data, trailers, nil
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
