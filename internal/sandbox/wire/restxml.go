package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// REST-XML as S3 speaks it
// (https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
// the operation comes from the method, path and query; much of an answer
// travels in headers (ETag, Last-Modified, x-amz-*); errors are a bare
// <Error> document, and answers to HEAD and 304s have no body at all.

// Responder is a REST-XML answer that writes its own status, headers and
// body. Answers that are plain XML documents need not implement it.
type Responder interface {
	Respond(w http.ResponseWriter, req *Request)
}

// S3Namespace is the XML namespace of S3's documents.
const S3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

func setS3RequestIDs(w http.ResponseWriter, req *Request) {
	w.Header().Set("x-amz-request-id", req.RequestID)
	// S3's second request ID names the host that served the call; clients
	// record it in errors (smithy's HostID), so it is there, made up.
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(req.RequestID)))
}

func writeRestXML(w http.ResponseWriter, req *Request, out any) {
	setS3RequestIDs(w, req)
	if r, ok := out.(Responder); ok {
		r.Respond(w, req)
		return
	}
	if out == nil {
		writeBody(w, "application/xml", http.StatusOK, nil)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(out); err != nil {
		writeRestXMLError(w, req, http.StatusInternalServerError, ServerError(http.StatusInternalServerError, "InternalError", "encoding response: "+err.Error()))
		return
	}
	writeBody(w, "application/xml", http.StatusOK, buf.Bytes())
}

// writeRestXMLError writes S3's error document. Fields become extra
// elements after Message (S3 adds Key, BucketName, Condition ...).
func writeRestXMLError(w http.ResponseWriter, req *Request, status int, e *APIError) {
	setS3RequestIDs(w, req)
	if status == http.StatusNotModified || (req.HTTP != nil && req.HTTP.Method == http.MethodHead) {
		// No body: clients take the code from the status (404 NotFound,
		// 412 PreconditionFailed, 304 NotModified).
		if w.Header().Get("Date") == "" {
			w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: "Error"}}
	_ = enc.EncodeToken(root)
	elem := func(name, value string) {
		_ = enc.EncodeElement(value, xml.StartElement{Name: xml.Name{Local: name}})
	}
	elem("Code", e.Code)
	elem("Message", e.Message)
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		elem(k, fmt.Sprint(e.Fields[k]))
	}
	elem("RequestId", req.RequestID)
	elem("HostId", w.Header().Get("x-amz-id-2"))
	_ = enc.EncodeToken(root.End())
	_ = enc.Flush()
	writeBody(w, "application/xml", status, buf.Bytes())
}
