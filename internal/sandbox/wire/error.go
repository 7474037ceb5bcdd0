package wire

import (
	"fmt"
	"net/http"
)

// APIError is an error as AWS reports it: an HTTP status, a code that clients
// classify on (smithy.APIError.ErrorCode), a message, and for some services
// extra members (EKS puts clusterName and nodegroupName on its errors).
type APIError struct {
	Status  int
	Code    string
	Message string
	// Server marks faults of the service (5xx), which AWS query reports with
	// <Type>Receiver</Type>.
	Server bool
	// Fields are extra members of the error shape (JSON protocols only).
	Fields map[string]any
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client-side (4xx) error.
func Errorf(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is the common 400 client error.
func BadRequest(code, format string, args ...any) *APIError {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// ServerError builds a 5xx fault.
func ServerError(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg, Server: true}
}

// With adds an extra member to a JSON error shape.
func (e *APIError) With(k string, v any) *APIError {
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[k] = v
	return e
}
