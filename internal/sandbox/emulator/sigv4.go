package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// SigV4 verification, as AWS does it
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html):
// the emulator rebuilds the canonical request and the string to sign from
// what it received, derives the signing key from the secret of the
// credential the scope names, and compares signatures in constant time.
// Header-signed requests (Authorization: AWS4-HMAC-SHA256 ...) and
// presigned URLs (X-Amz-Signature in the query) are both verified, and so
// are the chunk signatures of S3's signed aws-chunked bodies (s3_request.go).
//
// Time is judged by Options.SigningClock, the clock the clients sign with
// (the real time by default), not by the simulated clock: tests run the
// world on fake clocks, and POST /_sandbox/clock moves simulated AWS state,
// neither of which the clients' clocks follow. Response Date headers carry
// the same clock, so SDKs that correct clock skew (aws-sdk-go-v2 does) see
// the emulator's time as they would AWS's.

const (
	sigv4Algorithm  = "AWS4-HMAC-SHA256"
	sigv4Terminator = "aws4_request"
	amzDateFormat   = "20060102T150405Z"

	// Payload hashes S3 accepts besides a hex SHA-256
	// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	// maxPresignExpires is the longest X-Amz-Expires AWS accepts: 7 days.
	maxPresignExpires = 7 * 24 * time.Hour
)

// skewWindow is how far a request's X-Amz-Date may be from the service's
// clock. AWS's answers say so: S3's RequestTimeTooSkewed carries
// MaxAllowedSkewMilliseconds 900000, STS's "Signature expired: ... (... -
// 15 min.)", EC2 documents RequestExpired at 15 minutes
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
// Elastic Load Balancing, the JSON and REST-JSON services answer "(... - 5
// min.)".
func skewWindow(service string) time.Duration {
	switch service {
	case wire.ServiceS3, wire.ServiceSTS, wire.ServiceEC2:
		return 15 * time.Minute
	}
	return 5 * time.Minute
}

// sigv4 is a request's parsed signature.
type sigv4 struct {
	presigned     bool
	accessKeyID   string
	scopeDate     string // yyyymmdd
	region        string
	service       string
	signedHeaders string // as sent: lower-case names joined by ';'
	signature     string
	amzDate       string // as sent, the string to sign's second line
	date          time.Time
	expires       time.Duration // presigned URLs only
	hasExpires    bool
	sessionToken  string
	// payloadHash is what the canonical request carries: the client's
	// x-amz-content-sha256 for S3, else the SHA-256 of the body (or
	// UNSIGNED-PAYLOAD for presigned S3 URLs).
	payloadHash string
	// key is the signing key, set once the signature is verified, for
	// the chunk signatures of a streaming body.
	key []byte
}

func (v *sigv4) scope() string {
	return v.scopeDate + "/" + v.region + "/" + v.service + "/" + sigv4Terminator
}

// authKind is why a request is refused; authError.render turns it into
// the error each service answers with.
type authKind int

const (
	authMissing            authKind = iota + 1 // no signature at all
	authMalformed                              // a signature AWS cannot parse
	authUnknownKey                             // an access key nobody issued
	authBadToken                               // a session token the credential does not have
	authWrongRegion                            // scoped to another region
	authWrongService                           // scoped to another service
	authBadSignature                           // does not match
	authSkewed                                 // X-Amz-Date too far from now
	authExpired                                // a presigned URL past X-Amz-Expires
	authPayloadMismatch                        // S3: the body is not what x-amz-content-sha256 says
	authMissingPayloadHash                     // S3: no x-amz-content-sha256
	authBadPayloadHash                         // S3: an x-amz-content-sha256 S3 does not know
	authHeadersNotSigned                       // S3: x-amz-* headers outside the signature
)

// authError is a refusal before it is rendered for the service.
type authError struct {
	kind authKind
	msg  string
	// query is set for the refusal of a presigned URL (S3 names its
	// errors for those apart).
	query  bool
	fields map[string]any
}

