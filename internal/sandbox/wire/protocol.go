package wire

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Protocol is an AWS wire protocol.
type Protocol int

// The protocols the emulator serves.
const (
	EC2Query Protocol = iota + 1
	AWSQuery
	JSON10
	JSON11
	RestJSON
	CBOR
	// RestXML is S3's protocol (restxml.go).
	RestXML
)

func (p Protocol) String() string {
	switch p {
	case EC2Query:
		return "ec2-query"
	case AWSQuery:
		return "aws-query"
	case JSON10:
		return "aws-json-1.0"
	case JSON11:
		return "aws-json-1.1"
	case RestJSON:
		return "rest-json"
	case CBOR:
		return "rpc-v2-cbor"
	case RestXML:
		return "rest-xml"
	}
	return "unknown"
}

// Service signing names, as they appear in the SigV4 credential scope.
const (
	ServiceEC2        = "ec2"
	ServiceEKS        = "eks"
	ServiceELBv2      = "elasticloadbalancing"
	ServiceQuotas     = "servicequotas"
	ServiceCloudWatch = "monitoring"
	ServiceSTS        = "sts"
	ServiceS3         = "s3"
)

// Service API versions and XML namespaces.
var (
	apiVersions = map[string]string{
		"2016-11-15": ServiceEC2,
		"2015-12-01": ServiceELBv2,
		"2011-06-15": ServiceSTS,
		"2010-08-01": ServiceCloudWatch,
	}
	xmlNamespaces = map[string]string{
		ServiceEC2:        "http://ec2.amazonaws.com/doc/2016-11-15/",
		ServiceELBv2:      "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
		ServiceSTS:        "https://sts.amazonaws.com/doc/2011-06-15/",
		ServiceCloudWatch: "http://monitoring.amazonaws.com/doc/2010-08-01/",
	}
	jsonTargets = map[string]string{
		"ServiceQuotasV20190624":        ServiceQuotas,
		"GraniteServiceVersion20100801": ServiceCloudWatch,
	}
)

// Request is one decoded API call.
type Request struct {
	Service   string
	Operation string
	Protocol  Protocol
	// Form holds the parameters of query-protocol requests.
	Form Form
	// Body is the raw body of JSON and CBOR requests.
	Body []byte
	// Payload is the request body as received, whatever the protocol: the
	// bytes a SigV4 signature's payload hash covers.
	Payload []byte
	// AccessKeyID and Region come from the SigV4 credential scope: the
	// Authorization header's, or a presigned URL's X-Amz-Credential (""
	// when unsigned).
	AccessKeyID string
	Region      string
	// SignedService is the service the credential scope names. It differs
	// from Service when the request's protocol says it is for another
	// service (an X-Amz-Target, an API Version, an EKS path): AWS refuses
	// such a signature, and so does the emulator (emulator/sigv4.go).
	SignedService string
	RequestID     string
	HTTP          *http.Request
	// QueryCompatible is set for RPC v2 CBOR calls of services that used to
	// speak AWS query: their errors carry the query code in a header.
	QueryCompatible bool
}

// maxBody bounds request bodies; no call the emulator serves comes near it.
const maxBody = 8 << 20

