// Package fake has hand-written fakes of the boundaries package upgrade
// talks to (EKS, ELBv2, EC2, CloudWatch, eksctl, Argo CD), in the style of
// karpenter-provider-aws's pkg/fake: each holds the state it serves, an
// error to return per method, and a record of the calls it took, so that
// unit tests of the upgrade's phases run in milliseconds with no binaries.
// The Kubernetes side uses client-go's own fake clientsets.
package fake

import (
	"sync"

	"github.com/aws/smithy-go"
)

// Calls records the calls a fake took, by method name, in order.
type Calls struct {
	mu  sync.Mutex
	log []string
}

// add records one call.
func (c *Calls) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, name)
}

// Count returns how many times method was called.
func (c *Calls) Count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.log {
		if m == method {
			n++
		}
	}
	return n
}

// Log returns every call in order.
func (c *Calls) Log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// Errors are errors to return per method name: the next call of that
// method returns (and consumes) the first one queued.
type Errors struct {
	mu sync.Mutex
	by map[string][]error
}

// Queue makes the next calls of method return errs, one each.
func (e *Errors) Queue(method string, errs ...error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.by == nil {
		e.by = map[string][]error{}
	}
	e.by[method] = append(e.by[method], errs...)
}

// take returns the next queued error of method, or nil.
func (e *Errors) take(method string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.by[method]
	if len(q) == 0 {
		return nil
	}
	e.by[method] = q[1:]
	return q[0]
}

// APIError is an AWS API error with the given code, as the SDK returns
// one (smithy.APIError).
func APIError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}