func refuse(kind authKind, format string, args ...any) *authError {
	return &authError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func (e *authError) with(k string, v any) *authError {
	if e.fields == nil {
		e.fields = map[string]any{}
	}
	e.fields[k] = v
	return e
}

// The messages AWS sends with a signature that does not match.
const (
	msgSignatureMismatch   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgS3SignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgEC2AuthFailure      = "AWS was not able to validate the provided access credentials"
)

// signatureError is the error a service answers a bad signature with:
// SignatureDoesNotMatch (403) for the query protocols and S3,
// InvalidSignatureException for the JSON protocols (400 for AWS JSON, as
// Coral services send it; 403 for REST-JSON), EC2's AuthFailure (401).
func signatureError(service, msg string) *wire.APIError {
	switch service {
	case wire.ServiceEC2:
		return wire.Errorf(http.StatusUnauthorized, "AuthFailure", "%s", msgEC2AuthFailure)
	case wire.ServiceEKS:
		return wire.Errorf(http.StatusForbidden, "InvalidSignatureException", "%s", msg)
	case wire.ServiceQuotas:
		return wire.Errorf(http.StatusBadRequest, "InvalidSignatureException", "%s", msg)
	}
	return wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "%s", msg)
}

// render turns a refusal into the error req's service answers with.
func (e *authError) render(req *wire.Request) *wire.APIError {
	svc := req.Service
	if svc == wire.ServiceS3 {
		return e.renderS3()
	}
	var out *wire.APIError
	switch e.kind {
	case authMissing:
		out = authErrorFor(req, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case authUnknownKey, authBadToken:
		out = authErrorFor(req, "InvalidClientTokenId", "The security token included in the request is invalid.")
	case authMalformed:
		if svc == wire.ServiceEC2 {
			out = wire.BadRequest("IncompleteSignature", "%s", e.msg)
		} else {
			out = wire.Errorf(http.StatusForbidden, "IncompleteSignature", "%s", e.msg)
		}
	case authSkewed, authExpired:
		if svc == wire.ServiceEC2 {
			out = wire.BadRequest("RequestExpired", "Request has expired.")
		} else {
			out = signatureError(svc, e.msg)
		}
	case authBadSignature:
		msg := e.msg
		if msg == "" {
			msg = msgSignatureMismatch
		}
		out = signatureError(svc, msg)
	default: // wrong region or service
		out = signatureError(svc, e.msg)
	}
	return out
}

// renderS3 is S3's error for a refusal
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
func (e *authError) renderS3() *wire.APIError {
	var out *wire.APIError
	switch e.kind {
	case authMissing:
		out = wire.Errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	case authUnknownKey:
		out = wire.Errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case authBadToken:
		out = wire.BadRequest("InvalidToken", "The provided token is malformed or otherwise invalid.")
	case authMalformed, authWrongRegion, authWrongService:
		code := "AuthorizationHeaderMalformed"
		if e.query {
			code = "AuthorizationQueryParametersError"
		}
		out = wire.BadRequest(code, "%s", e.msg)
	case authHeadersNotSigned:
		out = wire.Errorf(http.StatusForbidden, "AccessDenied", "%s", e.msg)
	case authSkewed:
		out = wire.Errorf(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	case authExpired:
		out = wire.Errorf(http.StatusForbidden, "AccessDenied", "Request has expired")
	case authBadSignature:
		msg := e.msg
		if msg == "" {
			msg = msgS3SignatureMismatch
		}
		out = wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", "%s", msg)
	case authPayloadMismatch:
		out = wire.BadRequest("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	case authMissingPayloadHash:
		out = wire.BadRequest("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	case authBadPayloadHash:
		out = wire.BadRequest("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.")
	default:
		out = wire.Errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	for k, v := range e.fields {
		out.With(k, v)
	}
	return out
}

// authErrorFor is a service's error for a missing or unknown credential.
func authErrorFor(req *wire.Request, code, msg string) *wire.APIError {
	switch req.Service {
	case wire.ServiceEC2:
		return wire.Errorf(http.StatusUnauthorized, "AuthFailure", "%s", msgEC2AuthFailure)
	case wire.ServiceEKS, wire.ServiceQuotas:
		return wire.Errorf(http.StatusForbidden, "UnrecognizedClientException", "%s", msg)
	}
	return wire.Errorf(http.StatusForbidden, code, "%s", msg)
}

// parseSigV4 reads a request's signature: the Authorization header, or
// the X-Amz-* parameters of a presigned URL. It returns nil and no error
// for an unsigned request.
func parseSigV4(r *http.Request) (*sigv4, *authError) {
	auth := r.Header.Get("Authorization")
	query := rawQueryParams(r.URL.RawQuery)
	_, presigned := query["X-Amz-Signature"]
	_, presignCred := query["X-Amz-Credential"]
	switch {
	case auth != "" && (presigned || presignCred):
		return nil, refuse(authMalformed, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case auth != "":
		return parseAuthorizationHeader(r, auth)
	case presigned || presignCred:
		v, err := parsePresigned(query)
		if err != nil {
			err.query = true
		}
		return v, err
	}
	return nil, nil
}

// parseAuthorizationHeader reads "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=<64 hex digits>".
func parseAuthorizationHeader(r *http.Request, auth string) (*sigv4, *authError) {
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != sigv4Algorithm {
		return nil, refuse(authMalformed, "Unsupported authorization type %q: the sandbox verifies %s (SigV4) only", alg, sigv4Algorithm)
	}
	parts := map[string]string{}
	for field := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return nil, refuse(authMalformed, "Authorization header requires each component to be of the form key=value: %q", field)
		}
		parts[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if parts[k] == "" {
			return nil, refuse(authMalformed, "Authorization header requires '%s' parameter. Authorization=%s", k, auth)
		}
	}
	v := &sigv4{signedHeaders: parts["SignedHeaders"], signature: parts["Signature"]}
	if err := v.setCredential(parts["Credential"], false); err != nil {
		return nil, err
	}
	v.amzDate = r.Header.Get("X-Amz-Date")
	if v.amzDate == "" {
		// SigV4 allows the Date header instead, rewritten in ISO 8601 basic.
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return nil, refuse(authMalformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", auth)
		}
		v.amzDate = d.UTC().Format(amzDateFormat)
	}
	v.sessionToken = r.Header.Get("X-Amz-Security-Token")
	return v, v.finish()
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
func parsePresigned(q map[string][]string) (*sigv4, *authError) {
	get := func(k string) string {
		if vs := q[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if get(k) == "" {
			return nil, refuse(authMalformed, "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders are required query parameters for a presigned request; %s is missing", k)
		}
	}
	if get("X-Amz-Algorithm") != sigv4Algorithm {
		return nil, refuse(authMalformed, "X-Amz-Algorithm only supports %q", sigv4Algorithm)
	}
	v := &sigv4{presigned: true, signedHeaders: get("X-Amz-SignedHeaders"), signature: get("X-Amz-Signature"),
		amzDate: get("X-Amz-Date"), sessionToken: get("X-Amz-Security-Token")}
	if err := v.setCredential(get("X-Amz-Credential"), true); err != nil {
		return nil, err
	}
	if e := get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		switch {
		case err != nil:
			return nil, refuse(authMalformed, "X-Amz-Expires should be a number")
		case n < 0:
			return nil, refuse(authMalformed, "X-Amz-Expires must be non-negative")
		case time.Duration(n)*time.Second > maxPresignExpires:
			return nil, refuse(authMalformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		v.expires = time.Duration(n) * time.Second
		v.hasExpires = true
	}
	return v, v.finish()
}

// setCredential reads AKID/yyyymmdd/region/service/aws4_request.
func (v *sigv4) setCredential(cred string, presigned bool) *authError {
	prefix := "Authorization header's Credential is malformed"
	if presigned {
		prefix = "Error parsing the X-Amz-Credential parameter"
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return refuse(authMalformed, "%s; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", prefix)
	}
	if parts[4] != sigv4Terminator {
		return refuse(authMalformed, "%s; incorrect terminal %q. This endpoint uses %q.", prefix, parts[4], sigv4Terminator)
	}
	if _, err := time.Parse("20060102", parts[1]); err != nil {
		return refuse(authMalformed, "%s; incorrect date format %q. This date in the credential must be in the format \"yyyyMMdd\".", prefix, parts[1])
	}
	v.accessKeyID, v.scopeDate, v.region, v.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// finish checks what the parsed fields must satisfy together.
func (v *sigv4) finish() *authError {
	d, err := time.Parse(amzDateFormat, v.amzDate)
	if err != nil {
		return refuse(authMalformed, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got %q", v.amzDate)
	}
	v.date = d
	if v.scopeDate != v.amzDate[:8] {
		return refuse(authBadSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			v.scopeDate, v.amzDate[:8], v.amzDate)
	}
	if sig, err := hex.DecodeString(v.signature); err != nil || len(sig) != sha256.Size {
		return refuse(authBadSignature, "the signature is not 64 hexadecimal digits")
	}
	headers := strings.Split(v.signedHeaders, ";")
	if !slices.Contains(headers, "host") {
		return refuse(authMalformed, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	for i, h := range headers {
		if h == "" || h != strings.ToLower(h) || (i > 0 && headers[i-1] >= h) {
			return refuse(authMalformed, "SignedHeaders must be lower-case header names, sorted and separated by ';': %q", v.signedHeaders)
		}
	}
	return nil
}

// rawQueryParams splits a raw query string into decoded keys and values,
// keeping the order of repeated keys. Undecodable pairs are kept raw: the
// signature check then fails on them, as at AWS.
func rawQueryParams(raw string) map[string][]string {
	out := map[string][]string{}
	if raw == "" {
		return out
	}
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		out[k] = append(out[k], v)
	}
	return out
}

// uriEncode is SigV4's URI encoding: every byte but the unreserved
// characters A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex), '/' too
// unless keepSlash.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// canonicalURI is the path part of the canonical request. S3 encodes the
// decoded path once; every other service encodes the path as sent again
// (so %2F becomes %252F), as the SDKs sign it.
func canonicalURI(r *http.Request, service string) (string, error) {
	raw := r.RequestURI
	if raw == "" || !strings.HasPrefix(raw, "/") {
		// An absolute-form request target, or a request made in-process.
		raw = r.URL.EscapedPath()
	} else if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if raw == "" {
		raw = "/"
	}
	if service != wire.ServiceS3 {
		return uriEncode(raw, true), nil
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		return "", err
	}
	return uriEncode(p, true), nil
}

// canonicalQuery is the sorted, encoded query string, without the
// signature of a presigned URL.
func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range rawQueryParams(raw) {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			params = append(params, kv{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// canonicalHeaders lists the signed headers as "name:value\n", values
// trimmed, runs of spaces collapsed and repeated headers joined with ','.
func canonicalHeaders(r *http.Request, signed string) string {
	var b strings.Builder
	for name := range strings.SplitSeq(signed, ";") {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(strings.ReplaceAll(v, "\t", " ")), " ")
		}
		b.WriteString(name + ":" + strings.Join(values, ",") + "\n")
	}
	return b.String()
}

// canonicalRequest builds the canonical request the signature covers.
func (v *sigv4) canonicalRequest(r *http.Request, service string) (string, error) {
	uri, err := canonicalURI(r, service)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{r.Method, uri, canonicalQuery(r.URL.RawQuery, v.presigned),
		canonicalHeaders(r, v.signedHeaders), v.signedHeaders, v.payloadHash}, "\n"), nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signingKey derives the key of a secret for the scope.
func (v *sigv4) signingKey(secret string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), v.scopeDate)
	k = hmacSHA256(k, v.region)
	k = hmacSHA256(k, v.service)
	return hmacSHA256(k, sigv4Terminator)
}

// stringToSign is the string the signature is the HMAC of.
func (v *sigv4) stringToSign(canonical string) string {
	return sigv4Algorithm + "\n" + v.amzDate + "\n" + v.scope() + "\n" + hexSHA256([]byte(canonical))
}

// choosePayloadHash sets the payload hash the canonical request carries.
// S3 takes the client's x-amz-content-sha256 (required on header-signed
// requests, UNSIGNED-PAYLOAD by default on presigned ones); every other
// service hashes the body it received, so a body changed after signing, or
// signed as UNSIGNED-PAYLOAD, fails the signature.
func (v *sigv4) choosePayloadHash(req *wire.Request) *authError {
	h := req.HTTP.Header.Get("X-Amz-Content-Sha256")
	if req.Service != wire.ServiceS3 {
		v.payloadHash = hexSHA256(req.Payload)
		return nil
	}
	switch {
	case h == "" && v.presigned:
		v.payloadHash = unsignedPayload
	case h == "":
		return refuse(authMissingPayloadHash, "missing x-amz-content-sha256")
	case h == unsignedPayload, h == streamingSigned, h == streamingSignedTrailer, h == streamingUnsignedTrailer:
		v.payloadHash = h
	default:
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return refuse(authBadPayloadHash, "x-amz-content-sha256 %q is not a payload hash S3 knows", h)
		}
		v.payloadHash = h
	}
	return nil
}

// checkTime refuses a request signed too long ago or too far ahead, and a
// presigned URL past its X-Amz-Expires. STS honours a presigned
// GetCallerIdentity for its whole window whatever X-Amz-Expires says (the
// EKS tokens rely on it: see ekstoken.Validity).
func (v *sigv4) checkTime(service string, now time.Time) *authError {
	window := skewWindow(service)
	const f = amzDateFormat
	if v.presigned && service == wire.ServiceS3 && !v.hasExpires {
		return refuse(authMalformed, "X-Amz-Expires is a required query parameter of a presigned S3 URL")
	}
	if v.presigned && v.hasExpires && service != wire.ServiceSTS {
		if exp := v.date.Add(v.expires); now.After(exp) {
			return refuse(authExpired, "Signature expired: %s is now earlier than %s (%s - %d sec.)",
				exp.UTC().Format(f), now.UTC().Format(f), now.UTC().Format(f), int(v.expires.Seconds())).
				with("X-Amz-Expires", strconv.Itoa(int(v.expires.Seconds()))).
				with("Expires", exp.UTC().Format(time.RFC3339)).with("ServerTime", now.UTC().Format(time.RFC3339))
		}
		if v.date.After(now.Add(window)) {
			return v.skewed(now, window)
		}
		return nil
	}
	if v.date.Before(now.Add(-window)) || v.date.After(now.Add(window)) {
		return v.skewed(now, window)
	}
	return nil
}

func (v *sigv4) skewed(now time.Time, window time.Duration) *authError {
	const f = amzDateFormat
	mins := int(window.Minutes())
	var e *authError
	if v.date.Before(now) {
		e = refuse(authSkewed, "Signature expired: %s is now earlier than %s (%s - %d min.)",
			v.amzDate, now.Add(-window).UTC().Format(f), now.UTC().Format(f), mins)
	} else {
		e = refuse(authSkewed, "Signature not yet current: %s is still later than %s (%s + %d min.)",
			v.amzDate, now.Add(window).UTC().Format(f), now.UTC().Format(f), mins)
	}
	return e.with("RequestTime", v.amzDate).with("ServerTime", now.UTC().Format(time.RFC3339)).
		with("MaxAllowedSkewMilliseconds", strconv.FormatInt(window.Milliseconds(), 10))
}

// verify checks the signature against secret. On success it keeps the
// signing key for the chunks of a streaming body.
func (v *sigv4) verify(req *wire.Request, secret string) *authError {
	canonical, err := v.canonicalRequest(req.HTTP, req.Service)
	if err != nil {
		return refuse(authBadSignature, "the request path is not valid percent-encoding: %v", err)
	}
	key := v.signingKey(secret)
	sts := v.stringToSign(canonical)
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(v.signature)) {
		e := &authError{kind: authBadSignature} // AWS's message

		if req.Service == wire.ServiceS3 {
			// S3 tells the client what it signed, to debug with.
			e.with("AWSAccessKeyId", v.accessKeyID).with("StringToSign", sts).
				with("SignatureProvided", v.signature).with("CanonicalRequest", canonical)
		}
		return e
	}
	v.key = key
	return nil
}

// checkS3Headers refuses x-amz-* headers an S3 request carries unsigned,
// as S3 does: they change what the request does.
func (v *sigv4) checkS3Headers(r *http.Request) *authError {
	if v.presigned {
		return nil
	}
	signed := strings.Split(v.signedHeaders, ";")
	var unsigned []string
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") && !slices.Contains(signed, l) {
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) == 0 {
		return nil
	}
	sort.Strings(unsigned)
	return refuse(authHeadersNotSigned, "There were headers present in the request which were not signed").
		with("HeadersNotSigned", strings.Join(unsigned, ", "))
}