// Decode identifies the service, protocol and (for RPC protocols) operation
// of an HTTP request. REST-JSON requests leave Operation empty: their service
// routes on method and path.
func Decode(r *http.Request) (*Request, *APIError) {
	req := &Request{HTTP: r, RequestID: NewRequestID()}
	scope := r.Header.Get("Authorization")
	if scope == "" {
		// A presigned URL carries its credential in the query string.
		scope = "Credential=" + queryParam(r.URL.RawQuery, "X-Amz-Credential")
	}
	req.AccessKeyID, req.Region, req.Service = parseCredentialScope(scope)
	req.SignedService = req.Service
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return req, BadRequest("MalformedInput", "reading request body: %v", err)
	}
	if len(body) > maxBody {
		return req, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body exceeds %d bytes", maxBody)
	}
	req.Payload = body
	// The service the protocol names, where it names one, wins over the
	// credential scope's: a request for EC2 signed for STS is an EC2 call
	// with a bad signature, as at EC2's endpoint.
	implied := func(svc string) {
		if svc != "" {
			req.Service = svc
		}
	}
	ct := r.Header.Get("Content-Type")
	target := r.Header.Get("X-Amz-Target")
	switch {
	case req.Service == ServiceS3:
		// S3 routes on method, host, path and query, and its bodies are
		// the objects themselves, whatever their Content-Type.
		req.Protocol, req.Body = RestXML, body
	case strings.HasPrefix(r.URL.Path, "/service/") && strings.Contains(r.URL.Path, "/operation/"):
		// RPC v2 CBOR: /service/{ServiceName}/operation/{Operation}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) != 4 {
			return req, BadRequest("UnknownOperationException", "malformed RPC v2 path %q", r.URL.Path)
		}
		implied(jsonTargets[parts[1]])
		req.Protocol, req.Operation, req.Body = CBOR, parts[3], body
		req.QueryCompatible = r.Header.Get("X-Amzn-Query-Mode") == "true" || req.Service == ServiceCloudWatch
	case target != "":
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return req, BadRequest("UnknownOperationException", "malformed X-Amz-Target %q", target)
		}
		implied(jsonTargets[prefix])
		req.Protocol, req.Operation, req.Body = JSON11, op, body
		if strings.Contains(ct, "1.0") {
			req.Protocol = JSON10
		}
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded") || (r.Method == http.MethodGet && r.URL.Query().Get("Action") != ""):
		vals := r.URL.Query()
		if r.Method == http.MethodPost {
			v, err := url.ParseQuery(string(body))
			if err != nil {
				return req, BadRequest("MalformedQueryString", "parsing form body: %v", err)
			}
			vals = v
		}
		req.Form = NewForm(vals)
		req.Operation = vals.Get("Action")
		implied(apiVersions[vals.Get("Version")])
		req.Protocol = AWSQuery
		if req.Service == ServiceEC2 {
			req.Protocol = EC2Query
		}
		if req.Operation == "" {
			return req, BadRequest("MissingAction", "the request must contain the parameter Action")
		}
	default:
		if looksLikeEKSPath(r.URL.Path) {
			implied(ServiceEKS)
		}
		req.Protocol, req.Body = RestJSON, body
	}
	if req.Service == "" {
		return req, BadRequest("UnknownService", "cannot tell which AWS service this request is for (unsigned request without a recognisable protocol)")
	}
	return req, nil
}

func looksLikeEKSPath(p string) bool {
	for _, s := range []string{"/clusters", "/addons", "/cluster-versions"} {
		if strings.HasPrefix(p, s) {
			return true
		}
	}
	return false
}

// queryParam is the first value of a query parameter, "" when absent or
// malformed.
func queryParam(rawQuery, name string) string {
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if k != name {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return ""
	}
	return ""
}

// parseCredentialScope reads "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, ...".
func parseCredentialScope(auth string) (akid, region, service string) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", "", ""
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// NewRequestID returns an AWS-style request ID (a UUID).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// EC2Meta is embedded first in every EC2 response body so the response
// carries its requestId element, as EC2's do.
type EC2Meta struct {
	RequestID string `xml:"requestId"`
}

func (m *EC2Meta) setRequestID(id string) { m.RequestID = id }

type requestIDSetter interface{ setRequestID(string) }

// StatusCoder lets a REST-JSON response choose its HTTP status.
type StatusCoder interface{ HTTPStatus() int }

