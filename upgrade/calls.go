package upgrade

import (
	"context"
	"net/http"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"k8s.io/client-go/rest"
)

// CallCount is the AWS and Kubernetes requests of a phase: AWS by
// "service.Operation" (each attempt of a retried call counts), Kubernetes
// in total (watches count once, when they open).
type CallCount struct {
	AWS        map[string]int `json:"aws"`
	Kubernetes int            `json:"kubernetes"`
}

// AWSTotal is the number of AWS requests.
func (c CallCount) AWSTotal() int {
	n := 0
	for _, v := range c.AWS {
		n += v
	}
	return n
}

// Operations lists the AWS operations called, sorted.
func (c CallCount) Operations() []string {
	var out []string
	for k := range c.AWS {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// callCounter counts requests per phase.
type callCounter struct {
	mu    sync.Mutex
	phase Phase
	by    map[Phase]*CallCount
}

func newCallCounter() *callCounter { return &callCounter{by: map[Phase]*CallCount{}} }

func (c *callCounter) setPhase(p Phase) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase = p
}

func (c *callCounter) cur() *CallCount {
	cc := c.by[c.phase]
	if cc == nil {
		cc = &CallCount{AWS: map[string]int{}}
		c.by[c.phase] = cc
	}
	return cc
}

// take returns a phase's count.
func (c *callCounter) take(p Phase) CallCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc := c.by[p]
	if cc == nil {
		return CallCount{AWS: map[string]int{}}
	}
	out := CallCount{AWS: map[string]int{}, Kubernetes: cc.Kubernetes}
	for k, v := range cc.AWS {
		out.AWS[k] = v
	}
	return out
}

// instrumentAWS counts every attempt of every AWS call made with cfg (a
// Finalize step runs once per attempt, after the retryer).
func (c *callCounter) instrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("eksbgCallCounter",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				key := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
				c.mu.Lock()
				c.cur().AWS[key]++
				c.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// instrumentKube counts the requests made with rc.
func (c *callCounter) instrumentKube(rc *rest.Config) {
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			c.mu.Lock()
			c.cur().Kubernetes++
			c.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