// WriteResponse writes out, a service's response value, in req's protocol.
// XML protocols encode out with its xml tags; JSON protocols with its json
// tags; CBOR with its json tags (see ToCBOR). A nil out is an empty result.
func WriteResponse(w http.ResponseWriter, req *Request, out any) {
	w.Header().Set("X-Amzn-RequestId", req.RequestID)
	switch req.Protocol {
	case EC2Query:
		if s, ok := out.(requestIDSetter); ok {
			s.setRequestID(req.RequestID)
		}
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(&buf)
		start := xml.StartElement{Name: xml.Name{Local: req.Operation + "Response"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlNamespaces[req.Service]}}}
		if out == nil {
			out = &EC2Meta{RequestID: req.RequestID}
		}
		if err := enc.EncodeElement(out, start); err != nil {
			writeInternal(w, req, err)
			return
		}
		writeBody(w, "text/xml;charset=UTF-8", http.StatusOK, buf.Bytes())
	case AWSQuery:
		var buf bytes.Buffer
		enc := xml.NewEncoder(&buf)
		root := xml.StartElement{Name: xml.Name{Local: req.Operation + "Response"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlNamespaces[req.Service]}}}
		err := enc.EncodeToken(root)
		if err == nil {
			result := xml.StartElement{Name: xml.Name{Local: req.Operation + "Result"}}
			if out == nil {
				err = enc.EncodeElement(struct{}{}, result)
			} else {
				err = enc.EncodeElement(out, result)
			}
		}
		if err == nil {
			err = enc.EncodeElement(struct {
				RequestID string `xml:"RequestId"`
			}{req.RequestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
		}
		if err == nil {
			err = enc.EncodeToken(root.End())
		}
		if err == nil {
			err = enc.Flush()
		}
		if err != nil {
			writeInternal(w, req, err)
			return
		}
		writeBody(w, "text/xml", http.StatusOK, buf.Bytes())
	case JSON10, JSON11, RestJSON:
		if out == nil {
			out = struct{}{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			writeInternal(w, req, err)
			return
		}
		status := http.StatusOK
		if s, ok := out.(StatusCoder); ok {
			status = s.HTTPStatus()
		}
		writeBody(w, jsonContentType(req.Protocol), status, b)
	case CBOR:
		if out == nil {
			out = struct{}{}
		}
		b, err := MarshalCBOR(out)
		if err != nil {
			writeInternal(w, req, err)
			return
		}
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		writeBody(w, "application/cbor", http.StatusOK, b)
	case RestXML:
		writeRestXML(w, req, out)
	}
}

func jsonContentType(p Protocol) string {
	switch p {
	case JSON10:
		return "application/x-amz-json-1.0"
	case JSON11:
		return "application/x-amz-json-1.1"
	}
	return "application/json"
}

// writeBody writes an answer. Its Date header is the server's time, which
// SDKs compare with their own to correct clock skew; a Date already set
// (the emulator sets its signing clock's) is kept.
func writeBody(w http.ResponseWriter, ct string, status int, b []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	if w.Header().Get("Date") == "" {
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeInternal(w http.ResponseWriter, req *Request, err error) {
	WriteError(w, req, ServerError(http.StatusInternalServerError, "InternalFailure", "encoding response: "+err.Error()))
}

// WriteError writes e in the error shape of req's protocol.
func WriteError(w http.ResponseWriter, req *Request, e *APIError) {
	w.Header().Set("X-Amzn-RequestId", req.RequestID)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	switch req.Protocol {
	case EC2Query:
		type errItem struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		_ = xml.NewEncoder(&buf).Encode(struct {
			XMLName   xml.Name  `xml:"Response"`
			Errors    []errItem `xml:"Errors>Error"`
			RequestID string    `xml:"RequestID"`
		}{Errors: []errItem{{e.Code, e.Message}}, RequestID: req.RequestID})
		writeBody(w, "text/xml;charset=UTF-8", status, buf.Bytes())
	case AWSQuery, 0:
		typ := "Sender"
		if e.Server {
			typ = "Receiver"
		}
		var buf bytes.Buffer
		_ = xml.NewEncoder(&buf).Encode(struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Xmlns   string   `xml:"xmlns,attr,omitempty"`
			Error   struct {
				Type    string `xml:"Type"`
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
			RequestID string `xml:"RequestId"`
		}{Xmlns: xmlNamespaces[req.Service], Error: struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}{typ, e.Code, e.Message}, RequestID: req.RequestID})
		writeBody(w, "text/xml", status, buf.Bytes())
	case JSON10, JSON11, RestJSON:
		body := map[string]any{}
		for k, v := range e.Fields {
			body[k] = v
		}
		body["message"] = e.Message
		if req.Protocol != RestJSON {
			body["__type"] = e.Code
		}
		b, _ := json.Marshal(body)
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		writeBody(w, jsonContentType(req.Protocol), status, b)
	case CBOR:
		body := map[string]any{"__type": e.Code, "message": e.Message}
		for k, v := range e.Fields {
			body[k] = v
		}
		b, _ := MarshalCBOR(body)
		if req.QueryCompatible {
			fault := "Sender"
			if e.Server {
				fault = "Receiver"
			}
			w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		writeBody(w, "application/cbor", status, b)
	case RestXML:
		writeRestXMLError(w, req, status, e)
	}
}

// DecodeJSON decodes a JSON request body into in, refusing malformed input
// with AWS's SerializationException.
func DecodeJSON(req *Request, in any) *APIError {
	body := req.Body
	if req.Protocol == CBOR {
		var err error
		body, err = CBORToJSON(req.Body)
		if err != nil {
			return BadRequest("SerializationException", "decoding CBOR body: %v", err)
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return BadRequest("SerializationException", "decoding request body: %v", err)
	}
	return nil
}
